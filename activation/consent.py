"""Central consent enforcement: the sync engine filters every record through this module.

A record may reach a destination only if its person has, in `marts.customer_consent`, a row
for the destination's channel and the purpose `marketing` with `is_granted = true`. No sync
option can switch this off: the channel comes from the destination type (or, for generic
destinations, a mandatory channel option that cannot be empty), never from the sync itself.
A missing consent mart means nobody has consent (fail closed).
"""

from __future__ import annotations

import duckdb

from activation.contract import CUSTOMER_CONSENT
from cdp.warehouse import table_exists

PURPOSE = "marketing"


def consent_table_sql(con: duckdb.DuckDBPyConnection, channel: str) -> str:
    """SQL returning the person_ids with valid consent for `channel` / marketing."""
    if channel not in ("email", "sms", "phone", "ads"):
        raise ValueError(f"unknown consent channel {channel!r}")
    if not table_exists(con, CUSTOMER_CONSENT):
        return "SELECT CAST(NULL AS VARCHAR) AS person_id WHERE false"
    return (
        f"SELECT DISTINCT person_id FROM {CUSTOMER_CONSENT} "
        f"WHERE channel = '{channel}' AND purpose = '{PURPOSE}' AND is_granted IS TRUE "
        f"AND person_id IS NOT NULL"
    )
