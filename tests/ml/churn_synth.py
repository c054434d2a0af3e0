"""Synthetic orders with a planted churn signal, for the churn tests (numpy only, seeded)."""

from __future__ import annotations

import numpy as np
import pandas as pd

START = pd.Timestamp("2022-01-01")


def synth_orders(
    n_customers: int = 3000,
    *,
    seed: int = 0,
    days: int = 1460,
    mean_orders_per_year: float = 3.0,
    mean_lifetime_days: float = 540.0,
    with_tickets: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Buy-till-you-die customers: a Poisson purchase rate until an exponential "death".

    The churn signal is planted through the process itself (recency and frequency predict
    whether a customer is still alive) and, with `with_tickets`, through a low-satisfaction
    ticket shortly before death for half of the customers who die inside the history.
    Returns `(orders, tickets)`; orders carry `customer_id, order_id, ordered_at, amount,
    channel, store_id`, with return rows (negative amount) for a few orders.
    """
    rng = np.random.default_rng(seed)
    n = n_customers
    first = rng.uniform(0, days * 0.85, n)
    rate = rng.lognormal(np.log(mean_orders_per_year), 0.7, n) / 365.0
    death = first + rng.exponential(mean_lifetime_days, n)
    active = np.minimum(death, days) - first
    extra = rng.poisson(rate * active)
    counts = 1 + extra
    cust = np.repeat(np.arange(n), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    is_first = (np.arange(len(cust)) - starts) == 0
    offset = np.where(
        is_first, first[cust], first[cust] + rng.uniform(size=len(cust)) * active[cust]
    )
    p_web = rng.beta(1.5, 1.5, n)
    web = rng.uniform(size=len(cust)) < p_web[cust]
    amount = np.round(rng.lognormal(4.2, 0.6, len(cust)), 2)
    orders = pd.DataFrame(
        {
            "customer_id": np.char.add("C", cust.astype(str)),
            "order_id": np.char.add("O", np.arange(len(cust)).astype(str)),
            "ordered_at": START + pd.to_timedelta(offset * 86400, unit="s").round("s"),
            "amount": amount,
            "channel": np.where(web, "web", "store"),
            "store_id": np.where(
                web, None, np.char.add("S00", rng.integers(1, 6, len(cust)).astype(str))
            ),
        }
    )
    ret = rng.uniform(size=len(cust)) < 0.05
    ret_at = offset[ret] + 10
    keep = ret_at < days
    returns = orders[ret][keep].copy()
    returns["order_id"] = "R" + returns["order_id"]
    returns["ordered_at"] = START + pd.to_timedelta(ret_at[keep] * 86400, unit="s").round("s")
    returns["amount"] = -returns["amount"]
    orders = pd.concat([orders, returns], ignore_index=True)
    orders = orders.sort_values(["ordered_at", "order_id"]).reset_index(drop=True)

    tickets = None
    if with_tickets:
        dies = np.flatnonzero((death < days) & (rng.uniform(size=n) < 0.5))
        calm = np.flatnonzero(rng.uniform(size=n) < 0.15)
        t_bad = np.maximum(death[dies] - 20, first[dies])
        t_ok = rng.uniform(first[calm], np.minimum(death[calm], days))
        tickets = pd.DataFrame(
            {
                "customer_id": np.char.add("C", np.r_[dies, calm].astype(str)),
                "created_at": START
                + pd.to_timedelta(np.r_[t_bad, t_ok] * 86400, unit="s").round("s"),
                "satisfaction": np.r_[np.ones(len(dies)), np.full(len(calm), 5.0)],
            }
        )
    return orders, tickets
