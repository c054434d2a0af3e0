"""Dates typed by people or exported by tools: the one parser of the platform.

The accepted shapes, the day/month order, the spreadsheet epoch, the earliest plausible date
and the placeholder birth dates are declared in ``tables/dates.yaml`` and read here once. The
identity engine calls these functions directly; the dbt staging models call them through the
``cdp_parse_date``, ``cdp_past_date`` and ``cdp_birth_date`` DuckDB UDFs
(``dbt_project/plugins/cdp_udfs.py``), so a birth date means the same thing in every layer.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import pandas as pd

from cdp.normalize.text import _as_text_series, _clean_text, _map_unique, table

_TABLES = table("dates")
_FORMATS = tuple(re.compile(pattern) for pattern in _TABLES["formats"])
_EXCEL_EPOCH: dt.date = _TABLES["excel_epoch"]
EARLIEST_DATE: dt.date = _TABLES["earliest"]
#: "Unknown" placeholders stored instead of a birth date: not a birth date.
PLACEHOLDER_BIRTH_DATES = frozenset(_TABLES["birth_date"]["placeholders"])
MIN_AGE_YEARS: int = _TABLES["birth_date"]["min_age_years"]
#: DuckDB ``strptime`` formats of the same day-first shapes, for SQL that parses in bulk.
STRPTIME_FORMATS: tuple[str, ...] = tuple(_TABLES["day_first_strptime"])
DEFAULT_ORDER: str = _TABLES["order"]


def _years_before(day: dt.date, years: int) -> dt.date:
    return dt.date(day.year - years, day.month, min(day.day, 28))


@lru_cache(maxsize=200_000)
def parse_date(
    value: str | None, order: str = DEFAULT_ORDER, latest: dt.date | None = None
) -> dt.date | None:
    """A date from any declared shape, or None when it is unparseable or not a calendar date.

    ``order`` reads ``NN/NN/YYYY`` (``day_first`` or ``month_first``, see
    :func:`detect_date_order`). A two-digit year takes the century that puts the date on or
    before ``latest`` (default today): ``12/03/85`` is 1985, ``15/05/24`` 2024.
    """
    text = _clean_text(value)
    if text is None:
        return None
    latest = latest or dt.date.today()
    for pattern in _FORMATS:
        m = pattern.fullmatch(text)
        if m is None:
            continue
        parts = m.groupdict()
        try:
            if parts.get("serial") is not None:
                return _EXCEL_EPOCH + dt.timedelta(days=int(parts["serial"]))
            if parts.get("a") is not None:
                a, b = int(parts["a"]), int(parts["b"])
                day, month = (b, a) if order == "month_first" else (a, b)
            else:
                day, month = int(parts["d"]), int(parts["m"])
            if parts.get("yy") is not None:
                year = 2000 + int(parts["yy"])
                if dt.date(year, month, day) > latest:
                    year -= 100
            else:
                year = int(parts["y"])
            return dt.date(year, month, day)
        except (ValueError, OverflowError):
            return None
    return None


def parse_past_date(value: str | None, today: dt.date | None = None) -> dt.date | None:
    """:func:`parse_date`, None before the earliest plausible date or in the future."""
    today = today or dt.date.today()
    parsed = parse_date(value, latest=today)
    if parsed is None or not EARLIEST_DATE <= parsed <= today:
        return None
    return parsed


@lru_cache(maxsize=100_000)
def parse_birth_date(
    value: str | None, today: dt.date | None = None, order: str = DEFAULT_ORDER
) -> dt.date | None:
    """A birth date, or None if absent, unparseable, a placeholder or implausible.

    Accepted: every shape of ``tables/dates.yaml``: ISO ``1985-03-12`` (optionally with a time
    part), ``12/03/1985``, ``12-03-1985``, ``12.03.1985`` (day first: French sources),
    ``12/03/85``, ``19850312``, spreadsheet day numbers (``31118`` or ``31118.0``). Rejected
    (None): the placeholders (``1900-01-01``: a placeholder birth date is not a birth date),
    dates before the earliest plausible date (``0001-01-01``), and dates that make the person
    younger than ``min_age_years`` or born in the future, because a wrong birth date is worse
    than none for matching.
    """
    today = today or dt.date.today()
    latest = _years_before(today, MIN_AGE_YEARS)
    parsed = parse_date(value, order, latest)
    if parsed is None or parsed in PLACEHOLDER_BIRTH_DATES:
        return None
    if not EARLIEST_DATE <= parsed <= latest:
        return None
    return parsed


_NUMERIC_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})[/.-](\d{4}|\d{2})(\s.*)?")


def detect_date_order(values: pd.Series) -> str:
    """``day_first`` or ``month_first`` for the ``NN/NN/YYYY`` dates of a column.

    A first number above 12 proves day-first (31/12/1985), a second number above 12 proves
    month-first (12/31/1985); the side with more proofs wins and the declared order
    (day-first, European sources) is the default, so a column of only ambiguous dates is read
    as DD/MM.
    """
    text = _as_text_series(values.astype(object)).dropna().drop_duplicates()
    parts = text.astype(object).str.extract("^" + _NUMERIC_DATE.pattern).dropna(subset=[0, 2])
    if parts.empty:
        return DEFAULT_ORDER
    first, second = parts[0].astype(int), parts[2].astype(int)
    month_first = int(((second > 12) & (first <= 12)).sum())
    day_first = int(((first > 12) & (second <= 12)).sum())
    return "month_first" if month_first > day_first else "day_first"


def parse_birth_date_series(values: pd.Series, order: str = DEFAULT_ORDER) -> pd.Series:
    """Vectorised :func:`parse_birth_date`: ISO strings (``YYYY-MM-DD``) or None per row.

    ``order`` says how ``NN/NN/YYYY`` is read (see :func:`detect_date_order`); two-digit years
    (``12/03/85``) take the century that makes the person old enough.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        values = values.dt.strftime("%Y-%m-%d")
    elif values.dtype.kind == "f":
        values = values.map(lambda v: None if pd.isna(v) else f"{v:.0f}")
    today = dt.date.today()

    def parse(v: str) -> str | None:
        d = parse_birth_date(v, today, order)
        return d.isoformat() if d is not None else None

    return _map_unique(_as_text_series(values.astype(object)), parse)


def strptime_sql(text_sql: str) -> str:
    """DuckDB SQL reading a text column as a TIMESTAMP: ISO 8601 first, then the day-first
    shapes of ``tables/dates.yaml``; null when neither reads it."""
    formats = "[" + ", ".join(f"'{f}'" for f in STRPTIME_FORMATS) + "]"
    return (
        f"coalesce(CAST(try_cast({text_sql} AS TIMESTAMPTZ) AS TIMESTAMP), "
        f"try_strptime({text_sql}, {formats}))"
    )
