"""The small vocabulary suites are written in.

A `TableSuite` lists checks for one warehouse table (`schema.table`, the Dagster asset key
`[schema, table]`). Two kinds of check exist:

- `ColumnCheck`: a Great Expectations column expectation validated on a pandas frame that
  holds only the columns the suite needs (plus the key), read from DuckDB through Arrow.
  A check may read a SQL expression instead of a bare column (casts, parsed dates, signed
  amounts); the expression is evaluated by DuckDB, the assertion by GE.
- `MetricCheck`: an aggregate computed set-based in DuckDB (orphan count, row count,
  freshness, a share) and asserted with GE on a one-row frame. It may carry a sample query
  that lists a few offending rows when it fails.

Severities and thresholds come from `config/quality.yaml` (see `data_quality.config`); the
values written here are defaults a user overrides per check id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cdp.normalize.dates import EARLIEST_DATE, strptime_sql
from data_quality.config import QualityConfig

EMAIL_REGEX = r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
E164_REGEX = r"^\+[1-9]\d{6,14}$"


def q(name: str) -> str:
    """Quote an identifier for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def ts(column: str) -> str:
    """Parse a column that may be text (ISO 8601), DATE or TIMESTAMP into TIMESTAMPTZ."""
    return f"try_cast(CAST({q(column)} AS VARCHAR) AS TIMESTAMPTZ)"


def dmy(column: str) -> str:
    """Parse a staff-typed day-first text date (`DD/MM/YYYY`...) or ISO 8601 into TIMESTAMPTZ,
    with the shapes of the platform's date parser (`cdp.normalize.dates`)."""
    return f"CAST({strptime_sql(f'CAST({q(column)} AS VARCHAR)')} AS TIMESTAMPTZ)"


def num(column: str) -> str:
    return f"try_cast({q(column)} AS DOUBLE)"


@dataclass(frozen=True)
class SuiteContext:
    """What a check may look at while building its expectation or its SQL."""

    schema: str
    table: str
    config: QualityConfig
    now: datetime
    previous_row_count: int | None = None

    @property
    def asset(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def relation(self) -> str:
        return f"{q(self.schema)}.{q(self.table)}"

    def setting(self, name: str):
        return self.config.setting(self.asset, name)


@dataclass(frozen=True)
class ColumnCheck:
    id: str
    kind: str
    column: str
    expectation: str  # class name in great_expectations.expectations
    kwargs: Callable[[SuiteContext], dict[str, Any]] | dict[str, Any] = field(default_factory=dict)
    expr: str | None = None  # SQL expression; default: the column itself
    requires: tuple[str, ...] = ()  # raw columns read; default: (column,)
    optional: bool = False  # skipped (not failed) when a required column is absent
    description: str = ""
    severity: str | None = None  # default for this check; config overrides; else kind default

    @property
    def frame_column(self) -> str:
        return self.column if self.expr is None else f"{self.column}__{self.id}"

    @property
    def needed(self) -> tuple[str, ...]:
        return self.requires or (self.column,)

    @property
    def is_compound(self) -> bool:
        return self.expectation == "ExpectCompoundColumnsToBeUnique"

    def select_items(self) -> list[tuple[str, str]]:
        """(frame column, SQL) pairs this check needs in the frame."""
        if self.is_compound:
            return [(c, q(c)) for c in self.needed]
        return [(self.frame_column, self.expr or q(self.column))]

    def select_sql(self) -> str:
        return ", ".join(f"{sql} AS {q(alias)}" for alias, sql in self.select_items())

    def build_kwargs(self, ctx: SuiteContext) -> dict[str, Any]:
        base = self.kwargs(ctx) if callable(self.kwargs) else dict(self.kwargs)
        override = ctx.config.check_override(ctx.asset, self.id)
        if override.mostly is not None:
            base["mostly"] = override.mostly
        if override.min_value is not None:
            base["min_value"] = override.min_value
        if override.max_value is not None:
            base["max_value"] = override.max_value
        return base


@dataclass(frozen=True)
class MetricCheck:
    id: str
    kind: str
    sql: Callable[[SuiteContext], str]  # a query returning one row with one numeric value
    bounds: Callable[[SuiteContext], tuple[float | None, float | None]]
    column: str | None = None
    requires: tuple[str, ...] = ()
    requires_tables: tuple[str, ...] = ()  # other relations read ("schema.table")
    sample_sql: Callable[[SuiteContext, int], str] | None = None
    optional: bool = False
    null_means: str = "fail"  # "fail" or "pass" when the metric is NULL (empty table)
    description: str = ""
    severity: str | None = None

    @property
    def needed(self) -> tuple[str, ...]:
        return self.requires

    def resolved_bounds(self, ctx: SuiteContext) -> tuple[float | None, float | None]:
        low, high = self.bounds(ctx)
        override = ctx.config.check_override(ctx.asset, self.id)
        if override.min_value is not None:
            low = override.min_value
        if override.max_value is not None:
            high = override.max_value
        return low, high


Check = ColumnCheck | MetricCheck


@dataclass(frozen=True)
class TableSuite:
    schema: str
    table: str
    key: tuple[str, ...]
    checks: tuple[Check, ...]
    layer: str = "raw"  # raw | mart

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def asset_key(self) -> list[str]:
        return [self.schema, self.table]

    def check(self, check_id: str) -> Check:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(f"{self.name}: no check {check_id!r}")

    def __post_init__(self) -> None:
        ids = [c.id for c in self.checks]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"suite {self.name}: duplicate check ids {sorted(dupes)}")


