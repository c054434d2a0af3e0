"""What every normaliser shares: missing values, the declared tables, distinct-value mapping."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml


@cache
def table(name: str) -> dict[str, Any]:
    """The declared tables of one area, `tables/<name>.yaml` next to this code (read once)."""
    text = resources.files(__package__).joinpath("tables", f"{name}.yaml").read_text("utf-8")
    return yaml.safe_load(text)


_MISSING_TOKENS = frozenset(table("text")["missing_tokens"])


def _clean_text(value: object) -> str | None:
    """Text of a cell, or None for missing values (None, NaN, '', 'null', 'N/A', ...)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    text = str(value).strip()
    if text.lower() in _MISSING_TOKENS:
        return None
    return text


def _map_unique(series: pd.Series, func: Callable[[str], object]) -> pd.Series:
    """Apply ``func`` once per distinct non-missing value of ``series``.

    Customer columns repeat a lot (cities, first names, the same e-mail in five systems), so
    deduplicating first divides the Python-level work by the repetition factor.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = np.array([func(v) for v in uniques] + [None], dtype=object)
    # code -1 (missing) indexes the trailing None
    return pd.Series(mapped[codes], index=series.index, dtype=object)


def _as_text_series(series: pd.Series) -> pd.Series:
    """A Series of stripped text with missing tokens turned into NA (Arrow-backed strings)."""
    if series.dtype != "str" and series.dtype != object:
        series = series.astype(object)
    s = series.astype("str").str.strip()
    missing = s.str.lower().isin(list(_MISSING_TOKENS))
    return s.mask(missing)


def normalize_identifier_series(values: pd.Series) -> pd.Series:
    """A personal number typed by hand (social security, passport, member number): upper
    case, letters and digits only, ``.0`` of a spreadsheet number removed; None when empty."""
    text = _as_text_series(values.astype(object)).str.upper()
    text = text.str.replace(r"\.0+$", "", regex=True).str.replace(r"[^0-9A-Z]+", "", regex=True)
    return text.astype(object).where(text.fillna("").str.len().gt(0), None)
