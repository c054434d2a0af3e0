"""Customer-service desk: monthly CSV ticket files (UTF-8, comma).

Raw table `raw_service.tickets` (PK `ticket_id`); `satisfaction` is an integer 1-5 or NULL.
"""

from __future__ import annotations

import pyarrow as pa

from ingestion.sources._common import TableSpec, file_source
from ingestion.sources._model import TEXT

TICKETS = TableSpec(
    name="tickets",
    description="Service tickets, one row per `ticket_id` (a later file's version wins).",
    schema=pa.schema(
        [
            ("ticket_id", TEXT),
            ("created_at", TEXT),
            ("channel", TEXT),
            ("requester_name", TEXT),
            ("requester_email", TEXT),
            ("requester_phone", TEXT),
            ("category", TEXT),
            ("subject", TEXT),
            ("order_reference", TEXT),
            ("status", TEXT),
            ("satisfaction", pa.int64()),
            ("solved_at", TEXT),
        ]
    ),
    cursor=None,
    records=(("service_ticket", ("ticket_id",)),),
)

TABLES = (TICKETS,)


service = file_source("service", TABLES, "The service-desk CSV exports")
