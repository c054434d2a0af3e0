"""Mask personal data in failing-row samples shown in Dagster metadata, the CLI and history.

A sample keeps what a reader needs to find the row (its key, the offending value's shape)
without exposing the e-mail address, phone number or name itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import json
import math
import re
from typing import Any

from cdp.pii import is_email, mask_email, mask_free_text, mask_phone, mask_text

_EMAIL_COLS = re.compile(r"e-?mail", re.IGNORECASE)
_PHONE_COLS = re.compile(r"phone|mobile|cellphone|telephone|t[ée]l[ée]phone", re.IGNORECASE)
_NAME_COLS = re.compile(
    r"(^|_)(first_?name|last_?name|full_?name|requester_name|civility|nom|pr[ée]nom)$",
    re.IGNORECASE,
)
_ADDRESS_COLS = re.compile(r"street|address_line|^address$|birth|^dob$", re.IGNORECASE)
_FREE_TEXT_COLS = re.compile(r"raw_record|raw_line|notes|line$|reason|error", re.IGNORECASE)


def jsonable(value: Any) -> Any:
    """A value json.dumps accepts (timestamps as ISO text, NaN as null, numpy scalars as Python)."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, TypeError):
            value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool):
        return value
    try:
        if value != value:  # pandas NA/NaT
            return None
    except (TypeError, ValueError):
        return None
    return str(value)


def mask_value(column: str, value: Any) -> Any:
    value = jsonable(value)
    if value is None or isinstance(value, bool | int | float):
        if isinstance(value, int | float) and _PHONE_COLS.search(column or ""):
            return mask_phone(str(value))
        return value
    if isinstance(value, list | dict):
        return mask_value(column, json.dumps(value, ensure_ascii=False))
    text = str(value)
    col = column or ""
    if _EMAIL_COLS.search(col) or is_email(text):
        return mask_email(text)
    if _PHONE_COLS.search(col):
        return mask_phone(text)
    if _NAME_COLS.search(col) or _ADDRESS_COLS.search(col):
        return mask_text(text)
    if _FREE_TEXT_COLS.search(col):
        return mask_free_text(text)
    return text


def mask_row(row: dict[str, Any]) -> dict[str, Any]:
    return {str(k): mask_value(str(k), v) for k, v in row.items()}
