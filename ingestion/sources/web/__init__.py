"""Web analytics: monthly Parquet event files.

Raw table `raw_web.events` (PK `event_id`); `occurred_at` stays a UTC timestamp.
"""

from __future__ import annotations

import pyarrow as pa

from ingestion.sources._common import TableSpec, file_source
from ingestion.sources._model import TEXT

EVENTS = TableSpec(
    name="events",
    description="Web events; a `login` carries both `anonymous_id` and `user_id` (stitching key).",
    schema=pa.schema(
        [
            ("event_id", TEXT),
            ("occurred_at", pa.timestamp("us", tz="UTC")),
            *[
                (n, TEXT)
                for n in (
                    "session_id",
                    "anonymous_id",
                    "user_id",
                    "event_type",
                    "page_url",
                    "product_sku",
                    "order_increment_id",
                    "device",
                    "utm_source",
                    "utm_medium",
                    "utm_campaign",
                    "country",
                )
            ],
        ]
    ),
    cursor=None,
    records=(("web_visitor", ("anonymous_id",)),),
    references=(("user_id", "shop_customer"),),  # logged in as them
    append_only=True,  # events never change: first-seen files are appended
)

TABLES = (EVENTS,)


web = file_source("web", TABLES, "The web analytics Parquet files")