# --------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------


def primary_key(*columns: str) -> list[Check]:
    checks: list[Check] = [
        ColumnCheck(f"{c}_not_null", "not_null", c, "ExpectColumnValuesToNotBeNull")
        for c in columns
    ]
    if len(columns) == 1:
        checks.append(
            ColumnCheck(
                f"{columns[0]}_unique", "primary_key", columns[0], "ExpectColumnValuesToBeUnique"
            )
        )
    else:
        checks.append(
            ColumnCheck(
                "key_unique",
                "primary_key",
                ",".join(columns),
                "ExpectCompoundColumnsToBeUnique",
                kwargs={"column_list": list(columns)},
                requires=tuple(columns),
            )
        )
    return checks


def not_null(column: str, *, kind: str = "not_null", optional: bool = False) -> ColumnCheck:
    return ColumnCheck(
        f"{column}_not_null", kind, column, "ExpectColumnValuesToNotBeNull", optional=optional
    )


def email_format(column: str, *, normalised: bool = False, optional: bool = False) -> ColumnCheck:
    """E-mail shape; raw columns are trimmed first, normalised ones must already be clean."""
    expr = None if normalised else f"nullif(trim(CAST({q(column)} AS VARCHAR)), '')"
    return ColumnCheck(
        f"{column}_email_format",
        "format",
        column,
        "ExpectColumnValuesToMatchRegex",
        kwargs={"regex": EMAIL_REGEX},
        expr=expr,
        optional=optional,
    )


def e164(column: str, *, optional: bool = False) -> ColumnCheck:
    return ColumnCheck(
        f"{column}_e164",
        "format",
        column,
        "ExpectColumnValuesToMatchRegex",
        kwargs={"regex": E164_REGEX},
        expr=f"CAST({q(column)} AS VARCHAR)",
        optional=optional,
    )


def accepted_values(column: str, values: Sequence[Any], *, optional: bool = False) -> ColumnCheck:
    return ColumnCheck(
        f"{column}_accepted_values",
        "domain",
        column,
        "ExpectColumnValuesToBeInSet",
        kwargs={"value_set": [str(v) for v in values]},
        expr=f"CAST({q(column)} AS VARCHAR)",
        optional=optional,
    )


def between(
    column: str,
    min_value: float | None = None,
    max_value: float | None = None,
    *,
    check_id: str | None = None,
    expr: str | None = None,
    requires: tuple[str, ...] = (),
    optional: bool = False,
) -> ColumnCheck:
    kwargs: dict[str, Any] = {}
    if min_value is not None:
        kwargs["min_value"] = min_value
    if max_value is not None:
        kwargs["max_value"] = max_value
    return ColumnCheck(
        check_id or f"{column}_range",
        "range",
        column,
        "ExpectColumnValuesToBeBetween",
        kwargs=kwargs,
        expr=expr if expr is not None else num(column),
        requires=requires,
        optional=optional,
    )


