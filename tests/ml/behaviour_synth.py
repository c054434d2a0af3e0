"""Synthetic behaviour tables around `synth_orders`, for the propensity / lead / recommendation
tests: web product events, sessions, e-mail, abandoned carts, order lines and identification
moments for buyers and for identified persons who never bought (numpy only, seeded)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.ml.churn_synth import START, synth_orders

SKUS = np.array([f"SKU{i:03d}" for i in range(40)])


def _stamp(days: np.ndarray) -> pd.Series:
    return START + pd.to_timedelta(days * 86400, unit="s").round("s")


def synth_behaviour(n_customers: int = 600, n_leads: int = 300, seed: int = 0) -> dict:
    """Frames with the standard column names of `BehaviourData.from_frames`."""
    rng = np.random.default_rng(seed)
    orders, _ = synth_orders(n_customers, seed=seed)
    buys = orders[orders["amount"] > 0]
    lines = pd.DataFrame(
        {
            "customer_id": buys["customer_id"].to_numpy(),
            "ordered_at": buys["ordered_at"].to_numpy(),
            "sku": SKUS[rng.integers(0, len(SKUS), len(buys))],
            "quantity": 1,
        }
    )
    persons = np.r_[
        orders["customer_id"].unique(), np.char.add("L", np.arange(n_leads).astype(str))
    ]
    n_events = 8000
    who = persons[rng.integers(0, len(persons), n_events)]
    when = _stamp(rng.uniform(0, 1460, n_events))
    kinds = rng.choice(["view", "add_to_cart"], n_events, p=[0.8, 0.2])
    product_events = pd.DataFrame(
        {"customer_id": who, "occurred_at": when, "sku": SKUS[rng.integers(0, 40, n_events)]}
    ).assign(event_type=kinds)
    web = pd.DataFrame(
        {
            "customer_id": who,
            "occurred_at": when,
            "session_id": np.char.add("S", (np.arange(n_events) // 2).astype(str)),
        }
    )
    m = 5000
    email = pd.DataFrame(
        {
            "customer_id": persons[rng.integers(0, len(persons), m)],
            "occurred_at": _stamp(rng.uniform(0, 1460, m)),
            "event_type": rng.choice(
                ["delivered", "open", "click", "unsubscribe"], m, p=[0.58, 0.3, 0.1, 0.02]
            ),
        }
    )
    k = 700
    carts = pd.DataFrame(
        {
            "customer_id": persons[rng.integers(0, len(persons), k)],
            "abandoned_at": _stamp(rng.uniform(0, 1460, k)),
            "value": np.round(rng.lognormal(4, 0.5, k), 2),
        }
    )
    identified = pd.concat(
        [
            email[["customer_id", "occurred_at"]],
            buys[["customer_id", "ordered_at"]].rename(columns={"ordered_at": "occurred_at"}),
        ],
        ignore_index=True,
    )
    # some leads buy for the first time late in the history
    late = np.char.add("L", rng.choice(n_leads, n_leads // 4, replace=False).astype(str))
    first_buys = pd.DataFrame(
        {
            "customer_id": late,
            "order_id": np.char.add("LO", np.arange(len(late)).astype(str)),
            "ordered_at": _stamp(rng.uniform(900, 1460, len(late))),
            "amount": 80.0,
            "channel": "web",
            "store_id": None,
        }
    )
    orders = pd.concat([orders, first_buys], ignore_index=True)
    return {
        "orders": orders,
        "order_lines": lines,
        "product_events": product_events,
        "web_events": web,
        "email_events": email,
        "carts": carts,
        "identified": identified,
    }
