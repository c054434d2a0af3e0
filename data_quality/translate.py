"""Translation between the quality checks and Great Expectations: a check as a GE expectation,
a GE validation result as an :class:`ExpectationResult` (failing rows masked)."""

from __future__ import annotations

import re
from typing import Any

from data_quality.masking import jsonable, mask_row
from data_quality.results import ExpectationResult
from data_quality.suites.base import ColumnCheck, MetricCheck, SuiteContext


def _expectation(check: ColumnCheck, ctx: SuiteContext, meta: dict[str, Any]):
    import great_expectations.expectations as gxe

    cls = getattr(gxe, check.expectation)
    kwargs = check.build_kwargs(ctx)
    if not check.is_compound:
        kwargs["column"] = check.frame_column
    return cls(**kwargs, meta=meta)


def _observed_for_map(res: dict[str, Any]) -> str | None:
    if "unexpected_count" not in res:
        return None
    total = res.get("element_count")
    pct = res.get("unexpected_percent") or 0.0
    return f"{res['unexpected_count']} of {total} rows unexpected ({pct:.3g}%)"


def _failing_rows(res: dict[str, Any], check: ColumnCheck, limit: int) -> list[dict[str, Any]]:
    rows = res.get("partial_unexpected_index_list") or []
    out = []
    for row in rows[:limit]:
        if isinstance(row, dict):
            clean = {(check.column if k == check.frame_column else k): v for k, v in row.items()}
            out.append(mask_row(clean))
    if not out:
        values = res.get("partial_unexpected_list") or []
        out = [mask_row({check.column: v}) for v in values[:limit]]
    return out


def _missing_result(check, severity: str, what: str) -> ExpectationResult:
    return ExpectationResult(
        check_id=check.id,
        kind=check.kind,
        column=check.column,
        severity=severity,
        success=False,
        expectation_type=getattr(check, "expectation", "metric"),
        observed_value=what,
        message=f"cannot evaluate: {what}",
    )


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def column_result(
    r: Any, check: ColumnCheck, ctx: SuiteContext, sample_rows: int
) -> ExpectationResult:
    """The result of a column expectation validated on the suite's frame."""
    meta = r.expectation_config.meta or {}
    res = r.result or {}
    exc = r.exception_info or {}
    raised = bool(exc.get("raised_exception")) if isinstance(exc, dict) else False
    return ExpectationResult(
        check_id=check.id,
        kind=check.kind,
        column=check.column,
        severity=meta["severity"],
        success=bool(r.success) and not raised,
        expectation_type=r.expectation_config.type,
        observed_value=jsonable(res.get("observed_value", _observed_for_map(res))),
        unexpected_count=res.get("unexpected_count"),
        unexpected_percent=res.get("unexpected_percent"),
        failing_rows=[] if r.success else _failing_rows(res, check, sample_rows),
        message=(exc.get("exception_message") or "") if raised else "",
        details={
            "element_count": res.get("element_count"),
            "missing_count": res.get("missing_count"),
            "kwargs": jsonable(
                {k: v for k, v in check.build_kwargs(ctx).items() if k != "value_set"}
            ),
        },
    )


def metric_result(r: Any, value: Any, metric_by_id: dict[str, MetricCheck]) -> ExpectationResult:
    """The result of an aggregate asserted on the one-row metric frame."""
    meta = r.expectation_config.meta or {}
    check_id = meta["check_id"]
    return ExpectationResult(
        check_id=check_id,
        kind=meta["kind"],
        column=(metric_by_id[check_id].column if check_id in metric_by_id else None),
        severity=meta["severity"],
        success=bool(r.success),
        expectation_type=r.expectation_config.type,
        observed_value=jsonable(value),
        details={
            "min_value": r.expectation_config.kwargs.get("min_value"),
            "max_value": r.expectation_config.kwargs.get("max_value"),
        },
    )


def pushed_result(
    result: ExpectationResult, check: ColumnCheck, unexpected: int, denominator: int
) -> None:
    """Reword (in place) a metric result as the column check computed by DuckDB it stands for."""
    pct = 100.0 * unexpected / denominator if denominator else 0.0
    result.column = check.column
    result.expectation_type = _snake(check.expectation)
    result.unexpected_count = unexpected
    result.unexpected_percent = pct
    result.observed_value = f"{unexpected} of {denominator} rows unexpected ({pct:.3g}%)"
    result.details = {"computed_in": "duckdb", "element_count": denominator}