def non_negative(column: str, *, optional: bool = False) -> ColumnCheck:
    return between(column, 0, None, check_id=f"{column}_non_negative", optional=optional)


def rule(
    check_id: str, kind: str, column: str, predicate: str, requires: tuple[str, ...]
) -> ColumnCheck:
    """A row-level boolean rule written in SQL; rows where it is not true are unexpected."""
    return ColumnCheck(
        check_id,
        kind,
        column,
        "ExpectColumnValuesToBeInSet",
        kwargs={"value_set": [True]},
        expr=f"coalesce(({predicate}), false)",
        requires=requires,
    )


def sign_matches_return(
    check_id: str, column: str, flag: str = "is_return", *, flag_sql: str | None = None
) -> ColumnCheck:
    """Amounts of returns (`flag` true) at or below zero, of purchases at or above zero."""
    amount = num(column)
    return rule(
        check_id,
        "range",
        column,
        f"CASE WHEN {flag_sql or q(flag)} THEN {amount} <= 0 ELSE {amount} >= 0 END",
        (column, flag),
    )


def not_in_future(
    column: str, *, parser: Callable[[str], str] = ts, optional: bool = False
) -> ColumnCheck:
    def kwargs(ctx: SuiteContext) -> dict[str, Any]:
        limit = ctx.now + timedelta(hours=ctx.setting("future_tolerance_hours"))
        return {"max_value": limit.isoformat()}

    return ColumnCheck(
        f"{column}_not_in_future",
        "future_date",
        column,
        "ExpectColumnValuesToBeBetween",
        kwargs=kwargs,
        expr=parser(column),
        optional=optional,
    )


def birth_date_plausible(column: str, *, parser: Callable[[str], str] = ts) -> ColumnCheck:
    def kwargs(ctx: SuiteContext) -> dict[str, Any]:
        earliest = f"{EARLIEST_DATE.isoformat()}T00:00:00+00:00"
        return {"min_value": earliest, "max_value": ctx.now.isoformat()}

    return ColumnCheck(
        f"{column}_plausible",
        "range",
        column,
        "ExpectColumnValuesToBeBetween",
        kwargs=kwargs,
        expr=parser(column),
    )


def orphans(
    column: str,
    parent: str,
    parent_column: str,
    *,
    check_id: str | None = None,
    optional: bool = False,
) -> MetricCheck:
    """Rows whose `column` is set but matches no `parent_column` of `parent` (schema.table)."""
    p_schema, p_table = parent.split(".")
    parent_rel = f"{q(p_schema)}.{q(p_table)}"

    def where(ctx: SuiteContext) -> str:
        return (
            f"FROM {ctx.relation} c WHERE c.{q(column)} IS NOT NULL AND NOT EXISTS ("
            f"SELECT 1 FROM {parent_rel} p "
            f"WHERE CAST(p.{q(parent_column)} AS VARCHAR) = CAST(c.{q(column)} AS VARCHAR))"
        )

    def sample(ctx: SuiteContext, n: int) -> str:
        return f"SELECT c.{q(column)} AS {q(column)} {where(ctx)} LIMIT {n}"

    return MetricCheck(
        check_id or f"{column}_references_{p_table}",
        "referential_integrity",
        sql=lambda ctx: f"SELECT count(*) {where(ctx)}",
        bounds=lambda ctx: (None, 0),
        column=column,
        requires=(column,),
        requires_tables=(parent,),
        sample_sql=sample,
        optional=optional,
        description=f"{column} must exist in {parent}.{parent_column}",
    )


