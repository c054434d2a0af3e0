"""The monthly clienteling CSV client files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from cdp_demo.generator import names as N
from cdp_demo.generator import noise as Z
from cdp_demo.generator import writers as W
from cdp_demo.generator.behaviour import DAY
from cdp_demo.generator.context import (
    PLACEHOLDER_EMAILS,
    PLACEHOLDER_PHONES,
    STAFF_NAME_NOISE,
    Ctx,
    clip_time,
    later,
)
from cdp_demo.generator.records import log_view, person_view
from ingestion.sources.specs import table_spec

CLIENTS = table_spec("clienteling", "clients")


def write_clienteling(ctx: Ctx, stores: pd.DataFrame, cards: pd.DataFrame) -> None:
    P, rng = ctx.P, ctx.rng
    persons = np.flatnonzero(P["in_clienteling"].to_numpy())
    created = clip_time(
        P["first_seen"].to_numpy()[persons] + rng.integers(0, 60 * DAY, persons.size), ctx
    )
    order = np.lexsort((persons, created))
    persons, created = persons[order], created[order]
    n = persons.size
    client_id = W.zfill("CL-", 1 + np.arange(n), 7)
    edit = rng.random(n) < 0.18
    moved_at = P["moved_at"].to_numpy()[persons]
    mover_edit = moved_at > created
    edit |= mover_edit & (rng.random(n) < 0.8)
    upd1 = np.minimum(created + rng.integers(0, 2 * DAY, n), ctx.end_s)
    upd2 = np.where(
        mover_edit,
        np.maximum(moved_at + rng.integers(DAY, 40 * DAY, n), upd1 + DAY),
        later(ctx, upd1, 500, 1.5) + DAY,
    )
    edit &= upd2 <= ctx.end_s
    ridx = np.concatenate([np.arange(n), np.flatnonzero(edit)])
    r_p = persons[ridx]
    r_upd = np.concatenate([upd1, upd2[edit]])
    version = np.concatenate([np.zeros(n, int), np.ones(int(edit.sum()), int)])
    view = person_view(
        P,
        r_p,
        r_upd,
        rng,
        name_noise=STAFF_NAME_NOISE,
        email_noise={
            Z.E_CASE: 0.05,
            Z.E_UPPER: 0.03,
            Z.E_DOMAIN_TYPO: 0.015,
            Z.E_ALT: 0.04,
            Z.E_MISSING: 0.08,
        },
        swap_names=0.02,
        landline_share=0.15,
        missing={"street": 0.2, "birth_day": 0.3},
        profile=ctx.profile,
    )
    # an edit keeps the typed names of the first version
    first_of = pd.Series(np.arange(ridx.size)).groupby(ridx).transform("min").to_numpy()
    for key in ("first", "last"):
        view[key] = view[key][first_of]
    email, phone = view["email"], view["phone"]
    trap = rng.random(ridx.size)
    ph_e = trap < 0.03
    email[ph_e] = np.array(PLACEHOLDER_EMAILS, dtype=object)[rng.integers(0, 2, int(ph_e.sum()))]
    ph_p = (trap >= 0.03) & (trap < 0.05)
    phone[ph_p] = np.array(PLACEHOLDER_PHONES, dtype=object)[rng.integers(0, 2, int(ph_p.sum()))]
    keys = client_id[ridx]
    log_view(ctx.log, "clienteling", keys, view)
    gender = view["gender"]
    true_bd = P["birth_date"].to_numpy()[r_p].astype("datetime64[D]").astype(np.int64)
    age = (ctx.end_s // DAY - true_bd) / 365.25
    civ = np.where(gender == "F", np.where(age < 28, "Mlle", "Mme"), "M.")
    civ = np.where(rng.random(ridx.size) < 0.08, "", civ)
    store = P["favourite_store"].to_numpy()[r_p]
    card = (
        pd.Series(r_p)
        .map(cards[cards["kind"] == "main"].set_index("pidx")["card_id"])
        .to_numpy(dtype=object)
    )
    card = np.where(rng.random(ridx.size) < 0.7, card, None)
    bd_missing = (
        pd.isna(view["birth_day"])
        if view["birth_day"].dtype == object
        else np.zeros(ridx.size, bool)
    )
    sizes_f = np.array(["34", "36", "38", "40", "42", "44"], dtype=object)
    sizes_m = np.array(["S", "M", "L", "XL", "48", "50", "52"], dtype=object)
    notes = np.array(
        [
            "",
            "",
            "",
            "Cliente fidèle, aime les nouveautés",
            "Préfère être contactée par SMS",
            "Cadeau anniversaire conjoint",
            "VIC - inviter aux défilés",
            "Allergie au nickel",
            "Vient souvent le samedi",
            "Intéressé par la maroquinerie",
        ],
        dtype=object,
    )
    df = pd.DataFrame(
        {
            "client_id": keys,
            "store_id": stores["store_id"].to_numpy()[store],
            "advisor_id": (
                pd.Series(stores["store_id"].to_numpy()[store])
                + "-ADV"
                + pd.Series(rng.integers(1, 9, ridx.size)).astype(str).str.zfill(2)
            ).to_numpy(dtype=object),
            "civility": civ,
            "first_name": view["first"],
            "last_name": view["last"],
            "email": email,
            "mobile": phone,
            "birth_date": W.ymd(
                np.where(bd_missing, 0, view["birth_day"]).astype(np.int64),
                bd_missing,
                fmt="%d/%m/%Y",
            ).to_numpy(zero_copy_only=False),
            "address_line": view["street"],
            "postcode": np.where(pd.isna(view["street"]), None, view["postcode"]),
            "city": view["city"],
            "country": view["country"],
            "preferred_category": np.array(N.CATEGORIES, dtype=object)[
                P["favourite_category"].to_numpy()[r_p]
            ],
            "size_top": np.where(
                gender == "F",
                sizes_f[rng.integers(0, 6, ridx.size)],
                sizes_m[rng.integers(0, 7, ridx.size)],
            ),
            "size_shoe": np.where(
                gender == "F", rng.integers(35, 42, ridx.size), rng.integers(39, 47, ridx.size)
            ).astype(str),
            "opt_in_email": np.where(rng.random(ridx.size) < 0.7, "Y", "N"),
            "opt_in_sms": np.where(rng.random(ridx.size) < 0.5, "Y", "N"),
            "loyalty_card_id": card,
            "notes": notes[rng.integers(0, notes.size, ridx.size)],
            "created_at": W.iso(created[ridx]).to_numpy(zero_copy_only=False),
            "updated_at": W.iso(r_upd).to_numpy(zero_copy_only=False),
            "month": W.month_of(r_upd).to_numpy(zero_copy_only=False),
            "version": version,
        }
    )
    table = pa.Table.from_pandas(df.drop(columns=["month", "version"]), preserve_index=False)
    table = table.append_column(
        "_sort",
        pa.array((df["client_id"] + "|" + df["updated_at"]).to_numpy(dtype=object), pa.string()),
    )
    ctx.write_monthly(
        "clienteling/clients.csv", table, df["month"], "_sort", spec=CLIENTS, drop=["_sort"]
    )
    ctx.add_identity("clienteling", client_id, persons)
    ctx.add_seen("clienteling", keys, r_p, email=email, phone=phone, street=view["street"])
    ctx.log.add("clienteling", client_id, "record", np.full(n, "edited_later", dtype=object), edit)
