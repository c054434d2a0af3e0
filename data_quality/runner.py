"""Run expectation suites against the DuckDB warehouse with Great Expectations.

Data moves DuckDB -> Arrow -> pandas in one query per suite, reading only the columns (or SQL
expressions) the suite's column expectations need plus the table key; aggregates (orphans,
volume, freshness, shares) are computed by DuckDB and asserted by GE on a one-row frame.
GE's SQL datasource is not used: it closes the DuckDB connection before results are read.

    from data_quality.runner import run_suites
    with cdp.warehouse.connect(path) as con:
        results = run_suites(con)            # all suites whose table exists, history + Data Docs

A suite runs in three steps: :func:`data_quality.plan.plan_suite` decides which checks run and
how, this module runs them (one frame, one metric query each, two GE validations) and
:mod:`data_quality.translate` turns GE's results into :class:`ExpectationResult`. The GE context
and Data Docs are in :mod:`data_quality.gx_store`, the result types in
:mod:`data_quality.results`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from data_quality import history
from data_quality.config import QualityConfig, load_config
from data_quality.gx_store import GXValidator, default_gx_root
from data_quality.plan import SuitePlan, plan_suite
from data_quality.pushdown import _pushdown_counts, _pushdown_sample_sql
from data_quality.reading import _sample, existing_tables, read_frame, table_columns
from data_quality.results import ExpectationResult, SuiteResult, new_run_id
from data_quality.suites import all_suites
from data_quality.suites.base import TableSuite
from data_quality.translate import (
    _expectation,
    _missing_result,
    column_result,
    metric_result,
    pushed_result,
)

__all__ = [
    "ExpectationResult",
    "GXValidator",
    "SuiteResult",
    "default_gx_root",
    "new_run_id",
    "run_suite",
    "run_suites",
    "select_suites",
]


def run_suite(
    con: duckdb.DuckDBPyConnection,
    suite: TableSuite,
    config: QualityConfig,
    validator: GXValidator,
    *,
    run_id: str,
    now: dt.datetime | None = None,
    tables: set[str] | None = None,
) -> SuiteResult:
    """Validate one table; never raises for data problems (they become failed results)."""
    started = time.perf_counter()
    now = now or dt.datetime.now(dt.UTC)
    out = SuiteResult(asset=suite.name, suite=suite.name, run_id=run_id, validated_at=now)
    columns = table_columns(con, suite.schema, suite.table)
    if columns is None:
        out.skipped = "table not found in the warehouse"
        return out
    tables = tables if tables is not None else existing_tables(con)
    plan = plan_suite(con, suite, config, columns, tables, now, out)
    out.row_count = plan.total_rows
    if plan.column_checks:
        _run_column_checks(con, plan, validator, out)
    _run_metric_checks(con, plan, validator, out)
    out.seconds = time.perf_counter() - started
    return out


def _run_column_checks(
    con: duckdb.DuckDBPyConnection, plan: SuitePlan, validator: GXValidator, out: SuiteResult
) -> None:
    """Column expectations on one narrow frame, validated by GE; results appended to ``out``."""
    ctx, severity, column_checks = plan.ctx, plan.severity, plan.column_checks
    key_columns, sample_rows = plan.key_columns, plan.sample_rows
    frame = read_frame(con, f"SELECT {', '.join(plan.selects.values())} FROM {ctx.relation}")
    by_id = {c.id: c for c in column_checks}
    expectations = [
        _expectation(
            c,
            ctx,
            {"check_id": c.id, "severity": severity(c), "kind": c.kind, "column": c.column},
        )
        for c in column_checks
    ]
    index = [k for k in key_columns if frame[k].notna().any()] if len(frame) else []
    gx_result = validator.validate(f"{plan.suite}.columns", expectations, frame, index, sample_rows)
    for r in gx_result.results:
        meta = r.expectation_config.meta or {}
        out.results.append(column_result(r, by_id[meta["check_id"]], ctx, sample_rows))
    del frame


def _metric_expectations(
    con: duckdb.DuckDBPyConnection, plan: SuitePlan, out: SuiteResult
) -> tuple[list[Any], dict[str, Any], dict[str, str], dict[str, tuple[int, int]]]:
    """(GE expectations, value of each aggregate, query errors, pushed-down counts): the
    aggregates computed in DuckDB; those that cannot be asserted are appended to ``out``."""
    ctx, severity, metric_checks, pushed = plan.ctx, plan.severity, plan.metric_checks, plan.pushed
    missing_required = plan.missing_required
    values: dict[str, Any] = {
        "required_columns_missing": float(len(missing_required)),
    }
    errors: dict[str, str] = {}
    for check in metric_checks:
        try:
            value = con.execute(check.sql(ctx)).fetchall()[0][0]
            values[check.id] = None if value is None else float(value)
        except duckdb.Error as exc:
            errors[check.id] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    import great_expectations.expectations as gxe

    expectations = [
        gxe.ExpectColumnValuesToBeBetween(
            column="required_columns_missing",
            max_value=0,
            meta={"check_id": "required_columns_present", "severity": "error", "kind": "schema"},
        )
    ]
    for check in metric_checks:
        if check.id in errors:
            out.results.append(_missing_result(check, severity(check), errors[check.id]))
            continue
        if values[check.id] is None:
            ok = check.null_means == "pass"
            out.results.append(
                ExpectationResult(
                    check_id=check.id,
                    kind=check.kind,
                    column=check.column,
                    severity=severity(check),
                    success=ok,
                    expectation_type="expect_column_values_to_be_between",
                    observed_value=None,
                    message="" if ok else "no value (empty table or unparsable column)",
                )
            )
            continue
        low, high = check.resolved_bounds(ctx)
        kwargs = {k: v for k, v in (("min_value", low), ("max_value", high)) if v is not None}
        expectations.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=check.id,
                **kwargs,
                meta={"check_id": check.id, "severity": severity(check), "kind": check.kind},
            )
        )
    pushed_stats: dict[str, tuple[int, int]] = {}
    for check in pushed:
        try:
            unexpected, denominator = _pushdown_counts(con, ctx, check)
        except duckdb.Error as exc:
            msg = f"{type(exc).__name__}: {exc}".splitlines()[0]
            out.results.append(_missing_result(check, severity(check), msg))
            continue
        pushed_stats[check.id] = (unexpected, denominator)
        values[check.id] = unexpected / denominator if denominator else 0.0
        mostly = float(check.build_kwargs(ctx).get("mostly", 1.0))
        expectations.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=check.id,
                max_value=round(1.0 - mostly, 12),
                meta={"check_id": check.id, "severity": severity(check), "kind": check.kind},
            )
        )
    return expectations, values, errors, pushed_stats


def _run_metric_checks(
    con: duckdb.DuckDBPyConnection, plan: SuitePlan, validator: GXValidator, out: SuiteResult
) -> None:
    """Aggregates computed in DuckDB, asserted with GE on a one-row frame; results appended to
    ``out``."""
    ctx, metric_checks, pushed = plan.ctx, plan.metric_checks, plan.pushed
    missing_required, key_columns = plan.missing_required, plan.key_columns
    sample_rows = plan.sample_rows
    expectations, values, errors, pushed_stats = _metric_expectations(con, plan, out)
    metric_by_id = {c.id: c for c in metric_checks}
    metric_frame = pd.DataFrame(
        [{k: v for k, v in values.items() if k not in errors and v is not None}]
    )
    pushed_by_id = {c.id: c for c in pushed}
    gx_result = validator.validate(f"{plan.suite}.metrics", expectations, metric_frame, [], 1)
    for r in gx_result.results:
        meta = r.expectation_config.meta or {}
        check_id = meta["check_id"]
        value = metric_frame[r.expectation_config.kwargs["column"]].iloc[0]
        result = metric_result(r, value, metric_by_id)
        if check_id in pushed_by_id:
            pc = pushed_by_id[check_id]
            pushed_result(result, pc, *pushed_stats[check_id])
            if not result.success and sample_rows:
                result.failing_rows = _sample(
                    con, _pushdown_sample_sql(ctx, pc, key_columns, sample_rows)
                )
            out.results.append(result)
            continue
        if check_id == "required_columns_present":
            result.observed_value = sorted(missing_required)
            result.unexpected_count = len(missing_required)
        check = metric_by_id.get(check_id)
        if check is not None:
            result.details["description"] = check.description
            if check.kind in ("referential_integrity",) or check.id == "rejected_rows":
                result.unexpected_count = int(value)
            if not result.success and check.sample_sql is not None and sample_rows:
                result.failing_rows = _sample(con, check.sample_sql(ctx, sample_rows))
        out.results.append(result)


def select_suites(names: Iterable[str] | None = None) -> list[TableSuite]:
    from data_quality.suites import get_suite

    if names is None:
        return list(all_suites())
    return [get_suite(n) for n in names]


def run_suites(
    con: duckdb.DuckDBPyConnection,
    suites: Iterable[TableSuite] | None = None,
    *,
    config: QualityConfig | None = None,
    run_id: str | None = None,
    now: dt.datetime | None = None,
    record: bool = True,
    data_docs: bool = True,
    gx_root: Path | None = None,
    validator: GXValidator | None = None,
) -> list[SuiteResult]:
    """Validate each suite whose table exists; append history and rebuild Data Docs.

    `con` must be writable when `record` is true (results go to quality.validation_results).
    """
    config = config or load_config()
    run_id = run_id or new_run_id()
    now = now or dt.datetime.now(dt.UTC)
    if validator is None:
        validator = GXValidator((gx_root or default_gx_root()) if data_docs else None, run_id)
    con.execute("SET TimeZone = 'UTC'")
    tables = existing_tables(con)
    results = [
        run_suite(con, suite, config, validator, run_id=run_id, now=now, tables=tables)
        for suite in (list(suites) if suites is not None else all_suites())
    ]
    if record:
        history.append(con, results)
    if data_docs:
        validator.build_docs()
    return results
