"""Loyalty cards and the till database `pos/pos.sqlite`."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from cdp_demo.generator import noise as Z
from cdp_demo.generator import writers as W
from cdp_demo.generator.behaviour import DAY
from cdp_demo.generator.context import (
    PLACEHOLDER_EMAILS,
    PLACEHOLDER_PHONES,
    STAFF_NAME_NOISE,
    Ctx,
    arrow_table,
    clip_time,
    epoch,
    later,
    spec_table,
)
from cdp_demo.generator.records import log_view, person_view
from ingestion.sources.specs import table_spec

STORES = table_spec("pos", "stores")
LOYALTY_CARDS = table_spec("pos", "loyalty_cards")
RECEIPTS = table_spec("pos", "receipts")
RECEIPT_LINES = table_spec("pos", "receipt_lines")


def build_cards(ctx: Ctx, stores: pd.DataFrame) -> pd.DataFrame:
    P, rng = ctx.P, ctx.rng
    persons = np.flatnonzero(P["in_pos"].to_numpy())
    issued = clip_time(
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
                    later(ctx, issued[dup], 600, 1.0),
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
        np.array([epoch(date.fromisoformat(d)) for d in st["opened_on"]])
    ).to_numpy(zero_copy_only=False)
    ctx.files["pos.stores"] = W.sqlite_insert(
        db, STORES, pa.Table.from_pandas(st, preserve_index=False)
    )

    real = cards[cards["kind"] != "test"]
    pidx = real["pidx"].to_numpy()
    issued = real["issued"].to_numpy()
    keys = real["card_id"].to_numpy()
    name_noise = dict(STAFF_NAME_NOISE)
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
    updated = later(ctx, issued, 700, 2.5)
    closed = (
        (real["kind"] == "main").to_numpy()
        & np.isin(pidx, pidx[(real["kind"] == "duplicate").to_numpy()])
        & (rng.random(n) < 0.4)
    )
    test = cards[cards["kind"] == "test"]
    tn = len(test)
    bd_missing = pd.isna(view["birth_day"])
    table = arrow_table(
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
    ctx.files["pos.loyalty_cards"] = W.sqlite_insert(db, LOYALTY_CARDS, table)
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
    receipts = arrow_table(
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
    ctx.files["pos.receipts"] = W.sqlite_insert(db, RECEIPTS, receipts)
    rlines = spec_table(
        RECEIPT_LINES,
        recl,
        quantity=recl["qty"].to_numpy(),
        unit_price=recl["price"].to_numpy(),
        updated_at=W.iso(recl["upd"].to_numpy()),
    )
    ctx.files["pos.receipt_lines"] = W.sqlite_insert(db, RECEIPT_LINES, rlines)
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
