"""`generate()`: build the population, simulate three years of history, write every source."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cdp_demo.generator import names as N
from cdp_demo.generator import noise as Z
from cdp_demo.generator import writers as W
from cdp_demo.generator.behaviour import DAY, activity_at, order_events, order_lines
from cdp_demo.generator.catalog import build_catalog, build_stores
from cdp_demo.generator.persons import build_persons
from cdp_demo.generator.profiles import DEFAULT_PROFILE, NoiseProfile, get_profile
from cdp_demo.generator.records import NoiseLog, log_view, person_view

PLACEHOLDER_EMAILS = ("test@test.com", "noemail@noemail.com")
PLACEHOLDER_PHONES = ("0000000000", "0600000000")


@dataclass
class Ctx:
    rng: np.random.Generator
    P: pd.DataFrame
    out: Path
    start_s: int
    end_s: int
    con: duckdb.DuckDBPyConnection
    profile: NoiseProfile
    files: dict = field(default_factory=dict)
    identity: list = field(default_factory=list)
    seen: list = field(default_factory=list)  # records with their written identity values
    log: NoiseLog = field(default_factory=NoiseLog)
    catalog: pd.DataFrame | None = None
    catalog_skus: np.ndarray | None = None
    catalog_p: np.ndarray | None = None
    receipt_refs: pd.DataFrame | None = None
    url_dict: pa.Array | None = None
    country_dict: pa.Array | None = None
    stages: dict = field(default_factory=dict)

    @property
    def landing(self) -> Path:
        return self.out / "landing"

    def add_identity(self, system: str, keys, pidx: np.ndarray, test_ids=None) -> None:
        pidx = np.asarray(pidx)
        person = self.P["person_id"].to_numpy()[np.maximum(pidx, 0)]
        is_test = pidx < 0
        if test_ids is not None:
            person = np.where(is_test, test_ids, person)
        self.identity.append(
            pd.DataFrame(
                {
                    "source_system": system,
                    "source_key": np.asarray(keys, dtype=object).astype(str),
                    "person_id": person,
                    "is_test": is_test,
                }
            )
        )

    def add_seen(self, system: str, keys, pidx, email=None, phone=None, street=None) -> None:
        n = len(keys)
        none = np.full(n, None, dtype=object)
        self.seen.append(
            pd.DataFrame(
                {
                    "source_system": system,
                    "source_key": np.asarray(keys, dtype=object).astype(str),
                    "pidx": np.asarray(pidx),
                    "email": none if email is None else email,
                    "phone": none if phone is None else phone,
                    "street": none if street is None else street,
                }
            )
        )


def _epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def _clip(t: np.ndarray, ctx: Ctx) -> np.ndarray:
    return np.clip(t, ctx.start_s, ctx.end_s).astype(np.int64)


def _later(ctx: Ctx, t: np.ndarray, max_days: float, power: float = 2.0) -> np.ndarray:
    """A time after t (skewed towards t), never after end_date."""
    span = np.minimum(max_days * DAY, ctx.end_s - t)
    return (t + ctx.rng.random(t.size) ** power * np.maximum(span, 0)).astype(np.int64)


def _arrow(d: dict) -> pa.Table:
    return pa.table(
        {
            k: (v if isinstance(v, pa.Array | pa.ChunkedArray) else pa.array(v, from_pandas=True))
            for k, v in d.items()
        }
    )


# --------------------------------------------------------------------------------------------
def assign_presence(ctx: Ctx) -> pd.DataFrame:
    P, rng = ctx.P, ctx.rng
    n = len(P)
    ch = P["channel_preference"].to_numpy()
    u = rng.random((7, n))
    pick = lambda web, store, both: np.select([ch == "web", ch == "store"], [web, store], both)  # noqa: E731
    in_shop = u[0] < pick(0.93, 0.05, 0.95)
    in_pos = u[1] < pick(0.02, 0.78, 0.90)
    # advisors, service desks and events mostly see the omnichannel clients
    in_cl = u[2] < np.where(ch == "both", 0.45, np.where(in_pos, 0.10, 0.005))
    in_svc = u[3] < np.where(ch == "both", 0.25, np.where(in_shop, 0.08, 0.04))
    in_ss = u[4] < np.where(ch == "both", 0.10, 0.03)
    shop_sub = in_shop & (u[5] < 0.66)
    card_optin = in_pos & (u[6] < 0.60)
    v = rng.random((3, n))
    esp_store = card_optin & (v[0] < 0.75)
    esp_event = in_ss & (v[1] < 0.7)
    esp_import = v[2] < 0.07
    in_esp = shop_sub | esp_store | esp_event | esp_import
    P["in_shop"], P["in_pos"], P["in_clienteling"] = in_shop, in_pos, in_cl
    P["in_service"], P["in_spreadsheet"], P["in_esp"] = in_svc, in_ss, in_esp
    P["shop_subscribed"], P["card_optin"] = shop_sub, card_optin
    P["esp_origin"] = np.select(
        [shop_sub, esp_store, esp_event], ["shop", "store", "event"], "import"
    )
    return P


# --------------------------------------------------------------------------------------------
def write_catalog(ctx: Ctx, catalog: pd.DataFrame) -> None:
    c = catalog
    table = _arrow(
        {
            "sku": c["sku"].to_numpy(),
            "name": c["name"].to_numpy(),
            "category": c["category"].to_numpy(),
            "subcategory": c["subcategory"].to_numpy(),
            "collection": c["collection"].to_numpy(),
            "price": c["price"].to_numpy(),
            "cost": c["cost"].to_numpy(),
            "currency": c["currency"].to_numpy(),
            "stock_qty": c["stock_qty"].to_numpy(),
            "is_active": c["is_active"].to_numpy(),
            "launched_at": W.ymd(c["launched_s"].to_numpy() // DAY),
            "updated_at": W.iso(c["updated_s"].to_numpy()),
        }
    )
    ctx.con.register("catalog_t", table)
    path = ctx.landing / "catalog" / "products.csv"
    ctx.files[str(path)] = W.copy_csv(
        ctx.con,
        "SELECT sku, name, category, subcategory, collection, CAST(price AS DECIMAL(12,2)) AS price, "
        "CAST(cost AS DECIMAL(12,2)) AS cost, currency, stock_qty, is_active, launched_at, updated_at "
        "FROM catalog_t ORDER BY sku",
        path,
    )


# --------------------------------------------------------------------------------------------
def build_shop_accounts(ctx: Ctx) -> pd.DataFrame:
    P, rng = ctx.P, ctx.rng
    persons = np.flatnonzero(P["in_shop"].to_numpy())
    created = _clip(
        P["first_seen"].to_numpy()[persons] - rng.integers(0, 20 * DAY, persons.size), ctx
    )
    dup = rng.random(persons.size) < 0.035
    dup_created = _later(ctx, created[dup], 700, power=1.0)
    n_test = max(3, len(P) // 20_000)
    test_created = ctx.start_s + rng.integers(0, ctx.end_s - ctx.start_s, n_test)
    acc = pd.DataFrame(
        {
            "pidx": np.concatenate([persons, persons[dup], np.full(n_test, -1)]),
            "created": np.concatenate([created, dup_created, test_created]),
            "kind": np.concatenate(
                [
                    np.full(persons.size, "main"),
                    np.full(int(dup.sum()), "duplicate"),
                    np.full(n_test, "test"),
                ]
            ),
        }
    )
    acc = acc.sort_values(["created", "pidx"], kind="stable").reset_index(drop=True)
    acc["entity_id"] = 100_000 + np.arange(len(acc))
    acc["test_no"] = np.where(acc["kind"] == "test", (acc["kind"] == "test").cumsum(), 0)
    return acc


def write_shop_customers(ctx: Ctx, acc: pd.DataFrame, cards: pd.DataFrame) -> None:
    P, rng = ctx.P, ctx.rng
    real = acc[acc["kind"] != "test"]
    pidx = real["pidx"].to_numpy()
    created = real["created"].to_numpy()
    updated = _later(ctx, created, 900, power=2.5)
    email_noise = {
        Z.E_CASE: 0.10,
        Z.E_UPPER: 0.02,
        Z.E_PLUS: 0.02,
        Z.E_DOTS: 0.02,
        Z.E_DOMAIN_TYPO: 0.006,
        Z.E_SPACES: 0.01,
    }
    view = person_view(P, pidx, created, rng, email_noise=email_noise, profile=ctx.profile)
    dup = (real["kind"] == "duplicate").to_numpy()
    view["email"][dup] = Z.email_variants(
        P["alt_email"].to_numpy()[pidx[dup]],
        P["alt_email"].to_numpy()[pidx[dup]],
        np.zeros(int(dup.sum()), dtype=np.int8),
        rng,
    )
    view["e_codes"][dup] = Z.E_ALT
    keys = real["entity_id"].to_numpy()
    log_view(ctx.log, "shop_customer", keys.astype(str), view)
    ctx.log.add(
        "shop_customer",
        keys.astype(str),
        "account",
        np.full(keys.size, "duplicate_account", dtype=object),
        dup,
    )
    new_view = person_view(
        P, pidx, updated, rng, email_noise={}, name_noise={}, profile=ctx.profile
    )
    moved_between = view["old_address"] & ~new_view["old_address"]
    # test accounts
    test = acc[acc["kind"] == "test"]
    k = test["test_no"].to_numpy()
    tn = k.size
    card_by_person = cards[cards["kind"] == "main"].set_index("pidx")["card_id"]
    linked = P["in_pos"].to_numpy()[pidx] & (rng.random(pidx.size) < 0.35)
    card = np.where(linked, pd.Series(pidx).map(card_by_person).to_numpy(dtype=object), None)
    tel_missing = rng.random(pidx.size) < 0.10
    has_addr = rng.random(pidx.size) < 0.88
    apt = np.where(
        rng.random(pidx.size) < 0.15,
        "Apt " + pd.Series(rng.integers(1, 60, pidx.size)).astype(str),
        None,
    )
    dob_missing = rng.random(pidx.size) < 0.45
    gender_missing = rng.random(pidx.size) < 0.30
    gid = np.where(
        P["profile"].to_numpy()[pidx] == "loyal", np.where(rng.random(pidx.size) < 0.15, 4, 1), 1
    )
    cust = pd.DataFrame(
        {
            "entity_id": np.concatenate([keys, test["entity_id"].to_numpy()]),
            "email": np.concatenate(
                [view["email"], np.array([f"test+{i}@horizon.fr" for i in k], dtype=object)]
            ),
            "firstname": np.concatenate([view["first"], np.full(tn, "Test", dtype=object)]),
            "lastname": np.concatenate([view["last"], np.where(k % 2 == 0, "Test", "TEST")]).astype(
                object
            ),
            "dob": pa.concat_arrays(
                [
                    W.ymd(np.where(dob_missing, 0, view["birth_day"]), dob_missing),
                    pa.nulls(tn, pa.string()),
                ]
            ).to_numpy(zero_copy_only=False),
            "gender": np.concatenate(
                [
                    np.where(gender_missing, None, np.where(view["gender"] == "F", 2, 1)),
                    np.full(tn, None),
                ]
            ),
            "created_at": np.concatenate([created, test["created"].to_numpy()]),
            "updated_at": np.concatenate([updated, test["created"].to_numpy()]),
            "group_id": np.concatenate([gid, np.ones(tn, dtype=int)]),
            "loyalty_card_id": np.concatenate([card, np.full(tn, None)]),
            "is_subscribed": np.concatenate(
                [P["shop_subscribed"].to_numpy()[pidx] & ~dup, np.zeros(tn, bool)]
            ),
        }
    )
    cust["created_at"] = W.iso(cust["created_at"].to_numpy()).to_numpy(zero_copy_only=False)
    cust["updated_at_s"] = cust["updated_at"]
    cust["updated_at"] = W.iso(cust["updated_at_s"].to_numpy()).to_numpy(zero_copy_only=False)
    cust["month"] = W.month_of(cust["updated_at_s"].to_numpy()).to_numpy(zero_copy_only=False)
    cust["gender"] = cust["gender"].astype("Int64")
    # addresses: the address at creation; movers who updated after moving get the new one too
    a_pidx = np.concatenate([np.flatnonzero(has_addr), np.flatnonzero(has_addr & moved_between)])
    first_addr = np.arange(a_pidx.size) < int(has_addr.sum())
    a_view_street = np.where(first_addr, view["street"][a_pidx], new_view["street"][a_pidx])
    addr = pd.DataFrame(
        {
            "customer_id": keys[a_pidx],
            "street1": a_view_street,
            "street2": apt[a_pidx],
            "postcode": np.where(
                first_addr, view["postcode"][a_pidx], new_view["postcode"][a_pidx]
            ),
            "city": np.where(first_addr, view["city"][a_pidx], new_view["city"][a_pidx]),
            "country_id": np.where(
                first_addr, view["country"][a_pidx], new_view["country"][a_pidx]
            ),
            "telephone": np.where(tel_missing[a_pidx], None, view["phone"][a_pidx]),
            "firstname": view["first"][a_pidx],
            "lastname": view["last"][a_pidx],
            "is_default": ~(first_addr & moved_between[a_pidx]),
        }
    )
    addr = addr.sort_values(["customer_id", "is_default"], kind="stable").reset_index(drop=True)
    # a customer's addresses: the old one (not default) first, then the current default
    addr["id"] = 5_000 + np.arange(len(addr))
    owner = pd.Series(pidx, index=keys)
    ctx.add_seen(
        "shop_customer",
        addr["customer_id"].astype(str).to_numpy(),
        addr["customer_id"].map(owner).to_numpy(),
        phone=addr["telephone"].to_numpy(),
        street=addr["street1"].to_numpy(),
    )
    ctx.add_seen("shop_customer", keys.astype(str), pidx, email=view["email"])
    ctx.add_identity(
        "shop_customer",
        cust["entity_id"].to_numpy(),
        np.concatenate([pidx, np.full(tn, -1)]),
        np.concatenate([np.full(pidx.size, ""), [f"TEST-{i:06d}" for i in k]]),
    )
    cust = cust.sort_values("entity_id", kind="stable").reset_index(drop=True)
    has2 = addr["street2"].notna().to_numpy()
    n_parts = 1 + has2
    first_pos = np.cumsum(n_parts) - n_parts
    street_vals = np.empty(int(n_parts.sum()), dtype=object)
    street_vals[first_pos] = addr["street1"].to_numpy()
    street_vals[first_pos[has2] + 1] = addr["street2"].to_numpy()[has2]
    street_list = pa.ListArray.from_arrays(
        pa.array(np.r_[first_pos, n_parts.sum()].astype(np.int32)),
        pa.array(street_vals, pa.string()),
    )
    addresses = W.struct(
        id=addr["id"].to_numpy(),
        street=street_list,
        postcode=addr["postcode"].to_numpy(),
        city=addr["city"].to_numpy(),
        country_id=addr["country_id"].to_numpy(),
        telephone=pa.array(addr["telephone"].to_numpy(), pa.string(), from_pandas=True),
        firstname=addr["firstname"].to_numpy(),
        lastname=addr["lastname"].to_numpy(),
        default_billing=addr["is_default"].to_numpy(),
        default_shipping=addr["is_default"].to_numpy(),
    )
    n_c = len(cust)
    table = pa.table(
        {
            "entity_id": cust["entity_id"].to_numpy(),
            "email": pa.array(cust["email"].to_numpy(), pa.string(), from_pandas=True),
            "firstname": pa.array(cust["firstname"].to_numpy(), pa.string()),
            "lastname": pa.array(cust["lastname"].to_numpy(), pa.string()),
            "dob": pa.array(cust["dob"].to_numpy(), pa.string(), from_pandas=True),
            "gender": pa.array(cust["gender"].to_numpy(dtype=float), pa.int64(), from_pandas=True),
            "created_at": pa.array(cust["created_at"].to_numpy(), pa.string()),
            "updated_at": pa.array(cust["updated_at"].to_numpy(), pa.string()),
            "group_id": cust["group_id"].to_numpy(),
            "store_id": np.ones(n_c, np.int64),
            "website_id": np.ones(n_c, np.int64),
            "addresses": W.nest(
                cust["entity_id"].to_numpy(), addr["customer_id"].to_numpy(), addresses
            ),
            "extension_attributes": W.struct(
                loyalty_card_id=pa.array(
                    cust["loyalty_card_id"].to_numpy(), pa.string(), from_pandas=True
                ),
                is_subscribed=cust["is_subscribed"].to_numpy(dtype=bool),
            ),
        }
    )
    ctx.files.update(
        W.copy_monthly(
            ctx.con,
            table,
            cust["month"].to_numpy(dtype=object),
            "entity_id",
            ctx.landing / "shop" / "customers",
            "customers",
            "json",
        )
    )


# --------------------------------------------------------------------------------------------
def build_cards(ctx: Ctx, stores: pd.DataFrame) -> pd.DataFrame:
    P, rng = ctx.P, ctx.rng
    persons = np.flatnonzero(P["in_pos"].to_numpy())
    issued = _clip(
        P["first_seen"].to_numpy()[persons] + rng.integers(0, 3 * DAY, persons.size), ctx
    )
    dup = rng.random(persons.size) < 0.03
    n_test = max(1, len(P) // 50_000)
    cards = pd.DataFrame(
        {
            "pidx": np.concatenate([persons, persons[dup], np.full(n_test, -1)]),
            "issued": np.concatenate(
                [
                    issued,
                    _later(ctx, issued[dup], 600, 1.0),
                    ctx.start_s + rng.integers(0, ctx.end_s - ctx.start_s, n_test),
                ]
            ),
            "kind": np.concatenate(
                [
                    np.full(persons.size, "main"),
                    np.full(int(dup.sum()), "duplicate"),
                    np.full(n_test, "test"),
                ]
            ),
        }
    )
    fav = P["favourite_store"].to_numpy()[np.maximum(cards["pidx"].to_numpy(), 0)]
    other = rng.integers(0, len(stores), len(cards))
    cards["store"] = np.where(cards["kind"] == "duplicate", other, fav)
    cards = cards.sort_values(["issued", "pidx"], kind="stable").reset_index(drop=True)
    cards["card_id"] = W.zfill("LC", 10_000 + np.arange(len(cards)), 8)
    return cards


def write_pos(
    ctx: Ctx, cards: pd.DataFrame, stores: pd.DataFrame, orders: pd.DataFrame, lines: pd.DataFrame
) -> None:
    P, rng = ctx.P, ctx.rng
    db = W.sqlite_create(ctx.landing / "pos" / "pos.sqlite")
    st = stores.copy()
    st["updated_at"] = W.iso(
        np.array([_epoch(date.fromisoformat(d)) for d in st["opened_on"]])
    ).to_numpy(zero_copy_only=False)
    ctx.files["pos.stores"] = W.sqlite_insert(
        db, "stores", pa.Table.from_pandas(st, preserve_index=False)
    )

    real = cards[cards["kind"] != "test"]
    pidx = real["pidx"].to_numpy()
    issued = real["issued"].to_numpy()
    keys = real["card_id"].to_numpy()
    name_noise = dict(N_STAFF_NAME_NOISE)
    email_noise = {
        Z.E_CASE: 0.04,
        Z.E_UPPER: 0.06,
        Z.E_DOMAIN_TYPO: 0.02,
        Z.E_ALT: 0.05,
        Z.E_MISSING: 0.12,
        Z.E_SPACES: 0.02,
    }
    view = person_view(
        P,
        pidx,
        issued,
        rng,
        name_noise=name_noise,
        email_noise=email_noise,
        swap_names=0.02,
        landline_share=0.25,
        missing={"street": 0.15, "birth_day": 0.40},
        profile=ctx.profile,
    )
    n = pidx.size
    email, phone = view["email"].copy(), view["phone"].copy()
    trap = rng.random(n)
    generic = trap < 0.025
    email[generic] = stores["generic_email"].to_numpy()[real["store"].to_numpy()[generic]]
    ph_email = (trap >= 0.025) & (trap < 0.045)
    email[ph_email] = np.array(PLACEHOLDER_EMAILS, dtype=object)[
        rng.integers(0, 2, int(ph_email.sum()))
    ]
    ph_phone = rng.random(n) < 0.015
    phone[ph_phone] = np.array(PLACEHOLDER_PHONES, dtype=object)[
        rng.integers(0, 2, int(ph_phone.sum()))
    ]
    log_view(ctx.log, "pos_card", keys, view)
    ctx.log.add(
        "pos_card",
        keys,
        "account",
        np.full(n, "duplicate_card", dtype=object),
        (real["kind"] == "duplicate").to_numpy(),
    )
    updated = _later(ctx, issued, 700, 2.5)
    closed = (
        (real["kind"] == "main").to_numpy()
        & np.isin(pidx, pidx[(real["kind"] == "duplicate").to_numpy()])
        & (rng.random(n) < 0.4)
    )
    test = cards[cards["kind"] == "test"]
    tn = len(test)
    bd_missing = pd.isna(view["birth_day"])
    table = _arrow(
        {
            "card_id": np.concatenate([keys, test["card_id"].to_numpy()]),
            "store_id": stores["store_id"].to_numpy()[
                np.concatenate([real["store"].to_numpy(), test["store"].to_numpy()])
            ],
            "issued_at": W.iso(np.concatenate([issued, test["issued"].to_numpy()])),
            "first_name": np.concatenate([view["first"], np.full(tn, "TEST", dtype=object)]),
            "last_name": np.concatenate([view["last"], np.full(tn, "CAISSE", dtype=object)]),
            "email": np.concatenate([email, np.full(tn, None)]),
            "phone": np.concatenate([phone, np.full(tn, None)]),
            "birth_date": pa.concat_arrays(
                [
                    W.ymd(np.where(bd_missing, 0, view["birth_day"]).astype(np.int64), bd_missing),
                    pa.nulls(tn, pa.string()),
                ]
            ),
            "street": np.concatenate([view["street"], np.full(tn, None)]),
            "postcode": np.concatenate(
                [np.where(pd.isna(view["street"]), None, view["postcode"]), np.full(tn, None)]
            ),
            "city": np.concatenate([view["city"], np.full(tn, None)]),
            "country": np.concatenate([view["country"], np.full(tn, "FR", dtype=object)]),
            "status": np.concatenate([np.where(closed, "closed", "active"), np.full(tn, "active")]),
            "updated_at": W.iso(np.concatenate([updated, test["issued"].to_numpy()])),
        }
    )
    ctx.files["pos.loyalty_cards"] = W.sqlite_insert(db, "loyalty_cards", table)
    ctx.add_identity(
        "pos_card",
        table["card_id"].to_numpy(zero_copy_only=False),
        np.concatenate([pidx, np.full(tn, -1)]),
        np.concatenate([np.full(n, ""), [f"TEST-9{i:05d}" for i in range(tn)]]),
    )
    ctx.add_seen("pos_card", keys, pidx, email=email, phone=phone, street=view["street"])

    # receipts: store purchases (+ anonymous walk-ins) and later return receipts
    so = orders[~orders["is_web"]]
    n_anon = int(len(so) * 0.15)
    anon_t = ctx.start_s + rng.integers(0, ctx.end_s - ctx.start_s, n_anon)
    main_card = cards[cards["kind"] == "main"].set_index("pidx")["card_id"]
    dup_card = cards[cards["kind"] == "duplicate"].set_index("pidx")
    sale_p = so["pidx"].to_numpy()
    sale_t = so["t"].to_numpy()
    card = pd.Series(sale_p).map(main_card).to_numpy(dtype=object)
    dup_map = pd.Series(sale_p).map(dup_card["card_id"]).to_numpy(dtype=object)
    dup_from = pd.Series(sale_p).map(dup_card["issued"]).to_numpy()
    use_dup = (
        pd.notna(dup_map)
        & (sale_t >= np.nan_to_num(dup_from, nan=np.inf))
        & (rng.random(sale_p.size) < 0.5)
    )
    card = np.where(use_dup, dup_map, card)
    card = np.where(rng.random(sale_p.size) < 0.9, card, None)  # forgot the card
    sales = pd.DataFrame(
        {
            "oidx": np.concatenate([so.index.to_numpy(), np.full(n_anon, -1)]),
            "pidx": np.concatenate([sale_p, np.full(n_anon, -1)]),
            "t": np.concatenate([sale_t, anon_t]),
            "store": np.concatenate([so["store"].to_numpy(), rng.integers(0, len(stores), n_anon)]),
            "card_id": np.concatenate([card, np.full(n_anon, None)]),
        }
    )
    # anonymous walk-ins buy one line drawn from the catalogue of real lines
    anon_lines = lines.iloc[rng.integers(0, len(lines), n_anon)].copy()
    anon_lines["sale"] = np.arange(len(so), len(so) + n_anon)
    anon_lines["line_no"] = 1
    sale_of_order = pd.Series(np.arange(len(so)), index=so.index)
    sl = lines[lines["oidx"].isin(so.index)].copy()
    sl["sale"] = sale_of_order.loc[sl["oidx"].to_numpy()].to_numpy()
    all_lines = pd.concat([sl, anon_lines], ignore_index=True)
    # returns: 6 % of identified sales, one line returned 1-25 days later
    ret = np.flatnonzero((sales["pidx"].to_numpy() >= 0) & (rng.random(len(sales)) < 0.06))
    ret_t = sales["t"].to_numpy()[ret] + rng.integers(1 * DAY, 25 * DAY, ret.size)
    churn = P["churn_at"].to_numpy()[sales["pidx"].to_numpy()[ret]]
    ok = (ret_t <= ctx.end_s) & ~((churn >= 0) & (ret_t >= churn))
    ret, ret_t = ret[ok], ret_t[ok]
    n_sales = len(sales)
    tx = pd.DataFrame(
        {
            "sale": np.concatenate([np.arange(n_sales), ret]),
            "t": np.concatenate([sales["t"].to_numpy(), ret_t]),
            "store": np.concatenate([sales["store"].to_numpy(), sales["store"].to_numpy()[ret]]),
            "card_id": np.concatenate(
                [sales["card_id"].to_numpy(), sales["card_id"].to_numpy()[ret]]
            ),
            "is_return": np.concatenate(
                [np.zeros(n_sales, dtype=int), np.ones(ret.size, dtype=int)]
            ),
        }
    )
    tx = tx.sort_values(["store", "t", "is_return", "sale"], kind="stable").reset_index(drop=True)
    seq = tx.groupby("store", sort=True).cumcount().to_numpy() + 1
    sid = stores["store_id"].to_numpy()[tx["store"].to_numpy()]
    tx["receipt_id"] = (
        "R-" + pd.Series(sid) + "-" + pd.Series(seq).astype(str).str.zfill(7)
    ).to_numpy(dtype=object)
    sale_receipt = tx[tx["is_return"] == 0].set_index("sale")["receipt_id"]
    tx["original_receipt_id"] = np.where(
        tx["is_return"] == 1, sale_receipt.reindex(tx["sale"]).to_numpy(), None
    )
    # lines per transaction
    first_lines = all_lines.sort_values(["sale", "line_no"], kind="stable")
    sale_lines = first_lines.merge(tx[tx["is_return"] == 0][["sale", "receipt_id", "t"]], on="sale")
    rl = first_lines[first_lines["line_no"] == 1].merge(
        tx[tx["is_return"] == 1][["sale", "receipt_id", "t"]], on="sale"
    )
    rl["qty"] = -rl["qty"]
    rl["gross"] = -rl["gross"]
    rl["discount"] = -rl["discount"]
    recl = pd.concat([sale_lines, rl], ignore_index=True).sort_values(
        ["receipt_id", "line_no"], kind="stable"
    )
    recl["line_amount"] = np.round(recl["gross"] - recl["discount"], 2)
    recl["upd"] = recl["t"] + 60
    totals = recl.groupby("receipt_id", sort=False)["line_amount"].sum().round(2)
    tx["total_amount"] = totals.reindex(tx["receipt_id"]).to_numpy()
    tx = tx.sort_values("receipt_id", kind="stable")
    pay = np.array(
        ["card", "card", "card", "card", "amex", "cash", "gift_card", "mobile"], dtype=object
    )
    n_tx = len(tx)
    receipts = _arrow(
        {
            "receipt_id": tx["receipt_id"].to_numpy(),
            "store_id": stores["store_id"].to_numpy()[tx["store"].to_numpy()],
            "register_id": (
                pd.Series(stores["store_id"].to_numpy()[tx["store"].to_numpy()])
                + "-C"
                + pd.Series(rng.integers(1, 4, n_tx)).astype(str)
            ).to_numpy(dtype=object),
            "staff_id": (
                pd.Series(stores["store_id"].to_numpy()[tx["store"].to_numpy()])
                + "-V"
                + pd.Series(rng.integers(1, 13, n_tx)).astype(str).str.zfill(2)
            ).to_numpy(dtype=object),
            "card_id": tx["card_id"].to_numpy(),
            "sold_at": W.iso(tx["t"].to_numpy()),
            "total_amount": tx["total_amount"].to_numpy(),
            "currency": np.full(n_tx, "EUR", dtype=object),
            "payment_method": pay[rng.integers(0, pay.size, n_tx)],
            "is_return": tx["is_return"].to_numpy(),
            "original_receipt_id": tx["original_receipt_id"].to_numpy(),
            "updated_at": W.iso(tx["t"].to_numpy() + 60),
        }
    )
    ctx.files["pos.receipts"] = W.sqlite_insert(db, "receipts", receipts)
    rlines = _arrow(
        {
            "receipt_id": recl["receipt_id"].to_numpy(),
            "line_no": recl["line_no"].to_numpy(),
            "sku": recl["sku"].to_numpy(),
            "quantity": recl["qty"].to_numpy(),
            "unit_price": recl["price"].to_numpy(),
            "discount": recl["discount"].to_numpy(),
            "line_amount": recl["line_amount"].to_numpy(),
            "updated_at": W.iso(recl["upd"].to_numpy()),
        }
    )
    ctx.files["pos.receipt_lines"] = W.sqlite_insert(db, "receipt_lines", rlines)
    db.close()
    # receipts of identified sales, for service tickets
    tx_sales = tx[tx["is_return"] == 0]
    pid_of_sale = sales["pidx"].to_numpy()
    ctx.receipt_refs = pd.DataFrame(
        {
            "pidx": pid_of_sale[tx_sales["sale"].to_numpy()],
            "t": tx_sales["t"].to_numpy(),
            "ref": tx_sales["receipt_id"].to_numpy(),
        }
    )


N_STAFF_NAME_NOISE = {
    Z.NO_ACCENT: 0.10,
    Z.SWAP: 0.015,
    Z.DROP: 0.015,
    Z.DOUBLE: 0.01,
    Z.UPPER: 0.12,
    Z.LOWER: 0.01,
    Z.NICK: 0.03,
    Z.SPACES: 0.02,
}


# --------------------------------------------------------------------------------------------
def write_shop_orders(
    ctx: Ctx, acc: pd.DataFrame, orders: pd.DataFrame, lines: pd.DataFrame
) -> pd.DataFrame:
    P, rng = ctx.P, ctx.rng
    wo = orders[orders["is_web"]]
    pidx, t = wo["pidx"].to_numpy(), wo["t"].to_numpy()
    n = pidx.size
    main = acc[acc["kind"] == "main"].set_index("pidx")
    dup = acc[acc["kind"] == "duplicate"].set_index("pidx")
    cust = pd.Series(pidx).map(main["entity_id"]).to_numpy(dtype=float)
    dup_id = pd.Series(pidx).map(dup["entity_id"]).to_numpy(dtype=float)
    dup_t = pd.Series(pidx).map(dup["created"]).to_numpy(dtype=float)
    use_dup = ~np.isnan(dup_id) & (t >= np.nan_to_num(dup_t, nan=np.inf)) & (rng.random(n) < 0.5)
    cust = np.where(use_dup, dup_id, cust)
    guest = np.isnan(cust) | (rng.random(n) < 0.04)
    entity = 9_000_000 + np.arange(n)
    increment = (100_000_000 + np.arange(n)).astype(str).astype(object)
    view = person_view(
        P,
        pidx,
        t,
        rng,
        email_noise={Z.E_CASE: 0.05, Z.E_PLUS: 0.01, Z.E_DOMAIN_TYPO: 0.004},
        profile=ctx.profile,
    )
    ol = lines[lines["oidx"].isin(wo.index)].copy()
    pos_of = pd.Series(np.arange(n), index=wo.index)
    ol["o"] = pos_of.loc[ol["oidx"].to_numpy()].to_numpy()
    ol = ol.sort_values(["o", "line_no"], kind="stable").reset_index(drop=True)
    ol["item_id"] = 1 + np.arange(len(ol))
    sub = ol.groupby("o")["gross"].sum().to_numpy()
    disc = ol.groupby("o")["discount"].sum().to_numpy()
    ship = np.where(sub >= 300, 0.0, 9.90)
    grand = np.round(sub - disc + ship, 2)
    u = rng.random(n)
    status = np.where(u < 0.03, "canceled", "complete").astype(object)
    status[t > ctx.end_s - 3 * DAY] = "processing"
    returned = (status == "complete") & (rng.random(n) < 0.10)
    refund_t = t + rng.integers(8 * DAY, 35 * DAY, n)
    returned &= refund_t <= ctx.end_s
    churn = P["churn_at"].to_numpy()[pidx]
    returned &= ~((churn >= 0) & (refund_t >= churn))
    n_items = np.bincount(ol["o"].to_numpy(), minlength=n)
    full = returned & (n_items == 1)
    status[full] = "closed"
    # refund the first line of returned orders
    first_line = ol["line_no"].to_numpy() == 1
    ref_line = first_line & returned[ol["o"].to_numpy()]
    ol["qty_refunded"] = np.where(ref_line, ol["qty"], 0)
    refunded = np.zeros(n)
    np.add.at(
        refunded, ol["o"].to_numpy()[ref_line], (ol["gross"] - ol["discount"]).to_numpy()[ref_line]
    )
    refunded = np.where(full, grand, np.round(refunded, 2))
    updated = np.where(returned, refund_t, np.minimum(t + rng.integers(DAY, 5 * DAY, n), ctx.end_s))
    updated = np.where(status == "processing", t + 600, updated)
    updated = np.minimum(updated, ctx.end_s)
    ctx.log.add(
        "shop_guest_order", increment, "account", np.full(n, "guest_checkout", dtype=object), guest
    )
    head = pd.DataFrame(
        {
            "entity_id": entity,
            "increment_id": increment,
            "customer_id": pd.array(np.where(guest, np.nan, cust), dtype="Int64"),
            "customer_is_guest": guest,
            "customer_email": view["email"],
            "customer_firstname": view["first"],
            "customer_lastname": view["last"],
            "created_at": W.iso(t).to_numpy(zero_copy_only=False),
            "updated_at": W.iso(updated).to_numpy(zero_copy_only=False),
            "status": status,
            "subtotal": np.round(sub, 2),
            "discount_amount": -np.round(disc, 2),
            "shipping_amount": ship,
            "tax_amount": np.round(grand / 6.0, 2),
            "grand_total": grand,
            "total_refunded": refunded,
            "b_street": view["street"],
            "b_postcode": view["postcode"],
            "b_city": view["city"],
            "b_country": view["country"],
            "b_phone": view["phone"],
            "payment_method": np.array(
                ["card", "card", "card", "paypal", "applepay", "klarna"], dtype=object
            )[rng.integers(0, 6, n)],
            "month": W.month_of(updated).to_numpy(zero_copy_only=False),
        }
    )
    items = W.struct(
        item_id=ol["item_id"].to_numpy(),
        sku=ol["sku"].to_numpy(),
        name=ol["name"].to_numpy(),
        qty_ordered=ol["qty"].to_numpy(),
        qty_refunded=ol["qty_refunded"].to_numpy(),
        price=ol["price"].to_numpy(),
        discount_amount=ol["discount"].to_numpy(),
        row_total=ol["gross"].to_numpy(),
    )
    one = pa.ListArray.from_arrays(
        pa.array(np.arange(n + 1, dtype=np.int32)),
        pa.array(head["b_street"].to_numpy(), pa.string(), from_pandas=True),
    )
    strcol = lambda c, h=head: pa.array(h[c].to_numpy(), pa.string(), from_pandas=True)  # noqa: E731
    table = pa.table(
        {
            "entity_id": entity,
            "increment_id": strcol("increment_id"),
            "customer_id": pa.array(
                head["customer_id"].to_numpy(dtype=float), pa.int64(), from_pandas=True
            ),
            "customer_is_guest": guest,
            "customer_email": strcol("customer_email"),
            "customer_firstname": strcol("customer_firstname"),
            "customer_lastname": strcol("customer_lastname"),
            "created_at": strcol("created_at"),
            "updated_at": strcol("updated_at"),
            "status": strcol("status"),
            "order_currency_code": pa.array(np.full(n, "EUR")),
            "subtotal": head["subtotal"].to_numpy(),
            "discount_amount": head["discount_amount"].to_numpy() + 0.0,
            "shipping_amount": head["shipping_amount"].to_numpy(),
            "tax_amount": head["tax_amount"].to_numpy(),
            "grand_total": head["grand_total"].to_numpy(),
            "total_refunded": head["total_refunded"].to_numpy(),
            "billing_address": W.struct(
                street=one,
                postcode=strcol("b_postcode"),
                city=strcol("b_city"),
                country_id=strcol("b_country"),
                telephone=strcol("b_phone"),
                firstname=strcol("customer_firstname"),
                lastname=strcol("customer_lastname"),
            ),
            "payment": W.struct(method=strcol("payment_method")),
            "items": W.nest(np.arange(n), ol["o"].to_numpy(), items),
        }
    )
    ctx.files.update(
        W.copy_monthly(
            ctx.con,
            table,
            head["month"].to_numpy(dtype=object),
            "entity_id",
            ctx.landing / "shop" / "orders",
            "orders",
            "json",
        )
    )
    g = np.flatnonzero(guest)
    ctx.add_identity("shop_guest_order", increment[g], pidx[g])
    ctx.add_seen(
        "shop_guest_order",
        increment[g],
        pidx[g],
        email=view["email"][g],
        phone=view["phone"][g],
        street=view["street"][g],
    )
    del table, items, head, view, strcol  # bounded memory at scale: the orders are on disk now
    web = pd.DataFrame(
        {
            "pidx": pidx,
            "t": t,
            "entity_id": entity,
            "increment_id": increment,
            "customer_id": np.where(guest, -1, np.nan_to_num(cust, nan=-1)).astype(np.int64),
            "guest": guest,
            "subtotal": sub,
            "sku1": ol[first_line]["sku"].to_numpy(),
        }
    )
    # carts: converted carts for 60 % of account orders, abandoned carts before some orders
    acct = np.flatnonzero(~guest)
    conv = acct[rng.random(acct.size) < 0.6]
    aband = acct[rng.random(acct.size) < 0.3]
    c_created = np.concatenate(
        [
            t[conv] - rng.integers(300, 3 * DAY, conv.size),
            t[aband] - rng.integers(DAY, 30 * DAY, aband.size),
        ]
    )
    c_updated = np.concatenate(
        [t[conv], c_created[conv.size :] + rng.integers(60, 3600, aband.size)]
    )
    recent_acc = acc[(acc["kind"] != "test")].sample(
        frac=0.05, random_state=int(rng.integers(1 << 31))
    )
    r_created = ctx.end_s - rng.integers(2 * 3600, 40 * DAY, len(recent_acc))
    rp = recent_acc["pidx"].to_numpy()
    alive = (rng.random(rp.size) < W_keep(P, rp, r_created)) & (
        recent_acc["created"].to_numpy() < r_created
    )
    recent_acc, r_created = recent_acc[alive], r_created[alive]
    src_order = np.concatenate([conv, aband, np.full(len(recent_acc), -1)])
    carts = pd.DataFrame(
        {
            "customer_id": np.concatenate(
                [cust[conv], cust[aband], recent_acc["entity_id"].to_numpy()]
            ).astype(np.int64),
            "pidx": np.concatenate([pidx[conv], pidx[aband], recent_acc["pidx"].to_numpy()]),
            "created": np.concatenate([c_created, r_created]),
            "updated": np.concatenate(
                [c_updated, r_created + rng.integers(60, 3600, len(recent_acc))]
            ),
            "converted": np.concatenate([entity[conv], np.full(aband.size + len(recent_acc), -1)]),
            "src": src_order,
        }
    )
    carts = carts[carts["created"] >= ctx.start_s]
    carts = carts.assign(updated=np.minimum(carts["updated"].to_numpy(), ctx.end_s))
    carts = carts.sort_values(["created", "customer_id"], kind="stable").reset_index(drop=True)
    carts["cart_id"] = 700_000 + np.arange(len(carts))
    m = len(carts)
    cart_sku = np.where(
        carts["src"].to_numpy() >= 0,
        web["sku1"].to_numpy()[np.maximum(carts["src"].to_numpy(), 0)],
        None,
    )
    rnd = ctx.catalog.sample(
        n=m, replace=True, weights="popularity", random_state=int(rng.integers(1 << 31))
    )
    cart_sku = np.where(pd.isna(cart_sku), rnd["sku"].to_numpy(), cart_sku)
    price = pd.Series(cart_sku).map(ctx.catalog.set_index("sku")["price"]).to_numpy()
    conv_mask = carts["converted"].to_numpy() >= 0
    total = np.where(
        conv_mask, web["subtotal"].to_numpy()[np.maximum(carts["src"].to_numpy(), 0)], price
    )
    c_view = person_view(
        P,
        carts["pidx"].to_numpy(),
        carts["created"].to_numpy(),
        rng,
        name_noise={},
        email_noise={Z.E_CASE: 0.03},
        profile=ctx.profile,
    )
    is_active = ~conv_mask & (carts["updated"].to_numpy() > ctx.end_s - 60 * DAY)
    ct = pd.DataFrame(
        {
            "entity_id": carts["cart_id"].to_numpy(),
            "customer_id": carts["customer_id"].to_numpy(),
            "customer_email": c_view["email"],
            "created_at": W.iso(carts["created"].to_numpy()).to_numpy(zero_copy_only=False),
            "updated_at": W.iso(carts["updated"].to_numpy()).to_numpy(zero_copy_only=False),
            "is_active": is_active,
            "converted_order_id": pd.array(
                np.where(conv_mask, carts["converted"].to_numpy(), np.nan), dtype="Int64"
            ),
            "grand_total": np.round(total, 2),
            "sku": cart_sku,
            "price": price,
            "month": W.month_of(carts["updated"].to_numpy()).to_numpy(zero_copy_only=False),
        }
    )
    cart_items = W.struct(
        item_id=np.arange(1, m + 1),
        sku=pa.array(cart_sku, pa.string()),
        qty=np.ones(m, np.int64),
        price=price,
    )
    table = pa.table(
        {
            "entity_id": ct["entity_id"].to_numpy(),
            "customer_id": ct["customer_id"].to_numpy(),
            "customer_email": pa.array(
                ct["customer_email"].to_numpy(), pa.string(), from_pandas=True
            ),
            "created_at": pa.array(ct["created_at"].to_numpy(), pa.string()),
            "updated_at": pa.array(ct["updated_at"].to_numpy(), pa.string()),
            "is_active": ct["is_active"].to_numpy(dtype=bool),
            "converted_order_id": pa.array(
                ct["converted_order_id"].to_numpy(dtype=float), pa.int64(), from_pandas=True
            ),
            "grand_total": ct["grand_total"].to_numpy(),
            "items": W.nest(np.arange(m), np.arange(m), cart_items),
        }
    )
    ctx.files.update(
        W.copy_monthly(
            ctx.con,
            table,
            ct["month"].to_numpy(dtype=object),
            "entity_id",
            ctx.landing / "shop" / "carts",
            "carts",
            "json",
        )
    )
    return web


def W_keep(P: pd.DataFrame, pidx: np.ndarray, t: np.ndarray) -> np.ndarray:
    from cdp_demo.generator.behaviour import keep_probability

    return keep_probability(P, pidx, t)


# --------------------------------------------------------------------------------------------
def write_clienteling(ctx: Ctx, stores: pd.DataFrame, cards: pd.DataFrame) -> None:
    P, rng = ctx.P, ctx.rng
    persons = np.flatnonzero(P["in_clienteling"].to_numpy())
    created = _clip(
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
        _later(ctx, upd1, 500, 1.5) + DAY,
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
        name_noise=N_STAFF_NAME_NOISE,
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
    ctx.files.update(
        W.copy_monthly(
            ctx.con,
            table,
            df["month"].to_numpy(dtype=object),
            "_sort",
            ctx.landing / "clienteling",
            "clients",
            "csv",
            drop=["_sort"],
        )
    )
    ctx.add_identity("clienteling", client_id, persons)
    ctx.add_seen("clienteling", keys, r_p, email=email, phone=phone, street=view["street"])
    ctx.log.add("clienteling", client_id, "record", np.full(n, "edited_later", dtype=object), edit)


# --------------------------------------------------------------------------------------------
OPEN_BASE = {"loyal": 0.42, "new": 0.38, "lapsing": 0.30, "churned": 0.30, "one_off": 0.16}


def campaigns_schedule(ctx: Ctx) -> pd.DataFrame:
    from cdp_demo.generator.behaviour import month_edges

    edges = month_edges(ctx.start_s, ctx.end_s)
    rows = []
    themes = (
        "Nouveautés de la saison",
        "L'art du cuir",
        "Édition limitée",
        "Nos idées cadeaux",
        "La nouvelle collection",
        "Savoir-faire de nos ateliers",
        "Les essentiels",
    )
    for m in range(edges.size - 1):
        month_start = int(edges[m])
        mdate = datetime.fromtimestamp(month_start, tz=UTC)
        label = f"{mdate.year}-{mdate.month:02d}"
        plan = [("newsletter", "email", 2), ("newsletter", "email", 16), ("promo", "email", 9)]
        if mdate.month in (1, 6, 7, 11, 12):
            plan.append(("promo", "email", 24))
        if m % 2 == 0:
            plan.append(("event", "email", 20))
            plan.append(("promo", "sms", 12))
        for category, channel, day in plan:
            base = datetime(mdate.year, mdate.month, 1, tzinfo=UTC)
            sent = int(base.timestamp()) + (day - 1) * DAY + 8 * 3600
            if sent < ctx.start_s or sent > ctx.end_s - DAY:
                continue
            theme = themes[(m + day) % len(themes)]
            rows.append(
                {
                    "category": category,
                    "channel": channel,
                    "sent": sent,
                    "name": f"{label} {category} {channel} J{day}",
                    "subject": {
                        "newsletter": theme,
                        "promo": "Ventes privées : jusqu'à -30 %",
                        "event": "Vous êtes invité(e) en boutique",
                    }[category],
                }
            )
    df = pd.DataFrame(rows).sort_values(["sent", "name"], kind="stable").reset_index(drop=True)
    df["campaign_id"] = W.zfill("CMP-", 1 + np.arange(len(df)), 4)
    return df


def build_esp_contacts(
    ctx: Ctx, acc: pd.DataFrame, cards: pd.DataFrame, signups: pd.DataFrame
) -> pd.DataFrame:
    P, rng = ctx.P, ctx.rng
    persons = np.flatnonzero(P["in_esp"].to_numpy())
    origin = P["esp_origin"].to_numpy()[persons]
    t = P["first_seen"].to_numpy()[persons] + rng.integers(0, 30 * DAY, persons.size)
    shop_t = (
        pd.Series(persons)
        .map(acc[acc["kind"] == "main"].set_index("pidx")["created"])
        .to_numpy(dtype=float)
    )
    card_t = (
        pd.Series(persons)
        .map(cards[cards["kind"] == "main"].set_index("pidx")["issued"])
        .to_numpy(dtype=float)
    )
    ev_t = pd.Series(persons).map(signups.groupby("pidx")["event_s"].min()).to_numpy(dtype=float)
    t = np.where(origin == "shop", shop_t + 60, t)
    t = np.where(origin == "store", card_t + 3600, t)
    t = np.where(origin == "event", ev_t + 5 * DAY, t)
    t = _clip(np.nan_to_num(t, nan=ctx.start_s).astype(np.int64), ctx)
    n_test = 2
    c = pd.DataFrame(
        {
            "pidx": np.concatenate([persons, np.full(n_test, -1)]),
            "created": np.concatenate([t, ctx.start_s + np.array([3 * DAY, 40 * DAY])]),
            "origin": np.concatenate([origin, np.array(["import", "import"], dtype=object)]),
        }
    )
    c = c.sort_values(["created", "pidx"], kind="stable").reset_index(drop=True)
    c["contact_id"] = W.zfill("SP-", 1000 + np.arange(len(c)), 8)
    real = c["pidx"].to_numpy() >= 0
    view = person_view(
        P,
        np.maximum(c["pidx"].to_numpy(), 0),
        c["created"].to_numpy(),
        rng,
        name_noise={Z.NO_ACCENT: 0.05, Z.UPPER: 0.02, Z.NICK: 0.01},
        email_noise={
            Z.E_CASE: 0.0,
            Z.E_PLUS: 0.01,
            Z.E_DOTS: 0.01,
            Z.E_DOMAIN_TYPO: 0.012,
            Z.E_ALT: 0.05,
        },
        phone_formats=(0.05, 0.05, 0.0, 0.0, 0.05, 0.85, 0.0),
        missing={"phone": 0.5, "first": 0.1},
        profile=ctx.profile,
    )
    test_no = np.cumsum(~real)
    view["email"] = np.where(
        real,
        pd.Series(view["email"]).str.strip().str.lower().to_numpy(dtype=object),
        "test+" + pd.Series(test_no).astype(str) + "@horizon.fr",
    )
    for key in ("first", "last", "phone"):
        view[key] = np.where(real, view[key], None)
    view["first"] = np.where(real, view["first"], "Test")
    c["email"], c["first"], c["last"], c["cellphone"] = (
        view["email"],
        view["first"],
        view["last"],
        view["phone"],
    )
    c["typo_domain"] = (view["e_codes"] == Z.E_DOMAIN_TYPO) & real
    c["sms"] = pd.notna(c["cellphone"]) & (rng.random(len(c)) < 0.6)
    keys = c["contact_id"].to_numpy()
    log_view(
        ctx.log,
        "esp_contact",
        keys[real],
        {k: (v[real] if isinstance(v, np.ndarray) else v) for k, v in view.items()},
        address=False,
    )
    ctx.add_identity(
        "esp_contact",
        keys,
        c["pidx"].to_numpy(),
        np.where(real, "", "TEST-8" + pd.Series(test_no).astype(str).str.zfill(5)),
    )
    ctx.add_seen(
        "esp_contact",
        keys[real],
        c["pidx"].to_numpy()[real],
        email=c["email"].to_numpy()[real],
        phone=c["cellphone"].to_numpy()[real],
    )
    return c


def write_esp(ctx: Ctx, contacts: pd.DataFrame) -> pd.DataFrame:
    """Campaign events month by month (bounded memory); returns the unsubscribes."""
    P, rng = ctx.P, ctx.rng
    camp = campaigns_schedule(ctx)
    ctx.con.register(
        "camp_t",
        pa.Table.from_pandas(
            camp.assign(sent_at=W.iso(camp["sent"].to_numpy()).to_numpy(zero_copy_only=False)),
            preserve_index=False,
        ),
    )
    path = ctx.landing / "esp" / "campaigns.csv"
    ctx.files[str(path)] = W.copy_csv(
        ctx.con,
        "SELECT campaign_id, name, channel, category, subject, sent_at "
        "FROM camp_t ORDER BY campaign_id",
        path,
    )
    ctx.con.unregister("camp_t")
    n = len(contacts)
    created = contacts["created"].to_numpy()
    cp = contacts["pidx"].to_numpy()
    pp = np.maximum(cp, 0)
    base_open = np.where(
        cp >= 0, pd.Series(P["profile"].to_numpy()[pp]).map(OPEN_BASE).to_numpy(), 0.5
    )
    unsub_at = np.full(n, np.iinfo(np.int64).max)
    bounced_at = np.full(n, np.iinfo(np.int64).max)
    sms_ok = contacts["sms"].to_numpy()
    typo = contacts["typo_domain"].to_numpy()
    email = contacts["email"].to_numpy()
    cid = contacts["contact_id"].to_numpy()
    audience = {"newsletter": 0.20, "promo": 0.18, "event": 0.08}
    ev_types = ("sent", "delivered", "bounce", "open", "click", "unsubscribe")
    ctx.con.register(
        "esp_contacts",
        pa.table(
            {
                "ci": np.arange(n, dtype=np.int64),
                "contact_id": pa.array(cid),
                "email": pa.array(email, from_pandas=True),
            }
        ),
    )
    ctx.con.register(
        "esp_camps",
        pa.table(
            {
                "ki": np.arange(len(camp), dtype=np.int64),
                "campaign_id": pa.array(camp["campaign_id"].to_numpy()),
            }
        ),
    )
    pending: list[dict] = []
    seq = 0
    out_dir = ctx.landing / "esp" / "events"
    out_dir.mkdir(parents=True, exist_ok=True)
    month_idx = (
        camp["sent"].to_numpy().astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    )
    unsubs = []

    def flush(upto: int | None) -> None:
        nonlocal pending
        if not pending:
            return
        ev = {k: np.concatenate([p[k] for p in pending]) for k in pending[0]}
        ev_month = ev["t"].astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
        done = np.ones(ev_month.size, bool) if upto is None else ev_month <= upto
        pending = [] if upto is None else [{k: v[~done] for k, v in ev.items()}]
        for month in np.unique(ev_month[done]):
            m = done & (ev_month == month)
            ctx.con.register("esp_ev", pa.table({k: v[m] for k, v in ev.items()}))
            label = str(np.datetime64(int(month), "M"))
            path = out_dir / f"events_{label}.jsonl"
            tmp = out_dir / f".part_{label}.jsonl"
            types = "[" + ", ".join(f"'{x}'" for x in ev_types) + "]"
            ctx.con.execute(f"""COPY (
                SELECT 'EV' || lpad(e.seq::VARCHAR, 12, '0') AS event_id, k.campaign_id, c.contact_id,
                       c.email, {types}[e.etype + 1] AS event_type,
                       strftime(make_timestamp(e.t * 1000000), '%Y-%m-%dT%H:%M:%SZ') AS occurred_at,
                       CASE WHEN e.etype = 4 THEN 'https://www.horizon-paris.com/fr/?utm_source=esp&utm_campaign='
                            || k.campaign_id END AS url,
                       CASE e.bounce WHEN 1 THEN 'hard' WHEN 2 THEN 'soft' END AS bounce_type
                FROM esp_ev e JOIN esp_contacts c ON c.ci = e.contact JOIN esp_camps k ON k.ki = e.camp
                ORDER BY e.t, e.seq) TO '{tmp}' (FORMAT JSON)""").fetchall()
            with open(path, "ab") as fh, open(tmp, "rb") as src:
                fh.write(src.read())
            tmp.unlink()
            ctx.files[str(path)] = ctx.files.get(str(path), 0) + int(m.sum())
            ctx.con.unregister("esp_ev")

    current = None
    for i, cm in enumerate(camp.itertuples(index=False)):
        if current is not None and month_idx[i] != current:
            flush(current)
        current = month_idx[i]
        s = int(cm.sent)
        ok = (created < s) & (unsub_at > s) & (bounced_at > s) & (cp >= 0)
        if cm.channel == "sms":
            ok &= sms_ok
            target = np.flatnonzero(ok & (rng.random(n) < 0.3))
        else:
            target = np.flatnonzero(ok & (rng.random(n) < audience[cm.category]))
        k = target.size
        if k == 0:
            continue
        t_sent = s + rng.integers(0, 3600, k)
        act = activity_at(P, pp[target], t_sent.astype(np.int64))
        hard = typo[target] if cm.channel == "email" else np.zeros(k, bool)
        soft = ~hard & (rng.random(k) < 0.01)
        delivered = ~hard & ~soft
        p_open = np.clip(base_open[target] * (0.25 + 0.75 * act), 0, 0.95)
        opened = delivered & (rng.random(k) < p_open) & (cm.channel == "email")
        clicked = opened & (rng.random(k) < 0.22 * (0.5 + act))
        if cm.channel == "sms":
            clicked = delivered & (rng.random(k) < 0.04 * (0.5 + act))
        unsub = delivered & (rng.random(k) < 0.002 + 0.006 * (1 - act))
        t_deliv = t_sent + rng.integers(5, 300, k)
        t_open = t_deliv + (rng.exponential(6 * 3600, k)).astype(np.int64)
        t_click = t_open + rng.integers(5, 600, k)
        t_unsub = np.where(opened, t_open, t_deliv) + rng.integers(30, 900, k)
        bounced_at[target[hard]] = t_sent[hard]
        unsub_at[target[unsub]] = t_unsub[unsub]
        bounce_code = np.where(hard, 1, 2).astype(np.int8)
        for code, (mask, tt) in enumerate(
            (
                (np.ones(k, bool), t_sent),
                (delivered, t_deliv),
                (hard | soft, t_deliv),
                (opened, t_open),
                (clicked, t_click),
                (unsub, t_unsub),
            )
        ):
            idx = np.flatnonzero(mask & (tt <= ctx.end_s))
            if idx.size == 0:
                continue
            pending.append(
                {
                    "seq": seq + np.arange(idx.size, dtype=np.int64),
                    "camp": np.full(idx.size, i, dtype=np.int64),
                    "contact": target[idx].astype(np.int64),
                    "etype": np.full(idx.size, code, dtype=np.int8),
                    "t": tt[idx].astype(np.int64),
                    "bounce": bounce_code[idx] if code == 2 else np.zeros(idx.size, np.int8),
                }
            )
            seq += idx.size
        u = np.flatnonzero(unsub & (t_unsub <= ctx.end_s))
        unsubs.append(
            pd.DataFrame({"pidx": cp[target[u]], "email": email[target[u]], "t": t_unsub[u]})
        )
    flush(None)
    # contacts with their final subscription state
    big = np.iinfo(np.int64).max
    stopped = (unsub_at < big) | (bounced_at < big)
    upd = np.where(stopped, np.minimum(unsub_at, bounced_at), created + rng.integers(0, 2 * DAY, n))
    upd = np.minimum(upd, ctx.end_s)
    ct = _arrow(
        {
            "contact_id": cid,
            "email": email,
            "first_name": contacts["first"].to_numpy(),
            "last_name": contacts["last"].to_numpy(),
            "cellphone": contacts["cellphone"].to_numpy(),
            "subscribed_email": (~stopped).astype(int),
            "subscribed_sms": sms_ok.astype(int),
            "created_at": W.iso(created),
            "updated_at": W.iso(upd),
            "origin": contacts["origin"].to_numpy(),
        }
    )
    ctx.con.register("contacts_t", ct)
    path = ctx.landing / "esp" / "contacts.csv"
    ctx.files[str(path)] = W.copy_csv(ctx.con, "SELECT * FROM contacts_t ORDER BY contact_id", path)
    return (
        pd.concat(unsubs, ignore_index=True)
        if unsubs
        else pd.DataFrame(columns=["pidx", "email", "t"])
    )


# --------------------------------------------------------------------------------------------
PAGES = np.array(
    [
        "https://www.horizon-paris.com/fr/",
        "https://www.horizon-paris.com/fr/c/sacs",
        "https://www.horizon-paris.com/fr/c/chaussures",
        "https://www.horizon-paris.com/fr/c/pret-a-porter",
        "https://www.horizon-paris.com/fr/c/bijoux",
        "https://www.horizon-paris.com/fr/nouveautes",
        "https://www.horizon-paris.com/fr/boutiques",
        "https://www.horizon-paris.com/fr/compte",
    ],
    dtype=object,
)
UTM = (  # source, medium, weight
    (None, None, 0.55),
    ("google", "cpc", 0.14),
    ("google", "organic", 0.10),
    ("esp", "email", 0.12),
    ("instagram", "social", 0.07),
    ("affiliate", "partner", 0.02),
)


def build_cookies(ctx: Ctx, acc: pd.DataFrame, web_orders: pd.DataFrame) -> pd.DataFrame:
    P, rng = ctx.P, ctx.rng
    main = acc[acc["kind"] == "main"]
    main = main[rng.random(len(main)) < 0.9]
    n_dev = 1 + (rng.random(len(main)) < 0.4) + (rng.random(len(main)) < 0.1)
    owner = np.repeat(np.arange(len(main)), n_dev)
    rank = np.arange(owner.size) - np.repeat(np.cumsum(n_dev) - n_dev, n_dev)
    created = main["created"].to_numpy()[owner]
    start = np.where(
        rank == 0, created - rng.integers(0, 60 * DAY, owner.size), _later(ctx, created, 700, 1.0)
    )
    login = np.where(rank == 0, created, start + rng.integers(0, 90 * DAY, owner.size))
    ident = pd.DataFrame(
        {
            "pidx": main["pidx"].to_numpy()[owner],
            "user_id": main["entity_id"].to_numpy()[owner],
            "start": np.maximum(start, ctx.start_s),
            "login": login,
            "rank": rank,
            "kind": "account",
        }
    )
    guests = np.unique(
        web_orders.loc[
            web_orders["guest"] & ~P["in_shop"].to_numpy()[web_orders["pidx"].to_numpy()], "pidx"
        ]
    )
    first_guest = web_orders[web_orders["guest"]].groupby("pidx")["t"].min()
    g = pd.DataFrame(
        {
            "pidx": guests,
            "user_id": -1,
            "start": np.maximum(
                first_guest.reindex(guests).to_numpy() - rng.integers(0, 20 * DAY, guests.size),
                ctx.start_s,
            ),
            "login": np.iinfo(np.int64).max,
            "rank": 0,
            "kind": "guest",
        }
    )
    n_anon = int(len(P) * 0.8)
    a = pd.DataFrame(
        {
            "pidx": -1,
            "user_id": -1,
            "start": ctx.start_s + rng.integers(0, ctx.end_s - ctx.start_s, n_anon),
            "login": np.iinfo(np.int64).max,
            "rank": 0,
            "kind": "anonymous",
        }
    )
    cookies = pd.concat([ident, g, a], ignore_index=True)
    cookies = cookies[cookies["start"] <= ctx.end_s].reset_index(drop=True)
    cookies["anonymous_id"] = W.hex_ids(
        "", rng.integers(0, np.iinfo(np.int64).max, len(cookies), dtype=np.uint64)
    ).astype(object)
    cookies["device"] = np.array(["desktop", "mobile", "tablet"], dtype=object)[
        rng.choice(3, len(cookies), p=[0.45, 0.48, 0.07])
    ]
    pc_ = np.maximum(cookies["pidx"].to_numpy(), 0)
    cookies["country"] = np.where(
        cookies["pidx"].to_numpy() >= 0,
        P["country"].to_numpy()[pc_],
        np.array(["FR", "FR", "FR", "BE", "CH", "US", "GB", "DE", "CN"], dtype=object)[
            rng.integers(0, 9, len(cookies))
        ],
    )
    return cookies


EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "checkout", "purchase", "login")
SPECIAL_URLS = (
    "https://www.horizon-paris.com/fr/customer/account/login",
    "https://www.horizon-paris.com/fr/checkout",
    "https://www.horizon-paris.com/fr/checkout/success",
)


def _sessions_to_events(
    ctx: Ctx,
    s: pd.DataFrame,
    session_ids: pa.Array,
    cookie_ids: pa.Array,
    cookie_dev: np.ndarray,
    cookie_ctry: np.ndarray,
    seq0: int,
    lo: int,
    hi: int,
) -> pa.Table:
    """Expand sessions into event rows; strings come from small dictionaries via Arrow `take`."""
    rng = ctx.rng
    n_ev = s["n_ev"].to_numpy()
    n_s = len(s)
    sess = np.repeat(np.arange(n_s), n_ev)
    fi = np.cumsum(n_ev) - n_ev
    pos = np.arange(sess.size) - fi[sess]
    kind = s["kind"].to_numpy()[sess]
    login_pos = s["login_pos"].to_numpy()[sess]
    u = rng.random(sess.size)
    etype = np.where(u < 0.62, 1, np.where(u < 0.9, 0, 2)).astype(np.int8)
    etype[pos == 0] = 0
    etype[pos == login_pos] = 5
    last = pos == n_ev[sess] - 1
    is_buy = kind == "purchase"
    etype[is_buy & (pos == n_ev[sess] - 4)] = 1
    etype[is_buy & (pos == n_ev[sess] - 3)] = 2
    etype[is_buy & (pos == n_ev[sess] - 2)] = 3
    etype[is_buy & last] = 4
    n_sku = ctx.catalog_skus.size
    sku = rng.choice(n_sku, sess.size, p=ctx.catalog_p)
    buy_sku = s["sku1_idx"].to_numpy()[sess]
    sku = np.where(is_buy & ((etype == 1) | (etype == 2)) & (pos >= n_ev[sess] - 4), buy_sku, sku)
    step = rng.integers(15, 120, sess.size)
    cs = np.cumsum(step)
    offs = cs - step - (cs[fi] - step[fi])[sess]
    offs_last = offs[fi + n_ev - 1][sess]
    start = s["t"].to_numpy()[sess]
    t = np.where(
        is_buy, start - (offs_last - offs), start + offs
    )  # purchases end at the order time
    t = np.clip(t, lo, hi - 1)
    cookie = s["cookie"].to_numpy()[sess]
    logged = (login_pos >= 0) & (pos >= login_pos)
    product = (etype == 1) | (etype == 2)
    n_pages = PAGES.size
    url_idx = np.where(product, sku, n_sku + rng.integers(0, n_pages, sess.size))
    url_idx = np.where(etype == 5, n_sku + n_pages, url_idx)
    url_idx = np.where(etype == 3, n_sku + n_pages + 1, url_idx)
    url_idx = np.where(etype == 4, n_sku + n_pages + 2, url_idx)
    order = np.lexsort((pos, sess, t))
    sess_o, cookie_o = sess[order], cookie[order]
    user = s["user_id"].to_numpy()[sess_o]
    month = datetime.fromtimestamp(lo, tz=UTC).strftime("%Y%m")
    utm_i = s["utm"].to_numpy()[sess_o]
    take = lambda values, idx: pc.take(values, pa.array(idx))  # noqa: E731
    return pa.table(
        {
            "event_id": W.zfill_arrow(f"we{month}-", seq0 + np.arange(sess.size), 9),
            "occurred_at": pa.array(t[order] * 1_000_000, pa.int64()).cast(
                pa.timestamp("us", tz="UTC")
            ),
            "session_id": take(session_ids, sess_o),
            "anonymous_id": take(cookie_ids, cookie_o),
            "user_id": pa.array(user, mask=~(logged[order] & (user >= 0))).cast(pa.string()),
            "event_type": take(pa.array(EVENT_TYPES), etype[order]),
            "page_url": take(ctx.url_dict, url_idx[order]),
            "product_sku": pc.take(
                pa.array(ctx.catalog_skus, pa.string()), pa.array(sku[order], mask=~product[order])
            ),
            "order_increment_id": pc.take(
                pa.array(s["increment_id"].to_numpy(), pa.string(), from_pandas=True),
                pa.array(sess_o, mask=etype[order] != 4),
            ),
            "device": take(pa.array(["desktop", "mobile", "tablet"]), cookie_dev[cookie_o]),
            "utm_source": take(pa.array([u[0] for u in UTM], pa.string()), utm_i),
            "utm_medium": take(pa.array([u[1] for u in UTM], pa.string()), utm_i),
            "utm_campaign": take(
                pa.array([None, None, None, "newsletter", "instagram", "affiliate"], pa.string()),
                utm_i,
            ),
            "country": take(ctx.country_dict, cookie_ctry[cookie_o]),
        }
    )


def write_web(ctx: Ctx, cookies: pd.DataFrame, web_orders: pd.DataFrame) -> None:
    from cdp_demo.generator.behaviour import month_edges

    P, rng = ctx.P, ctx.rng
    edges = month_edges(ctx.start_s, ctx.end_s)
    cp = cookies["pidx"].to_numpy()
    kind = cookies["kind"].to_numpy()
    start = cookies["start"].to_numpy()
    login = cookies["login"].to_numpy()
    rate = np.where(cp >= 0, P["order_rate"].to_numpy()[np.maximum(cp, 0)], 0.0)
    n_dev = cookies.groupby("pidx")["pidx"].transform("size").to_numpy()
    # anonymous visitors: 1-4 sessions within two months of their first visit
    anon = np.flatnonzero(kind == "anonymous")
    n_anon_s = 1 + rng.geometric(0.6, anon.size) - 1
    a_cookie = np.repeat(anon, n_anon_s)
    a_t = start[a_cookie] + (rng.random(a_cookie.size) ** 2 * 60 * DAY).astype(np.int64)
    a_keep = a_t <= ctx.end_s
    a_cookie, a_t = a_cookie[a_keep], a_t[a_keep]
    # purchase sessions
    wo = web_orders
    pcook = pd.Series(
        np.arange(len(cookies)),
        index=pd.MultiIndex.from_arrays([cp, cookies["rank"].to_numpy(), kind]),
    )
    acct_cookie = pd.Series(pcook.xs("account", level=2).xs(0, level=1))
    guest_cookie = pd.Series(pcook.xs("guest", level=2).xs(0, level=1))
    b_cookie = np.where(
        wo["guest"].to_numpy(),
        wo["pidx"].map(guest_cookie).to_numpy(dtype=float),
        wo["pidx"].map(acct_cookie).to_numpy(dtype=float),
    )
    b_cookie = np.where(
        np.isnan(b_cookie), wo["pidx"].map(acct_cookie).to_numpy(dtype=float), b_cookie
    )
    has = ~np.isnan(b_cookie)
    buys = wo[has].assign(cookie=b_cookie[has].astype(np.int64))
    login_cookies = np.flatnonzero((kind == "account") & (login <= ctx.end_s))
    utm_p = np.array([u[2] for u in UTM])
    user_ids = cookies["user_id"].to_numpy()
    cookie_ids = pa.array(cookies["anonymous_id"].to_numpy(), pa.string())
    dev_code = pd.Categorical(
        cookies["device"], categories=["desktop", "mobile", "tablet"]
    ).codes.astype(np.int64)
    ctry_cat = pd.Categorical(cookies["country"])
    ctry_code = ctry_cat.codes.astype(np.int64)
    ctx.country_dict = pa.array(np.asarray(ctry_cat.categories, dtype=object), pa.string())
    ctx.url_dict = pa.array(
        np.concatenate(
            [
                (
                    "https://www.horizon-paris.com/fr/p/" + pd.Series(ctx.catalog_skus).str.lower()
                ).to_numpy(dtype=object),
                PAGES,
                np.array(SPECIAL_URLS, dtype=object),
            ]
        ),
        pa.string(),
    )
    sku_index = pd.Index(ctx.catalog_skus)
    seq = 0
    counts = {}
    web_dir = ctx.landing / "web"
    for m in range(edges.size - 1):
        lo, hi = int(edges[m]), int(edges[m + 1])
        mid = (lo + hi) // 2
        # browsing sessions of identified cookies follow the owner's activity
        ident = np.flatnonzero((kind != "anonymous") & (start < hi))
        act = activity_at(P, cp[ident], np.full(ident.size, mid, dtype=np.int64))
        lam = (0.12 + rate[ident] / 12 * 2.2) * act / n_dev[ident] * (hi - lo) / (30 * DAY)
        k = rng.poisson(lam)
        b_c = np.repeat(ident, k)
        b_t = lo + (rng.random(b_c.size) * (hi - lo)).astype(np.int64)
        ok = b_t >= start[b_c]
        b_c, b_t = b_c[ok], b_t[ok]
        am = (a_t >= lo) & (a_t < hi)
        lm = (login[login_cookies] >= lo) & (login[login_cookies] < hi)
        bm = (buys["t"].to_numpy() >= lo) & (buys["t"].to_numpy() < hi)
        bb = buys[bm]
        sess = pd.DataFrame(
            {
                "cookie": np.concatenate(
                    [b_c, a_cookie[am], login_cookies[lm], bb["cookie"].to_numpy()]
                ),
                "t": np.concatenate([b_t, a_t[am], login[login_cookies[lm]], bb["t"].to_numpy()]),
                "kind": np.concatenate(
                    [
                        np.full(b_c.size, "browse"),
                        np.full(int(am.sum()), "browse"),
                        np.full(int(lm.sum()), "login"),
                        np.full(len(bb), "purchase"),
                    ]
                ),
                "increment_id": np.concatenate(
                    [
                        np.full(b_c.size + int(am.sum()) + int(lm.sum()), None),
                        bb["increment_id"].to_numpy(),
                    ]
                ),
                "sku1": np.concatenate(
                    [np.full(b_c.size + int(am.sum()) + int(lm.sum()), None), bb["sku1"].to_numpy()]
                ),
                "guest": np.concatenate(
                    [
                        np.ones(b_c.size + int(am.sum()), bool),
                        np.zeros(int(lm.sum()), bool),
                        bb["guest"].to_numpy(),
                    ]
                ),
            }
        )
        if sess.empty:
            continue
        sess = sess.sort_values(["t", "cookie"], kind="stable").reset_index(drop=True)
        c = sess["cookie"].to_numpy()
        n = len(sess)
        sk = sess["kind"].to_numpy()
        can_login = (kind[c] == "account") & (sess["t"].to_numpy() >= login[c])
        logged = np.where(sk == "browse", can_login & (rng.random(n) < 0.55), sk == "login")
        logged |= (sk == "purchase") & ~sess["guest"].to_numpy() & (kind[c] == "account")
        n_ev = np.where(sk == "browse", 1 + rng.poisson(2.2, n), np.where(sk == "login", 3, 6))
        n_ev = n_ev + ((sk == "browse") & logged)
        sess["n_ev"] = n_ev
        sess["login_pos"] = np.where(logged, 1, -1)
        sess["user_id"] = user_ids[c]
        session_ids = pa.array(
            W.hex_ids("s", rng.integers(0, np.iinfo(np.int64).max, n, dtype=np.uint64))
        )
        sess["utm"] = rng.choice(utm_p.size, n, p=utm_p)
        sess["sku1_idx"] = np.maximum(sku_index.get_indexer(sess["sku1"].to_numpy()), 0)
        table = _sessions_to_events(
            ctx, sess, session_ids, cookie_ids, dev_code, ctry_code, seq, lo, hi
        )
        seq += table.num_rows
        label = datetime.fromtimestamp(lo, tz=UTC).strftime("%Y-%m")
        path = web_dir / f"events_{label}.parquet"
        counts[str(path)] = W.write_parquet(table, path)
    ctx.files.update(counts)
    # identity: every cookie owned by a true person (logged in, or guest buyer)
    owned = cookies[cookies["pidx"] >= 0]
    owned = owned[(owned["kind"] == "guest") | (owned["login"] <= ctx.end_s)]
    ctx.add_identity("web_visitor", owned["anonymous_id"].to_numpy(), owned["pidx"].to_numpy())
    early = (owned["kind"] == "account") & (owned["start"] < owned["login"])
    ctx.log.add(
        "web_visitor",
        owned["anonymous_id"].to_numpy(),
        "visitor",
        np.full(len(owned), "anonymous_before_login", dtype=object),
        early.to_numpy(),
    )


# --------------------------------------------------------------------------------------------
def write_service(ctx: Ctx, web_orders: pd.DataFrame) -> None:
    P, rng = ctx.P, ctx.rng
    persons = np.flatnonzero(P["in_service"].to_numpy())
    k = 1 + rng.poisson(0.35, persons.size)
    tp = np.repeat(persons, k)
    n = tp.size
    refs = pd.concat(
        [
            web_orders[["pidx", "t", "increment_id"]].rename(columns={"increment_id": "ref"}),
            ctx.receipt_refs[ctx.receipt_refs["pidx"] >= 0],
        ],
        ignore_index=True,
    )
    refs = refs.sort_values(["pidx", "t"], kind="stable").reset_index(drop=True)
    lo = np.searchsorted(refs["pidx"].to_numpy(), tp, "left")
    hi = np.searchsorted(refs["pidx"].to_numpy(), tp, "right")
    has = hi > lo
    pick = lo + (rng.random(n) * np.maximum(hi - lo, 1)).astype(np.int64)
    tied = has & (rng.random(n) < 0.65)
    pick = np.minimum(pick, len(refs) - 1)
    t_order = refs["t"].to_numpy()[pick]
    fs = P["first_seen"].to_numpy()[tp]
    t_free = fs + (rng.random(n) * np.maximum(ctx.end_s - fs, DAY)).astype(np.int64)
    t = np.where(tied, t_order + rng.integers(3600, 20 * DAY, n), t_free)
    churn = P["churn_at"].to_numpy()[tp]
    t = np.where((churn >= 0) & (t > churn + 30 * DAY), churn + rng.integers(0, 30 * DAY, n), t)
    keep = t <= ctx.end_s
    tp, t, tied, pick = tp[keep], t[keep], tied[keep], pick[keep]
    order = np.lexsort((tp, t))
    tp, t, tied, pick = tp[order], t[order], tied[order], pick[order]
    n = tp.size
    keys = W.zfill("T-", 1 + np.arange(n), 6)
    view = person_view(
        P,
        tp,
        t,
        rng,
        email_noise={
            Z.E_CASE: 0.05,
            Z.E_UPPER: 0.02,
            Z.E_ALT: 0.12,
            Z.E_DOMAIN_TYPO: 0.01,
            Z.E_MISSING: 0.05,
        },
        profile=ctx.profile,
    )
    channel = np.array(["email", "phone", "chat", "store"], dtype=object)[
        rng.choice(4, n, p=[0.45, 0.25, 0.2, 0.1])
    ]
    style = rng.random(n)
    upper_last = pd.Series(view["last"]).str.upper()
    fl = pd.Series(view["first"]) + " " + pd.Series(view["last"])
    name = np.where(
        style < 0.6,
        fl,
        np.where(style < 0.85, upper_last + " " + pd.Series(view["first"]), fl.str.lower()),
    ).astype(object)
    name = np.where(style > 0.97, pd.Series(view["first"]).to_numpy(dtype=object), name)
    email = np.where(
        channel == "phone", np.where(rng.random(n) < 0.5, None, view["email"]), view["email"]
    )
    phone = np.where((channel == "phone") | (rng.random(n) < 0.3), view["phone"], None)
    cat = np.where(
        tied,
        rng.choice(
            np.array(["delivery", "return", "product", "payment"], dtype=object),
            n,
            p=[0.35, 0.35, 0.2, 0.1],
        ),
        rng.choice(
            np.array(["account", "product", "other", "payment"], dtype=object),
            n,
            p=[0.4, 0.3, 0.2, 0.1],
        ),
    )
    subjects = {
        "delivery": "Où est ma commande ?",
        "return": "Demande de retour",
        "product": "Question produit",
        "payment": "Problème de paiement",
        "account": "Accès à mon compte",
        "other": "Demande d'information",
    }
    age = ctx.end_s - t
    status = np.where(
        age < 2 * DAY,
        "open",
        np.where(
            age < 6 * DAY,
            np.where(rng.random(n) < 0.5, "pending", "solved"),
            np.where(rng.random(n) < 0.7, "closed", "solved"),
        ),
    ).astype(object)
    solved = np.isin(status, ["solved", "closed"])
    solved_t = np.minimum(t + rng.integers(600, 5 * DAY, n), ctx.end_s)
    sat = np.where(
        solved & (rng.random(n) < 0.45),
        rng.choice([1, 2, 3, 4, 5], n, p=[0.06, 0.08, 0.16, 0.3, 0.4]),
        0,
    )
    df = pd.DataFrame(
        {
            "ticket_id": keys,
            "created_at": W.iso(t).to_numpy(zero_copy_only=False),
            "channel": channel,
            "requester_name": name,
            "requester_email": email,
            "requester_phone": phone,
            "category": cat,
            "subject": pd.Series(cat).map(subjects).to_numpy(dtype=object),
            "order_reference": np.where(tied, refs["ref"].to_numpy()[pick], None),
            "status": status,
            "satisfaction": pd.array(np.where(sat > 0, sat, np.nan), dtype="Int64"),
            "solved_at": W.iso(solved_t, ~solved).to_numpy(zero_copy_only=False),
            "month": W.month_of(t).to_numpy(zero_copy_only=False),
        }
    )
    ctx.files.update(
        W.copy_monthly(
            ctx.con,
            pa.Table.from_pandas(df.drop(columns="month"), preserve_index=False),
            df["month"].to_numpy(dtype=object),
            "ticket_id",
            ctx.landing / "service",
            "tickets",
            "csv",
        )
    )
    log_view(ctx.log, "service_ticket", keys, view, address=False)
    ctx.add_identity("service_ticket", keys, tp)
    ctx.add_seen("service_ticket", keys, tp, email=email, phone=phone)


# --------------------------------------------------------------------------------------------
EVENTS = (  # name, store index, month offset from window start, file kind
    ("Vernissage Croisière Saint-Honoré", 0, 4, "xlsx"),
    ("Soirée VIP Montaigne", 1, 10, "xlsx"),
    ("Atelier gravure Lyon", 6, 15, "csv"),
    ("Défilé privé Cannes", 9, 20, "xlsx"),
    ("Cocktail Bordeaux Grands Hommes", 10, 26, "csv"),
    ("Ventes privées Marais", 3, 32, "xlsx"),
)
SHEET_HEADER = [
    "Nom",
    "Prénom",
    "E-mail",
    "Téléphone",
    "Date de naissance",
    "Code postal",
    "Ville",
    "Événement",
    "Date de l'événement",
]


def build_signups(ctx: Ctx) -> pd.DataFrame:
    P, rng = ctx.P, ctx.rng
    persons = np.flatnonzero(P["in_spreadsheet"].to_numpy())
    ev = rng.integers(0, len(EVENTS), persons.size)
    ev_s = np.array([ctx.start_s + e[2] * 30 * DAY + 19 * 3600 for e in EVENTS])[ev]
    return pd.DataFrame(
        {"pidx": persons, "event": ev, "event_s": np.minimum(ev_s, ctx.end_s - DAY)}
    )


def write_spreadsheets(ctx: Ctx, signups: pd.DataFrame) -> None:
    P, rng = ctx.P, ctx.rng
    out = ctx.landing / "spreadsheets"
    out.mkdir(parents=True, exist_ok=True)
    for e_i, (ev_name, _store, _month, kind) in enumerate(EVENTS):
        part = signups[signups["event"] == e_i]
        pidx = part["pidx"].to_numpy()
        t = part["event_s"].to_numpy()
        n_test = 1 if e_i % 2 == 0 else 0
        view = person_view(
            P,
            pidx,
            t - 10 * DAY,
            rng,
            name_noise=N_STAFF_NAME_NOISE,
            email_noise={
                Z.E_CASE: 0.08,
                Z.E_UPPER: 0.05,
                Z.E_DOMAIN_TYPO: 0.02,
                Z.E_ALT: 0.08,
                Z.E_MISSING: 0.05,
                Z.E_SPACES: 0.03,
            },
            swap_names=0.04,
            missing={"birth_day": 0.35, "phone": 0.1},
            profile=ctx.profile,
        )
        email, phone = view["email"], view["phone"]
        ph = rng.random(pidx.size) < 0.02
        email[ph] = "noemail@noemail.com"
        php = rng.random(pidx.size) < 0.01
        phone[php] = "0000000000"
        day = datetime.fromtimestamp(int(t[0]) if t.size else ctx.start_s, tz=UTC).date()
        stem = f"inscriptions_{day.isoformat()}_{e_i + 1:02d}"
        fname = f"{stem}.{kind}"
        n = pidx.size + n_test
        rows_last = np.concatenate([view["last"], np.full(n_test, "Test", dtype=object)])
        rows_first = np.concatenate([view["first"], np.full(n_test, "Test", dtype=object)])
        rows_email = np.concatenate([email, np.full(n_test, "test@test.com", dtype=object)])
        rows_phone = np.concatenate([phone, np.full(n_test, "0600000000", dtype=object)])
        bd = view["birth_day"]
        bd_missing = pd.isna(bd) if bd.dtype == object else np.zeros(pidx.size, bool)
        bd_days = np.where(bd_missing, 0, bd).astype(np.int64)
        bd_text = W.ymd(bd_days, bd_missing, fmt="%d/%m/%Y").to_numpy(zero_copy_only=False)
        keys = (f"{fname}#" + pd.Series(np.arange(1, n + 1)).astype(str)).to_numpy(dtype=object)
        if kind == "xlsx":
            # phones typed as numbers lose their leading zero; some birth dates are real dates
            digits = pd.Series(rows_phone, dtype=object).str.replace(r"[ .]", "", regex=True)
            as_number = (rng.random(n) < 0.3) & digits.str.fullmatch(r"0\d{9}").fillna(
                False
            ).to_numpy()
            phone_cells = np.where(
                as_number, pd.to_numeric(digits.where(as_number), errors="coerce"), rows_phone
            )
            as_date = rng.random(pidx.size) < 0.6
            bd_cells = np.where(
                as_date & ~bd_missing, pd.to_datetime(bd_days, unit="D").to_pydatetime(), bd_text
            )
            bd_cells = np.concatenate([bd_cells, np.full(n_test, None)])
            ev_date = datetime.fromtimestamp(int(t[0]) if t.size else ctx.start_s, tz=UTC).replace(
                tzinfo=None, hour=0
            )
            postcode = np.concatenate([view["postcode"], np.full(n_test, None)])
            city = np.concatenate([view["city"], np.full(n_test, None)])
            rows = zip(
                rows_last,
                rows_first,
                rows_email,
                [int(x) if isinstance(x, float) and not np.isnan(x) else x for x in phone_cells],
                bd_cells,
                postcode,
                city,
                [ev_name] * n,
                [ev_date] * n,
                strict=True,
            )
            W.write_xlsx(
                out / fname, SHEET_HEADER, ([None if pd.isna(v) else v for v in r] for r in rows)
            )
            ctx.log.add(
                "spreadsheet",
                keys,
                "phone",
                np.full(n, "number_lost_leading_zero", dtype=object),
                as_number,
            )
        else:
            df = pd.DataFrame(
                {
                    SHEET_HEADER[0]: rows_last,
                    SHEET_HEADER[1]: rows_first,
                    SHEET_HEADER[2]: rows_email,
                    SHEET_HEADER[3]: rows_phone,
                    SHEET_HEADER[4]: np.concatenate([bd_text, np.full(n_test, None)]),
                    SHEET_HEADER[5]: np.concatenate([view["postcode"], np.full(n_test, None)]),
                    SHEET_HEADER[6]: np.concatenate([view["city"], np.full(n_test, None)]),
                    SHEET_HEADER[7]: ev_name,
                    SHEET_HEADER[8]: day.strftime("%d/%m/%Y"),
                }
            )
            df.to_csv(
                out / fname,
                sep=";",
                index=False,
                encoding="latin-1",
                errors="replace",
                lineterminator="\r\n",
            )
        ctx.files[str(out / fname)] = n
        real_keys = keys[: pidx.size]
        log_view(ctx.log, "spreadsheet", real_keys, view)
        ctx.add_identity(
            "spreadsheet",
            keys,
            np.concatenate([pidx, np.full(n_test, -1)]),
            np.concatenate([np.full(pidx.size, ""), [f"TEST-7{e_i:05d}"] * n_test]),
        )
        ctx.add_seen("spreadsheet", real_keys, pidx, email=email, phone=phone)
        ctx.add_seen(
            "spreadsheet",
            keys[pidx.size :],
            np.full(n_test, -1),
            email=rows_email[pidx.size :],
            phone=rows_phone[pidx.size :],
        )


# --------------------------------------------------------------------------------------------
def _consent_part(t, email, phone, channel: str, status: str, source: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "t": t,
            "email": email,
            "phone": phone,
            "shop": None,
            "channel": channel,
            "purpose": "marketing",
            "status": status,
            "source": source,
        }
    )


def _store_ads_and_phone_consent(
    ctx: Ctx, cards: pd.DataFrame, card_phone: np.ndarray
) -> list[pd.DataFrame]:
    """Marketing consent for the ads and phone channels collected in the boutiques.

    `cards`: opted-in main cards, `card_phone`: their holders' mobiles (E.164). The loyalty
    form's boxes: personalised ads (45 % of opted-in holders, by e-mail, the ad platforms'
    match key) and calls from the boutique (25 %, by mobile). Clienteling clients: 60 % agree
    to be called by their advisor, recorded at a visit one to four months after the person's
    first purchase (the client record is created within two months of it). About 5 % of
    these grants are withdrawn later in the preference centre.
    """
    P, rng = ctx.P, ctx.rng
    cp = cards["pidx"].to_numpy()
    issued = cards["issued"].to_numpy()
    ads = rng.random(cp.size) < 0.45
    tel = rng.random(cp.size) < 0.25
    cl = np.flatnonzero(P["in_clienteling"].to_numpy())
    cl = cl[rng.random(cl.size) < 0.6]
    cl_t = P["first_seen"].to_numpy()[cl] + rng.integers(60 * DAY, 120 * DAY, cl.size)
    cl_phone = Z.format_phones(
        P["phone_cc"].to_numpy()[cl], P["mobile"].to_numpy()[cl], np.full(cl.size, Z.P_E164)
    )
    ads_email = P["email"].to_numpy()[cp[ads]]
    tel_t = np.concatenate([issued[tel] + 122, cl_t])
    tel_phone = np.concatenate([card_phone[tel], cl_phone])
    ads_w = rng.random(ads_email.size) < 0.05
    tel_w = rng.random(tel_phone.size) < 0.05
    return [
        _consent_part(issued[ads] + 122, ads_email, None, "ads", "granted", "store"),
        _consent_part(tel_t, None, tel_phone, "phone", "granted", "store"),
        _consent_part(
            _later(ctx, issued[ads][ads_w] + DAY, 900, 1.0),
            ads_email[ads_w],
            None,
            "ads",
            "withdrawn",
            "preference_centre",
        ),
        _consent_part(
            _later(ctx, tel_t[tel_w] + DAY, 900, 1.0),
            None,
            tel_phone[tel_w],
            "phone",
            "withdrawn",
            "preference_centre",
        ),
    ]


def write_consent(ctx: Ctx, acc: pd.DataFrame, cards: pd.DataFrame, unsubs: pd.DataFrame) -> None:
    P, rng = ctx.P, ctx.rng
    parts = []
    main = acc[
        (acc["kind"] == "main")
        & P["shop_subscribed"].to_numpy()[np.maximum(acc["pidx"].to_numpy(), 0)]
    ]
    main = main[main["pidx"] >= 0]
    em = P["email"].to_numpy()[main["pidx"].to_numpy()]
    n = len(main)
    parts.append(
        pd.DataFrame(
            {
                "t": main["created"].to_numpy() + 30,
                "email": em,
                "phone": None,
                "shop": main["entity_id"].to_numpy(),
                "channel": "email",
                "purpose": "marketing",
                "status": "granted",
                "source": "shop_checkout",
            }
        )
    )
    # the checkout's "personalised offers and ads" box: profiling and ads marketing (custom
    # audiences on ad platforms, the purpose activation enforces for the ads channel)
    prof = rng.random(n) < 0.4
    for purpose in ("profiling", "marketing"):
        parts.append(
            pd.DataFrame(
                {
                    "t": main["created"].to_numpy()[prof] + 31,
                    "email": em[prof],
                    "phone": None,
                    "shop": main["entity_id"].to_numpy()[prof],
                    "channel": "ads",
                    "purpose": purpose,
                    "status": "granted",
                    "source": "shop_checkout",
                }
            )
        )
    w = rng.random(n) < 0.06
    wt = _later(ctx, main["created"].to_numpy()[w] + DAY, 900, 1.0)
    parts.append(
        pd.DataFrame(
            {
                "t": wt,
                "email": em[w],
                "phone": None,
                "shop": main["entity_id"].to_numpy()[w],
                "channel": rng.choice(np.array(["email", "ads"], dtype=object), int(w.sum())),
                "purpose": "marketing",
                "status": "withdrawn",
                "source": "preference_centre",
            }
        )
    )
    c = cards[
        (cards["kind"] == "main")
        & P["card_optin"].to_numpy()[np.maximum(cards["pidx"].to_numpy(), 0)]
    ]
    c = c[c["pidx"] >= 0]
    cp = c["pidx"].to_numpy()
    phone = Z.format_phones(
        P["phone_cc"].to_numpy()[cp], P["mobile"].to_numpy()[cp], np.full(cp.size, Z.P_E164)
    )
    parts.append(
        pd.DataFrame(
            {
                "t": c["issued"].to_numpy() + 120,
                "email": None,
                "phone": phone,
                "shop": None,
                "channel": "sms",
                "purpose": "marketing",
                "status": "granted",
                "source": "store",
            }
        )
    )
    parts.append(
        pd.DataFrame(
            {
                "t": c["issued"].to_numpy() + 121,
                "email": P["email"].to_numpy()[cp],
                "phone": None,
                "shop": None,
                "channel": "email",
                "purpose": "marketing",
                "status": "granted",
                "source": "store",
            }
        )
    )
    ws = rng.random(cp.size) < 0.05
    parts.append(
        pd.DataFrame(
            {
                "t": _later(ctx, c["issued"].to_numpy()[ws] + DAY, 900, 1.0),
                "email": None,
                "phone": phone[ws],
                "shop": None,
                "channel": "sms",
                "purpose": "marketing",
                "status": "withdrawn",
                "source": "preference_centre",
            }
        )
    )
    # drawn after every earlier draw of the generator, so the other files keep their bytes
    parts.extend(_store_ads_and_phone_consent(ctx, c, phone))
    if len(unsubs):
        parts.append(
            pd.DataFrame(
                {
                    "t": unsubs["t"].to_numpy() + 5,
                    "email": unsubs["email"].to_numpy(),
                    "phone": None,
                    "shop": None,
                    "channel": "email",
                    "purpose": "marketing",
                    "status": "withdrawn",
                    "source": "unsubscribe_link",
                }
            )
        )
    ev = pd.concat(parts, ignore_index=True)
    ev = (
        ev[ev["t"] <= ctx.end_s]
        .sort_values(["t", "channel", "status"], kind="stable")
        .reset_index(drop=True)
    )
    table = pa.table(
        {
            "event_id": pa.array(
                W.zfill("CE-", 1 + np.arange(len(ev)), 9), pa.string(), from_pandas=True
            ),
            "occurred_at": W.iso(ev["t"].to_numpy()),
            "email": pa.array(ev["email"].to_numpy(dtype=object), pa.string(), from_pandas=True),
            "phone": pa.array(ev["phone"].to_numpy(dtype=object), pa.string(), from_pandas=True),
            "shop_customer_id": pa.array(
                pd.array(ev["shop"].to_numpy(dtype=float), dtype="Int64"), pa.int64()
            ),
            "channel": pa.array(
                ev["channel"].to_numpy(dtype=object), pa.string(), from_pandas=True
            ),
            "purpose": pa.array(
                ev["purpose"].to_numpy(dtype=object), pa.string(), from_pandas=True
            ),
            "status": pa.array(ev["status"].to_numpy(dtype=object), pa.string(), from_pandas=True),
            "source": pa.array(ev["source"].to_numpy(dtype=object), pa.string(), from_pandas=True),
            "month": W.month_of(ev["t"].to_numpy()),
        }
    )
    ctx.files.update(
        W.copy_monthly(
            ctx.con,
            table.drop_columns("month"),
            table["month"],
            "event_id",
            ctx.landing / "consent",
            "consent_events",
            "json",
        )
    )


# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
def generate(
    customers: int,
    seed: int,
    out: Path,
    end_date: date = date(2026, 10, 31),
    noise: str = DEFAULT_PROFILE,
) -> dict:
    """Generate the demo retailer's source extracts and ground truth under `out`.

    `noise` names a profile of noise_profiles.yaml (`standard`, `unseen`). Returns a report:
    rows per file or table, seconds per stage and measured planted rates.
    """
    if customers < 50:
        raise ValueError(f"customers must be at least 50, got {customers}")
    profile = get_profile(noise)
    out = Path(out)
    rng = np.random.default_rng(seed)
    start = (
        end_date.replace(year=end_date.year - 3) + timedelta(days=1)
        if not (end_date.month == 2 and end_date.day == 29)
        else date(end_date.year - 3, 3, 1)
    )
    start_s, end_s = _epoch(start), _epoch(end_date) + DAY - 1
    for sub in ("landing", "ground_truth"):
        target = out / sub
        if target.exists():
            import shutil

            shutil.rmtree(target)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true").fetchall()
    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = round(now - clock, 3)
        clock = now

    P = build_persons(customers, rng, start_s, end_s)
    ctx = Ctx(rng=rng, P=P, out=out, start_s=start_s, end_s=end_s, con=con, profile=profile)
    assign_presence(ctx)
    stage("persons")
    stores = build_stores()
    catalog = build_catalog(rng, start_s, end_s)
    ctx.catalog = catalog
    ctx.catalog_skus = catalog["sku"].to_numpy(dtype=object)
    ctx.catalog_p = (catalog["popularity"] / catalog["popularity"].sum()).to_numpy()
    write_catalog(ctx, catalog)
    stage("catalog")
    orders = order_events(P, rng, start_s, end_s)
    pw = np.array([0.92, 0.08, 0.5])[
        pd.Categorical(P["channel_preference"], categories=["web", "store", "both"]).codes
    ]
    pw = np.where(
        (P["channel_preference"] == "store").to_numpy() & ~P["in_shop"].to_numpy(), 0.012, pw
    )
    orders["is_web"] = rng.random(len(orders)) < pw[orders["pidx"].to_numpy()]
    fav = P["favourite_store"].to_numpy()[orders["pidx"].to_numpy()]
    store_w = np.where(stores["city"] == "Paris", 3.0, 1.0)
    orders["store"] = np.where(
        rng.random(len(orders)) < 0.78,
        fav,
        rng.choice(len(stores), len(orders), p=store_w / store_w.sum()),
    )
    outlet = (~orders["is_web"].to_numpy()) & (
        stores["kind"].to_numpy()[orders["store"].to_numpy()] == "outlet"
    )
    lines = order_lines(orders, P, catalog, outlet, rng)
    stage("history")
    acc = build_shop_accounts(ctx)
    cards = build_cards(ctx, stores)
    write_shop_customers(ctx, acc, cards)
    web_orders = write_shop_orders(ctx, acc, orders, lines)
    stage("shop")
    write_pos(ctx, cards, stores, orders, lines)
    del lines
    stage("pos")
    write_clienteling(ctx, stores, cards)
    stage("clienteling")
    signups = build_signups(ctx)
    contacts = build_esp_contacts(ctx, acc, cards, signups)
    unsubs = write_esp(ctx, contacts)
    stage("esp")
    cookies = build_cookies(ctx, acc, web_orders)
    write_web(ctx, cookies, web_orders)
    stage("web")
    write_service(ctx, web_orders)
    stage("service")
    write_spreadsheets(ctx, signups)
    stage("spreadsheets")
    write_consent(ctx, acc, cards, unsubs)
    stage("consent")
    traps = build_traps(ctx, stores)
    rates = write_ground_truth(ctx, traps, stores)
    stage("ground_truth")
    con.close()
    base = str(out) + "/"
    files = {k.replace(base, ""): int(v) for k, v in sorted(ctx.files.items())}
    report = {
        "customers": customers,
        "seed": seed,
        "noise": noise,
        "end_date": end_date.isoformat(),
        "start_date": start.isoformat(),
        "rows": files,
        "seconds": stages,
        "total_seconds": round(sum(stages.values()), 3),
        "measured": rates,
    }
    (out / "ground_truth" / "report.json").write_text(
        json.dumps(
            {k: v for k, v in report.items() if k not in ("seconds", "total_seconds")},
            indent=2,
            ensure_ascii=False,
        )
    )
    return report
