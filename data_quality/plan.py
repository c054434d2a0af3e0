"""Planning one suite: which checks can run against the table as it is (the others become
failed results), which column checks go into the pandas frame and which are pushed down to
DuckDB (very large table), and the columns the frame reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from data_quality import history
from data_quality.config import QualityConfig
from data_quality.results import SuiteResult
from data_quality.suites.base import ColumnCheck, MetricCheck, SuiteContext, TableSuite, q
from data_quality.translate import _missing_result


@dataclass
class SuitePlan:
    """What :func:`plan_suite` decided for one suite, filled in as it decides."""

    suite: str
    sample_rows: int
    ctx: SuiteContext
    severity: Callable[[Any], str]
    total_rows: int
    key_columns: list[str]
    column_checks: list[ColumnCheck] = field(default_factory=list)
    metric_checks: list[MetricCheck] = field(default_factory=list)
    #: column checks asserted as DuckDB aggregates (very large table), not on the frame
    pushed: list[ColumnCheck] = field(default_factory=list)
    missing_required: set[str] = field(default_factory=set)
    #: the frame's columns: alias -> SQL select item
    selects: dict[str, str] = field(default_factory=dict)


def plan_suite(
    con: duckdb.DuckDBPyConnection,
    suite: TableSuite,
    config: QualityConfig,
    columns: dict[str, str],
    tables: set[str],
    now: dt.datetime,
    out: SuiteResult,
) -> SuitePlan:
    """The plan of ``suite``; the checks that cannot run are appended to ``out`` as failed."""
    ctx = SuiteContext(
        schema=suite.schema,
        table=suite.table,
        config=config,
        now=now,
        previous_row_count=history.previous_row_count(con, suite.name),
    )

    def severity(check) -> str:
        return config.severity(suite.name, check.id, check.kind, check.severity)

    total_rows = con.execute(f"SELECT count(*) FROM {ctx.relation}").fetchall()[0][0]
    plan = SuitePlan(
        suite=suite.name,
        sample_rows=config.defaults.sample_rows,
        ctx=ctx,
        severity=severity,
        total_rows=int(total_rows),
        key_columns=[k for k in suite.key if k in columns],
    )
    for check in suite.checks:
        if not config.check_override(suite.name, check.id).enabled:
            continue
        missing = [c for c in check.needed if c not in columns]
        missing_tables = [t for t in getattr(check, "requires_tables", ()) if t not in tables]
        if missing or missing_tables:
            if check.optional:
                continue
            plan.missing_required.update(missing)
            what = (
                f"missing column(s) {', '.join(missing)}"
                if missing
                else f"missing table(s) {', '.join(missing_tables)}"
            )
            out.results.append(_missing_result(check, severity(check), what))
            continue
        (plan.column_checks if isinstance(check, ColumnCheck) else plan.metric_checks).append(check)

    # -- column expectations on one narrow frame ----------------------------------------
    plan.column_checks = _drop_unbindable(con, ctx, plan.column_checks, out, severity)
    if plan.column_checks and plan.total_rows > int(ctx.setting("large_table_rows")):
        # Very large table: no pandas frame; each column check becomes a DuckDB aggregate
        # (unexpected share) asserted by GE with the metrics below.
        plan.pushed, plan.column_checks = plan.column_checks, []
    plan.selects = {k: q(k) for k in plan.key_columns}
    for check in plan.column_checks:
        for alias, sql in check.select_items():
            plan.selects.setdefault(alias, f"{sql} AS {q(alias)}")
    return plan


def _drop_unbindable(con, ctx: SuiteContext, checks: list[ColumnCheck], out: SuiteResult, severity):
    """Keep the checks whose SQL expression binds against the table; report the others."""
    if not checks:
        return checks
    try:
        con.execute(
            f"SELECT {', '.join(c.select_sql() for c in checks)} FROM {ctx.relation} LIMIT 0"
        )
        return checks
    except duckdb.Error:
        pass
    kept = []
    for check in checks:
        try:
            con.execute(f"SELECT {check.select_sql()} FROM {ctx.relation} LIMIT 0")
            kept.append(check)
        except duckdb.Error as exc:
            msg = f"{type(exc).__name__}: {exc}".splitlines()[0]
            out.results.append(_missing_result(check, severity(check), msg))
    return kept
