"""Expectation suites as code: one `TableSuite` per raw table and mart of the contract."""

from __future__ import annotations

from data_quality.suites.base import TableSuite
from data_quality.suites.marts import MART_SUITES
from data_quality.suites.raw import RAW_SUITES

ALL_SUITES: tuple[TableSuite, ...] = RAW_SUITES + MART_SUITES


def all_suites() -> tuple[TableSuite, ...]:
    return ALL_SUITES


def get_suite(name: str) -> TableSuite:
    """Suite for `schema.table`."""
    for suite in ALL_SUITES:
        if suite.name == name:
            return suite
    known = ", ".join(s.name for s in ALL_SUITES)
    raise KeyError(f"no quality suite for {name!r}; known: {known}")


__all__ = ["ALL_SUITES", "TableSuite", "all_suites", "get_suite"]
