"""Clienteling (store tablet app): monthly CSV client files (UTF-8, comma).

Raw table `raw_clienteling.clients`, every column text as typed by store staff (staging
casts); a later file may repeat a client with a newer `updated_at`, which wins.
"""

from __future__ import annotations

import pyarrow as pa

from ingestion.sources._common import TableSpec, file_source
from ingestion.sources._model import TEXT

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
    schema=pa.schema([(name, TEXT) for name in COLUMNS]),
    records=(("clienteling", ("client_id",)),),
)

TABLES = (CLIENTS,)


clienteling = file_source("clienteling", TABLES, "The clienteling CSV exports")