def volume() -> MetricCheck:
    """Row count within `volume_tolerance` of the previous successful run (history)."""

    def bounds(ctx: SuiteContext) -> tuple[float | None, float | None]:
        if ctx.previous_row_count is None:
            return float(ctx.setting("min_rows")), None
        tol = float(ctx.setting("volume_tolerance"))
        prev = ctx.previous_row_count
        return max(float(ctx.setting("min_rows")), prev * (1 - tol)), prev * (1 + tol)

    return MetricCheck(
        "row_count_within_tolerance",
        "volume",
        sql=lambda ctx: f"SELECT count(*) FROM {ctx.relation}",
        bounds=bounds,
        null_means="pass",
        description="row count within tolerance of the previous successful run",
    )


def _freshness(
    check_id: str, newest: str, seconds_per_unit: float, setting: str, column: str, what: str
) -> MetricCheck:
    """The time from the newest value (the SQL expression `newest`) of `column` to the run's
    now, in units of `seconds_per_unit`, at most the setting `setting`."""

    def sql(ctx: SuiteContext) -> str:
        now = ctx.now.isoformat()
        return (
            f"SELECT date_diff('second', {newest}, TIMESTAMPTZ '{now}') / {seconds_per_unit} "
            f"FROM {ctx.relation}"
        )

    return MetricCheck(
        check_id,
        "freshness",
        sql=sql,
        bounds=lambda ctx: (None, float(ctx.setting(setting))),
        column=column,
        requires=(column,),
        description=what,
    )


def load_freshness() -> MetricCheck:
    """Hours since the newest dlt load of this table."""
    return _freshness(
        "load_freshness_hours",
        "to_timestamp(max(try_cast(_dlt_load_id AS DOUBLE)))",
        3600.0,
        "load_freshness_hours",
        "_dlt_load_id",
        "hours since the newest load",
    )


def event_freshness(column: str, *, parser: Callable[[str], str] = ts) -> MetricCheck:
    """Days since the newest event/update time of the table."""
    return _freshness(
        f"{column}_freshness_days",
        f"max({parser(column)})",
        86400.0,
        "event_freshness_days",
        column,
        f"days since the newest {column}",
    )


def share(
    check_id: str,
    predicate: str,
    *,
    column: str,
    requires: tuple[str, ...],
    min_value: float | None = None,
    max_value: float | None = None,
    optional: bool = False,
    among: str | None = None,
    description: str = "",
) -> MetricCheck:
    """Share (0..1) of rows where `predicate` holds (of the rows where `among` holds, if set)."""
    skip = f"WHEN NOT ({among}) THEN NULL " if among else ""
    return MetricCheck(
        check_id,
        "distribution",
        sql=lambda ctx: (
            f"SELECT avg(CASE {skip}WHEN ({predicate}) THEN 1.0 ELSE 0.0 END) FROM {ctx.relation}"
        ),
        bounds=lambda ctx: (min_value, max_value),
        column=column,
        requires=requires,
        null_means="pass",
        optional=optional,
        description=description,
    )


def null_share(column: str, max_value: float, *, among: str | None = None) -> MetricCheck:
    """Share of rows without `column`, counted over the rows where the `among` column is true."""
    return share(
        f"{column}_null_share",
        f"nullif(trim(CAST({q(column)} AS VARCHAR)), '') IS NULL",
        column=column,
        requires=(column,) if among is None else (column, among),
        max_value=max_value,
        among=None if among is None else q(among),
        description=f"share of rows without {column}" + (f" among {among} rows" if among else ""),
    )


def rejected_rows(schema: str, table: str) -> MetricCheck:
    """Rows of this table the ingestion could not parse (`<schema>.rejected_rows`)."""
    rel = f"{q(schema)}.rejected_rows"

    def sql(ctx: SuiteContext) -> str:
        return f"SELECT count(*) FROM {rel} WHERE table_name = '{table}'"

    def sample(ctx: SuiteContext, n: int) -> str:
        return (
            f"SELECT source_file, line_number, reason FROM {rel} "
            f"WHERE table_name = '{table}' ORDER BY source_file, line_number LIMIT {n}"
        )

    return MetricCheck(
        "rejected_rows",
        "schema",
        sql=sql,
        bounds=lambda ctx: (None, 0),
        requires_tables=(f"{schema}.rejected_rows",),
        sample_sql=sample,
        optional=True,
        description="rows ingestion could not parse",
        severity="warn",
    )
