"""The monthly `shop/orders` and `shop/carts` JSON lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from cdp_demo.generator import noise as Z
from cdp_demo.generator import writers as W
from cdp_demo.generator.behaviour import DAY, keep_probability
from cdp_demo.generator.context import (
    Ctx,
)
from cdp_demo.generator.records import person_view
from ingestion.sources.specs import table_spec

ORDERS = table_spec("shop", "orders")
CARTS = table_spec("shop", "carts")


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
    ctx.write_monthly("shop/orders/orders.jsonl", table, head["month"], "entity_id", spec=ORDERS)
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
    alive = (rng.random(rp.size) < keep_probability(P, rp, r_created)) & (
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
    ctx.write_monthly("shop/carts/carts.jsonl", table, ct["month"], "entity_id", spec=CARTS)
    return web
