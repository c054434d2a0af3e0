"""The monthly service-desk ticket CSV files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from cdp_demo.generator import noise as Z
from cdp_demo.generator import writers as W
from cdp_demo.generator.behaviour import DAY
from cdp_demo.generator.context import (
    Ctx,
)
from cdp_demo.generator.records import log_view, person_view
from ingestion.sources.specs import table_spec

TICKETS = table_spec("service", "tickets")


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
    ctx.write_monthly(
        "service/tickets.csv",
        pa.Table.from_pandas(df.drop(columns="month"), preserve_index=False),
        df["month"],
        "ticket_id",
        spec=TICKETS,
    )
    log_view(ctx.log, "service_ticket", keys, view, address=False)
    ctx.add_identity("service_ticket", keys, tp)
    ctx.add_seen("service_ticket", keys, tp, email=email, phone=phone)
