"""Time-consistent purchase history: per-person Poisson order processes and order lines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdp_demo.generator import names as N

DAY = 86_400
YEAR = 365.25 * DAY
LAPSE_TAU = 75 * DAY


def month_edges(start_s: int, end_s: int) -> np.ndarray:
    first = np.datetime64(int(start_s), "s").astype("datetime64[M]")
    last = np.datetime64(int(end_s), "s").astype("datetime64[M]")
    months = np.arange(first, last + 2, dtype="datetime64[M]")
    edges = months.astype("datetime64[s]").astype(np.int64)
    edges[0] = start_s
    edges[-1] = end_s + 1
    return edges


def keep_probability(P: pd.DataFrame, pidx: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Thinning of the base process: activity of each person at time t (0 when inactive)."""
    first_seen = P["first_seen"].to_numpy()[pidx]
    churn = P["churn_at"].to_numpy()[pidx]
    stop = P["stop_at"].to_numpy()[pidx]
    lapse = P["lapse_at"].to_numpy()[pidx]
    comeback = P["comeback_at"].to_numpy()[pidx]
    keep = np.ones(t.size)
    keep[t < first_seen] = 0.0
    keep[(churn >= 0) & (t >= churn)] = 0.0
    keep[(stop >= 0) & (t >= stop)] = 0.0
    lapsed = (lapse >= 0) & (t > lapse)
    keep[lapsed] = np.exp(-(t[lapsed] - lapse[lapsed]) / LAPSE_TAU)
    back = (comeback >= 0) & (t > comeback)
    keep[back] = 0.8
    return keep


def activity_at(P: pd.DataFrame, pidx: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Engagement level (e-mail opens, web visits): decays before churn and after lapse."""
    keep = keep_probability(P, pidx, t)
    churn = P["churn_at"].to_numpy()[pidx]
    near = (churn >= 0) & (t < churn) & (t > churn - 120 * DAY)
    keep[near] *= 0.55
    after_churn = (churn >= 0) & (t >= churn)
    keep[after_churn] = 0.12
    stop = P["stop_at"].to_numpy()[pidx]
    keep[(stop >= 0) & (t >= stop)] = 0.25
    keep[t < P["first_seen"].to_numpy()[pidx] - 30 * DAY] = 0.0
    return np.maximum(keep, np.where(t >= P["first_seen"].to_numpy()[pidx], 0.08, 0.0))


def order_events(
    P: pd.DataFrame, rng: np.random.Generator, start_s: int, end_s: int, chunk: int = 200_000
) -> pd.DataFrame:
    """All purchases (person index, epoch seconds), sorted by time then person."""
    edges = month_edges(start_s, end_s)
    lengths = np.diff(edges).astype(float)
    month_no = (edges[:-1].astype("datetime64[s]").astype("datetime64[M]").astype(int) % 12) + 1
    season = np.select(
        [month_no == 12, month_no == 11, np.isin(month_no, [1, 7])], [1.7, 1.3, 1.25], 1.0
    )
    rate = P["order_rate"].to_numpy()
    profile = P["profile"].to_numpy()
    parts_p, parts_t = [], []
    n = len(P)
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        lam = rate[lo:hi, None] * (lengths[None, :] / YEAR) * season[None, :]
        lam[profile[lo:hi] == "one_off"] = 0.0
        counts = rng.poisson(lam).astype(np.int32)
        flat = counts.ravel()
        pidx = np.repeat(np.repeat(np.arange(lo, hi), counts.shape[1]), flat)
        month = np.repeat(np.tile(np.arange(counts.shape[1]), hi - lo), flat)
        t = edges[month] + (rng.random(pidx.size) * lengths[month]).astype(np.int64)
        keep = rng.random(pidx.size) < keep_probability(P, pidx, t)
        parts_p.append(pidx[keep])
        parts_t.append(t[keep])
    # the acquisition purchase, the only one for one-off buyers
    first = P["first_seen"].to_numpy() + rng.integers(0, 6 * 3600, n)
    parts_p.append(np.arange(n))
    parts_t.append(np.minimum(first, end_s))
    pidx = np.concatenate(parts_p)
    t = np.concatenate(parts_t)
    order = np.lexsort((pidx, t))
    return pd.DataFrame({"pidx": pidx[order], "t": t[order]})


def order_lines(
    orders: pd.DataFrame,
    P: pd.DataFrame,
    catalog: pd.DataFrame,
    outlet: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Lines for each order: SKU (favourite category bias), quantity, price, discount."""
    n = len(orders)
    n_items = 1 + (rng.random(n) < 0.30) + (rng.random(n) < 0.08) + (rng.random(n) < 0.02)
    oidx = np.repeat(np.arange(n), n_items)
    line_no = np.arange(oidx.size) - np.repeat(np.cumsum(n_items) - n_items, n_items) + 1
    fav = P["favourite_category"].to_numpy()[orders["pidx"].to_numpy()][oidx]
    cat_w = np.array([0.20, 0.17, 0.27, 0.12, 0.14, 0.10])
    cat = np.where(rng.random(oidx.size) < 0.55, fav, rng.choice(6, oidx.size, p=cat_w))
    cat_of_sku = pd.Categorical(catalog["category"], categories=list(N.CATEGORIES)).codes
    pop = catalog["popularity"].to_numpy()
    sku_idx = np.zeros(oidx.size, dtype=np.int64)
    for c in range(6):
        members = np.flatnonzero(cat_of_sku == c)
        m = cat == c
        w = pop[members] / pop[members].sum()
        sku_idx[m] = members[rng.choice(members.size, int(m.sum()), p=w)]
    price = catalog["price"].to_numpy()[sku_idx]
    qty = np.where(
        (catalog["category"].to_numpy()[sku_idx] == "beauty") & (rng.random(oidx.size) < 0.2), 2, 1
    )
    t = orders["t"].to_numpy()[oidx]
    month = (t.astype("datetime64[s]").astype("datetime64[M]").astype(int) % 12) + 1
    sale = np.isin(month, [1, 7]) & (rng.random(oidx.size) < 0.3)
    disc_rate = np.where(sale, rng.choice([0.2, 0.3], oidx.size), 0.0)
    disc_rate = np.where((rng.random(oidx.size) < 0.05) & ~sale, 0.1, disc_rate)
    disc_rate = np.where(outlet[oidx], rng.choice([0.3, 0.4, 0.5], oidx.size), disc_rate)
    gross = np.round(price * qty, 2)
    discount = np.round(gross * disc_rate, 2)
    return pd.DataFrame(
        {
            "oidx": oidx,
            "line_no": line_no,
            "sku": catalog["sku"].to_numpy()[sku_idx],
            "name": catalog["name"].to_numpy()[sku_idx],
            "qty": qty,
            "price": price,
            "gross": gross,
            "discount": discount,
        }
    )
