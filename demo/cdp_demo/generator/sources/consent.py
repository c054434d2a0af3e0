"""The monthly preference-centre consent events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from cdp_demo.generator import noise as Z
from cdp_demo.generator import writers as W
from cdp_demo.generator.behaviour import DAY
from cdp_demo.generator.context import (
    Ctx,
    later,
)
from ingestion.sources.specs import table_spec

CONSENT_EVENTS = table_spec("consent", "consent_events")


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
            later(ctx, issued[ads][ads_w] + DAY, 900, 1.0),
            ads_email[ads_w],
            None,
            "ads",
            "withdrawn",
            "preference_centre",
        ),
        _consent_part(
            later(ctx, tel_t[tel_w] + DAY, 900, 1.0),
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
    wt = later(ctx, main["created"].to_numpy()[w] + DAY, 900, 1.0)
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
                "t": later(ctx, c["issued"].to_numpy()[ws] + DAY, 900, 1.0),
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
    ctx.write_monthly(
        "consent/consent_events.jsonl",
        table.drop_columns("month"),
        table["month"],
        "event_id",
        spec=CONSENT_EVENTS,
    )
