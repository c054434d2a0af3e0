"""ESP (Splio-like marketing platform): contacts and campaigns CSV, monthly events JSON lines.

Raw tables `raw_esp.contacts`, `raw_esp.campaigns`, `raw_esp.events`.
"""

from __future__ import annotations

import pyarrow as pa

from ingestion.sources._common import TableSpec, file_source
from ingestion.sources._model import TEXT

CONTACTS = TableSpec(
    name="contacts",
    description="ESP contacts, one row per `contact_id`; `subscribed_*` are 0/1 integers.",
    schema=pa.schema(
        [
            ("contact_id", TEXT),
            ("email", TEXT),
            ("first_name", TEXT),
            ("last_name", TEXT),
            ("cellphone", TEXT),
            ("subscribed_email", pa.int64()),
            ("subscribed_sms", pa.int64()),
            ("created_at", TEXT),
            ("updated_at", TEXT),
            ("origin", TEXT),
        ]
    ),
    records=(("esp_contact", ("contact_id",)),),
)

CAMPAIGNS = TableSpec(
    name="campaigns",
    description="Campaigns sent by the ESP, one row per `campaign_id`.",
    schema=pa.schema(
        [(n, TEXT) for n in ("campaign_id", "name", "channel", "category", "subject", "sent_at")]
    ),
    cursor=None,
)

EVENTS = TableSpec(
    name="events",
    description="Message events (sent, delivered, open, click, bounce, unsubscribe) by `event_id`.",
    schema=pa.schema(
        [
            (n, TEXT)
            for n in (
                "event_id",
                "campaign_id",
                "contact_id",
                "email",
                "event_type",
                "occurred_at",
                "url",
                "bounce_type",
            )
        ]
    ),
    cursor=None,
    references=(("contact_id", "esp_contact"),),
    append_only=True,  # events never change: first-seen files are appended
)

TABLES = (CONTACTS, CAMPAIGNS, EVENTS)


esp = file_source("esp", TABLES, "The ESP exports")
