"""Shop accounts and the monthly `shop/customers` JSON lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from cdp_demo.generator import noise as Z
from cdp_demo.generator import writers as W
from cdp_demo.generator.behaviour import DAY
from cdp_demo.generator.context import (
    Ctx,
    clip_time,
    later,
)
from cdp_demo.generator.records import log_view, person_view
from ingestion.sources.specs import table_spec

CUSTOMERS = table_spec("shop", "customers")


def build_shop_accounts(ctx: Ctx) -> pd.DataFrame:
    P, rng = ctx.P, ctx.rng
    persons = np.flatnonzero(P["in_shop"].to_numpy())
    created = clip_time(
        P["first_seen"].to_numpy()[persons] - rng.integers(0, 20 * DAY, persons.size), ctx
    )
    dup = rng.random(persons.size) < 0.035
    dup_created = later(ctx, created[dup], 700, power=1.0)
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
    updated = later(ctx, created, 900, power=2.5)
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
    ctx.write_monthly(
        "shop/customers/customers.jsonl", table, cust["month"], "entity_id", spec=CUSTOMERS
    )
