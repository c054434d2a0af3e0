"""The raw suites read the raw schema declared by the source packages."""

from __future__ import annotations

import pytest

from data_quality.suites.base import not_null
from data_quality.suites.raw import RAW_SUITES, raw_suite
from ingestion.sources.specs import SOURCES, raw_tables


def test_every_declared_raw_table_has_one_suite():
    declared = sorted(f"raw_{s}.{t}" for s in SOURCES for t in raw_tables(s))
    assert sorted(s.name for s in RAW_SUITES) == declared


def test_suite_keys_are_declared_columns():
    for suite in RAW_SUITES:
        source = suite.schema.removeprefix("raw_")
        assert set(suite.key) <= set(raw_tables(source)[suite.table].names), suite.name


def test_a_check_of_an_undeclared_column_fails_at_definition():
    with pytest.raises(ValueError, match=r"undeclared columns \['unit_cost'\]"):
        raw_suite("catalog", "products", ("sku",), not_null("unit_cost"))


def test_a_suite_of_an_undeclared_table_fails_at_definition():
    with pytest.raises(KeyError):
        raw_suite("catalog", "prices", ("sku",))
