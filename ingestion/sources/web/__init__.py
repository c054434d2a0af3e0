"""Web analytics: monthly Parquet event files.

Raw table `raw_web.events` (PK `event_id`); `occurred_at` stays a UTC timestamp.
"""

from __future__ import annotations

from pathlib import Path

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from ingestion.config import TableConfig
from ingestion.sources._common import SCHEMA_CONTRACT, TableSpec, file_source_resources

TEXT = pa.string()

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


@dlt.source(name="web", schema_contract=SCHEMA_CONTRACT)
def web(base_dir: Path, tables: dict[str, TableConfig]) -> list[DltResource]:
    """The web analytics Parquet files under `base_dir` (default `<landing>/web`)."""
    return file_source_resources("web", TABLES, tables, Path(base_dir))
