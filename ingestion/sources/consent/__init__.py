"""Preference centre: monthly consent events as JSON lines.

Raw table `raw_consent.consent_events` (PK `event_id`).
"""

from __future__ import annotations

from pathlib import Path

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from ingestion.config import TableConfig
from ingestion.sources._common import SCHEMA_CONTRACT, TableSpec, file_source_resources

TEXT = pa.string()

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


@dlt.source(name="consent", schema_contract=SCHEMA_CONTRACT)
def consent(base_dir: Path, tables: dict[str, TableConfig]) -> list[DltResource]:
    """The preference-centre exports under `base_dir` (default `<landing>/consent`)."""
    return file_source_resources("consent", TABLES, tables, Path(base_dir))
