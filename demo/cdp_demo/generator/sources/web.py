"""Cookies, sessions and the monthly web analytics Parquet files."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cdp_demo.generator import writers as W
from cdp_demo.generator.behaviour import DAY, activity_at
from cdp_demo.generator.context import (
    Ctx,
    later,
)
from ingestion.sources.specs import table_spec

EVENTS = table_spec("web", "events")


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
        rank == 0, created - rng.integers(0, 60 * DAY, owner.size), later(ctx, created, 700, 1.0)
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
        counts[str(path)] = W.write_parquet(table, path, EVENTS)
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
        "anonymous_before_login",
        early.to_numpy(),
    )
