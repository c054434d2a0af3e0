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

_EMAIL_VALUE = re.compile(r"^\s*([^@\s]+)@([^@\s]+)\s*$")
_EMAIL_COLS = re.compile(r"e-?mail", re.IGNORECASE)
_PHONE_COLS = re.compile(r"phone|mobile|cellphone|telephone|t[ée]l[ée]phone", re.IGNORECASE)
_NAME_COLS = re.compile(
    r"(^|_)(first_?name|last_?name|full_?name|requester_name|civility|nom|pr[ée]nom)$",
    re.IGNORECASE,
)
_ADDRESS_COLS = re.compile(r"street|address_line|^address$|birth|^dob$", re.IGNORECASE)
_FREE_TEXT_COLS = re.compile(r"raw_record|raw_line|notes|line$", re.IGNORECASE)
_EMAIL_IN_TEXT = re.compile(r"([A-Za-z0-9._%+'-])[A-Za-z0-9._%+'-]*@([A-Za-z0-9.-]+)")
_PHONE_IN_TEXT = re.compile(r"\+?\d[\d .()-]{6,}\d")


def mask_email(value: str) -> str:
    m = _EMAIL_VALUE.match(value)
    if not m:
        return mask_text(value)
    local, domain = m.groups()
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) <= 2:
        return "***"
    return ("+" if value.strip().startswith("+") else "") + "*" * (len(digits) - 2) + digits[-2:]


def mask_free_text(value: str, limit: int = 200) -> str:
    """Hide e-mail addresses and phone-like digit runs inside free text; cut it to `limit`."""
    text = _EMAIL_IN_TEXT.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", value)
    text = _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)
    return text if len(text) <= limit else text[:limit] + "..."


def mask_text(value: str) -> str:
    value = str(value)
    return (value[:1] + "***") if value else value


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
    if _EMAIL_COLS.search(col) or _EMAIL_VALUE.match(text):
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
