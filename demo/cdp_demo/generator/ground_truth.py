"""Planted traps and the ground-truth files the benchmarks grade against."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from cdp_demo.generator import names as N
from cdp_demo.generator import writers as W
from cdp_demo.generator.context import (
    PLACEHOLDER_EMAILS,
    PLACEHOLDER_PHONES,
    Ctx,
)


def _digits(values: np.ndarray) -> pd.Series:
    return pd.Series(values, dtype=object).astype("string").str.replace(r"\D", "", regex=True)


def build_traps(ctx: Ctx, stores: pd.DataFrame) -> pd.DataFrame:
    P = ctx.P
    seen = pd.concat(ctx.seen, ignore_index=True)
    pid = P["person_id"].to_numpy()
    real = seen["pidx"].to_numpy() >= 0
    parts = []

    def add(trap: str, mask) -> None:
        m = np.asarray(mask, dtype=bool)
        sub = seen[m]
        parts.append(
            pd.DataFrame(
                {
                    "trap_type": trap,
                    "source_system": sub["source_system"].to_numpy(),
                    "source_key": sub["source_key"].to_numpy(),
                    "person_id": np.where(
                        sub["pidx"].to_numpy() >= 0,
                        pid[np.maximum(sub["pidx"].to_numpy(), 0)],
                        "TEST",
                    ),
                }
            )
        )

    email = pd.Series(seen["email"], dtype=object).astype("string").str.strip().str.lower()
    add("placeholder_email", email.isin(PLACEHOLDER_EMAILS).fillna(False).to_numpy())
    add("generic_store_email", email.isin(stores["generic_email"]).fillna(False).to_numpy())
    digits = _digits(seen["phone"].to_numpy())
    add("placeholder_phone", digits.isin(PLACEHOLDER_PHONES).fillna(False).to_numpy())
    pp = np.maximum(seen["pidx"].to_numpy(), 0)
    land = pd.Series(P["landline"].to_numpy()[pp], dtype=object).astype("string")
    shared_phone = (
        real & land.notna().to_numpy() & (digits.str.slice(-9) == land).fillna(False).to_numpy()
    )
    add("shared_household_phone", shared_phone)
    # household addresses: records at the household address of a household with 2+ persons seen
    hh = P["household_id"].to_numpy()
    persons_seen = np.unique(seen["pidx"].to_numpy()[real])
    hh_seen = np.bincount(hh[persons_seen], minlength=hh.max() + 1)
    street_true = P["street"].to_numpy()[pp]
    at_home = (
        real
        & (
            pd.Series(seen["street"], dtype=object) == pd.Series(street_true, dtype=object)
        ).to_numpy()
    )
    add("shared_household_address", at_home & (hh_seen[hh[pp]] >= 2))
    # homonyms: the planted pairs (same first and last name, same gender, different cities);
    # natural collisions of the name pools exist too but are not listed
    homonym = P["planted_homonym"].to_numpy()
    named = (
        seen["source_system"]
        .isin(
            [
                "shop_customer",
                "pos_card",
                "clienteling",
                "esp_contact",
                "service_ticket",
                "spreadsheet",
                "shop_guest_order",
            ]
        )
        .to_numpy()
    )
    first_rec = ~seen.duplicated(["source_system", "source_key"]).to_numpy()
    add("homonym", real & named & first_rec & homonym[pp])
    traps = pd.concat(parts, ignore_index=True).drop_duplicates()
    return traps.sort_values(
        ["trap_type", "source_system", "source_key"], kind="stable"
    ).reset_index(drop=True)


def write_ground_truth(ctx: Ctx, traps: pd.DataFrame, stores: pd.DataFrame) -> dict:
    P = ctx.P
    gt = ctx.out / "ground_truth"
    gt.mkdir(parents=True, exist_ok=True)
    ident = pd.concat(ctx.identity, ignore_index=True).drop_duplicates(
        ["source_system", "source_key"]
    )
    ident = ident.sort_values(["source_system", "source_key"], kind="stable").reset_index(drop=True)
    counts = {}
    counts[str(gt / "identity.parquet")] = W.write_parquet(
        pa.Table.from_pandas(ident, preserve_index=False), gt / "identity.parquet"
    )
    sys_per_person = ident[~ident["is_test"]].assign(
        system=ident["source_system"].replace({"shop_guest_order": "shop_customer"})
    )
    core_systems = ["shop_customer", "pos_card", "clienteling", "service_ticket", "spreadsheet"]
    n_all = sys_per_person.groupby("person_id")["system"].nunique()
    n_core = (
        sys_per_person[sys_per_person["system"].isin(core_systems)]
        .groupby("person_id")["system"]
        .nunique()
    )

    def ts(col):
        return pd.to_datetime(
            np.where(P[col].to_numpy() >= 0, P[col].to_numpy(), np.nan), unit="s", utc=True
        )

    def e164(nsn):
        return np.where(
            pd.isna(nsn),
            None,
            "+" + P["phone_cc"].astype(str) + pd.Series(nsn, dtype=object).astype(str),
        )

    persons = pd.DataFrame(
        {
            "person_id": P["person_id"],
            "first_name": P["first_name"],
            "last_name": P["last_name"],
            "maiden_name": P["maiden_name"],
            "gender": P["gender"],
            "birth_date": P["birth_date"].dt.date,
            "email": P["email"],
            "alt_email": P["alt_email"],
            "mobile": e164(P["mobile"].to_numpy()),
            "landline": e164(P["landline"].to_numpy()),
            "street": P["street"],
            "postcode": P["postcode"],
            "city": P["city"],
            "country": P["country"],
            "old_street": P["old_street"],
            "old_postcode": P["old_postcode"],
            "old_city": P["old_city"],
            "moved_at": ts("moved_at"),
            "married_at": ts("married_at"),
            "household_id": P["household_id"].map("H{:07d}".format),
            "household_size": P["household_size"],
            "profile": P["profile"],
            "channel_preference": P["channel_preference"],
            "favourite_store_id": stores["store_id"].to_numpy()[P["favourite_store"].to_numpy()],
            "favourite_category": np.array(N.CATEGORIES, dtype=object)[
                P["favourite_category"].to_numpy()
            ],
            "first_seen_at": ts("first_seen"),
            "churn_at": ts("churn_at"),
            "stopped_at": ts("stop_at"),
            "lapse_at": ts("lapse_at"),
            "comeback_at": ts("comeback_at"),
            "order_rate_per_year": P["order_rate"],
            "planted_homonym": P["planted_homonym"],
            "n_source_systems": P["person_id"].map(n_all).fillna(0).astype(int),
            "n_customer_record_systems": P["person_id"].map(n_core).fillna(0).astype(int),
        }
    )
    for flag in ("in_shop", "in_pos", "in_clienteling", "in_esp", "in_service", "in_spreadsheet"):
        persons[flag] = P[flag]
    counts[str(gt / "persons.parquet")] = W.write_parquet(
        pa.Table.from_pandas(persons, preserve_index=False), gt / "persons.parquet"
    )
    counts[str(gt / "traps.parquet")] = W.write_parquet(
        pa.Table.from_pandas(traps, preserve_index=False), gt / "traps.parquet"
    )
    noise = ctx.log.frame().sort_values(
        ["source_system", "source_key", "field", "noise_type"], kind="stable"
    )
    counts[str(gt / "noise.parquet")] = W.write_parquet(
        pa.Table.from_pandas(noise.reset_index(drop=True), preserve_index=False),
        gt / "noise.parquet",
    )
    ctx.files.update(counts)
    n_rec = ident.groupby("source_system").size()
    rates = {
        "persons": len(P),
        "share_in_2plus_customer_record_systems": round(
            float((persons["n_customer_record_systems"] >= 2).mean()), 4
        ),
        "share_in_2plus_systems_any": round(float((persons["n_source_systems"] >= 2).mean()), 4),
        "presence": {
            f: round(float(P[f].mean()), 4)
            for f in (
                "in_shop",
                "in_pos",
                "in_clienteling",
                "in_esp",
                "in_service",
                "in_spreadsheet",
            )
        },
        "records": {k: int(v) for k, v in n_rec.items()},
        "traps": {k: int(v) for k, v in traps.groupby("trap_type").size().items()},
        "noise_rates": {
            f"{s}.{f}.{t}": round(c / max(int(n_rec.get(s, 1)), 1), 4)
            for (s, f, t), c in noise.groupby(["source_system", "field", "noise_type"])
            .size()
            .items()
        },
    }
    return rates
