"""Preference centre: monthly consent events as JSON lines.

Raw table `raw_consent.consent_events` (PK `event_id`).
"""

from __future__ import annotations

import pyarrow as pa

from ingestion.sources._common import TableSpec, file_source
from ingestion.sources._model import TEXT

CONSENT_EVENTS = TableSpec(
    name="consent_events",
    description="Consent grants and withdrawals per channel and purpose, by `event_id`.",
    schema=pa.schema(
        [
            ("event_id", TEXT),
            ("occurred_at", TEXT),
            ("email", TEXT),
            ("phone", TEXT),
            ("shop_customer_id", pa.int64()),
            ("channel", TEXT),
            ("purpose", TEXT),
            ("status", TEXT),
            ("source", TEXT),
        ]
    ),
    cursor=None,
    references=(("shop_customer_id", "shop_customer"),),
    append_only=True,  # events never change: first-seen files are appended
)

TABLES = (CONSENT_EVENTS,)


consent = file_source("consent", TABLES, "The preference-centre exports")
