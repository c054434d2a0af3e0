"""Clienteling (store tablet app): monthly CSV client files (UTF-8, comma).

Raw table `raw_clienteling.clients`, every column text as typed by store staff (staging
casts); a later file may repeat a client with a newer `updated_at`, which wins.
"""

from __future__ import annotations

from pathlib import Path

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from ingestion.config import TableConfig
from ingestion.sources._common import SCHEMA_CONTRACT, TableSpec, file_source_resources

COLUMNS = [
    "client_id",
    "store_id",
    "advisor_id",
    "civility",
    "first_name",
    "last_name",
    "email",
    "mobile",
    "birth_date",
    "address_line",
    "postcode",
    "city",
    "country",
    "preferred_category",
    "size_top",
    "size_shoe",
    "opt_in_email",
    "opt_in_sms",
    "loyalty_card_id",
    "notes",
    "created_at",
    "updated_at",
]

CLIENTS = TableSpec(
    name="clients",
    description="Clients captured by store advisors, one row per `client_id`, all text.",
    schema=pa.schema([(name, pa.string()) for name in COLUMNS]),
    records=(("clienteling", ("client_id",)),),
)

TABLES = (CLIENTS,)


@dlt.source(name="clienteling", schema_contract=SCHEMA_CONTRACT)
def clienteling(base_dir: Path, tables: dict[str, TableConfig]) -> list[DltResource]:
    """The clienteling CSV exports under `base_dir` (default `<landing>/clienteling`)."""
    return file_source_resources("clienteling", TABLES, tables, Path(base_dir))
