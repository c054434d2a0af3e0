"""Run expectation suites against the DuckDB warehouse with Great Expectations.

Data moves DuckDB -> Arrow -> pandas in one query per suite, reading only the columns (or SQL
expressions) the suite's column expectations need plus the table key; aggregates (orphans,
volume, freshness, shares) are computed by DuckDB and asserted by GE on a one-row frame.
GE's SQL datasource is not used: it closes the DuckDB connection before results are read.

    from data_quality.runner import run_suites
    with duckdb.connect(path) as con:
        results = run_suites(con)            # all suites whose table exists, history + Data Docs
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from data_quality import history
from data_quality.config import QualityConfig, load_config
from data_quality.masking import jsonable, mask_row
from data_quality.redaction import redact_store
from data_quality.suites import all_suites
from data_quality.suites.base import ColumnCheck, MetricCheck, SuiteContext, TableSuite, q

log = logging.getLogger(__name__)

DOCS_SITE = "quality_site"
_DATASOURCE = "warehouse_frames"


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


@dataclass
class ExpectationResult:
    check_id: str
    kind: str
    column: str | None
    severity: str
    success: bool
    expectation_type: str
    observed_value: Any = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    failing_rows: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def details_json(self) -> dict[str, Any]:
        out = dict(self.details)
        out["expectation_type"] = self.expectation_type
        if self.message:
            out["message"] = self.message
        if self.failing_rows:
            out["failing_rows"] = self.failing_rows
        return jsonable(out)


@dataclass
class SuiteResult:
    asset: str
    suite: str
    run_id: str
    validated_at: dt.datetime
    results: list[ExpectationResult] = field(default_factory=list)
    row_count: int | None = None
    seconds: float = 0.0
    skipped: str | None = None

    @property
    def failures(self) -> list[ExpectationResult]:
        return [r for r in self.results if not r.success]

    @property
    def error_failures(self) -> list[ExpectationResult]:
        return [r for r in self.failures if r.severity == "error"]

    @property
    def success(self) -> bool:
        return not self.failures

    @property
    def status(self) -> str:
        if self.skipped:
            return "skipped"
        if self.error_failures:
            return "error"
        return "warn" if self.failures else "pass"

    def summary(self) -> str:
        if self.skipped:
            return f"{self.asset}: skipped ({self.skipped})"
        return (
            f"{self.asset}: {self.status} - {len(self.results) - len(self.failures)}/"
            f"{len(self.results)} expectations passed, {len(self.error_failures)} error, "
            f"{len(self.failures) - len(self.error_failures)} warn ({self.seconds:.2f}s)"
        )


# --------------------------------------------------------------------------------------
# Great Expectations context
# --------------------------------------------------------------------------------------


# One GE context per process and root (None = ephemeral): creating a file-backed context reads
# and validates its YAML project (~0.3 s, more on a busy machine), which every suite of a run
# would otherwise pay again. Recreated if its project file disappeared (data dir wiped).
_CONTEXTS: dict[str, tuple[Any, Any]] = {}


def _gx_context(root: Path | None) -> tuple[Any, Any]:
    """The (context, pandas datasource) for `root`, created once per process."""
    key = "" if root is None else str(root.resolve())
    cached = _CONTEXTS.get(key)
    if cached is not None and (root is None or (root / "gx" / "great_expectations.yml").exists()):
        return cached
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    if root is None:
        context = gx.get_context(mode="ephemeral")
    else:
        root.mkdir(parents=True, exist_ok=True)
        context = gx.get_context(mode="file", project_root_dir=str(root))
        _ensure_docs_site(context, root / "data_docs")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    redact_store(context.validation_results_store)  # no personal data in the store or Docs
    try:
        # keep the dataframe assets of earlier runs: re-creating the datasource drops them, and
        # each asset added back rewrites the whole project YAML (~0.1-0.2 s a time)
        datasource = context.data_sources.get(_DATASOURCE)
    except KeyError:
        datasource = context.data_sources.add_pandas(_DATASOURCE)
    _CONTEXTS[key] = (context, datasource)
    return context, datasource


def _ensure_docs_site(context: Any, docs_dir: Path) -> None:
    sites = context.get_config().data_docs_sites or {}
    if "local_site" in sites:
        context.delete_data_docs_site("local_site")
    if DOCS_SITE not in sites:
        context.add_data_docs_site(
            site_name=DOCS_SITE,
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
            },
        )


class GXValidator:
    """The suites of one run: a file-backed GE context under `<root>/gx` (Data Docs), or an
    ephemeral one; the context itself is shared by every validator of the process."""

    def __init__(self, root: Path | None = None, run_id: str | None = None) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx

        self.gx = gx
        self.root = Path(root) if root is not None else None
        self.context, self.datasource = _gx_context(self.root)
        self.run_id = run_id or new_run_id()
        self._run_time = dt.datetime.now(dt.UTC)
        self._validated: set[str] = set()

    @property
    def docs_dir(self) -> Path | None:
        return None if self.root is None else self.root / "data_docs"

    def validate(
        self,
        name: str,
        expectations: Sequence[Any],
        frame: pd.DataFrame,
        index_columns: Sequence[str],
        sample_rows: int,
    ):
        """Validate `frame` against a suite called `name`; returns the GE validation result."""
        gx = self.gx
        suite = gx.ExpectationSuite(name=name, expectations=list(expectations))
        suite = self.context.suites.add_or_update(suite)
        try:
            asset = self.datasource.get_asset(name)
        except LookupError:
            asset = self.datasource.add_dataframe_asset(name)
        try:
            batch_definition = asset.get_batch_definition("whole_frame")
        except (KeyError, LookupError):
            batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
        definition = gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
        definition = self.context.validation_definitions.add_or_update(definition)
        result_format: dict[str, Any] = {
            "result_format": "SUMMARY",
            "partial_unexpected_count": max(sample_rows, 1),
        }
        if index_columns:
            result_format["unexpected_index_column_names"] = list(index_columns)
        from great_expectations.core.run_identifier import RunIdentifier

        self._validated.add(name)
        return definition.run(
            batch_parameters={"dataframe": frame},
            result_format=result_format,
            run_id=RunIdentifier(run_name=self.run_id, run_time=self._run_time),
        )

    def build_docs(self) -> Path | None:
        """Render this run's suites and validation results, then the index (not the whole
        history again: the cost stays flat as results accumulate)."""
        if self.root is None or not self._validated:
            return self.docs_dir
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
        )

        store = self.context.validation_results_store
        identifiers: list = [
            key
            for key in store.list_keys()
            if getattr(key, "run_id", None) is not None
            and key.run_id.run_name == self.run_id
            and key.expectation_suite_identifier.name in self._validated
        ]
        identifiers += [ExpectationSuiteIdentifier(name=n) for n in sorted(self._validated)]
        self.context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=identifiers)
        self._validated.clear()
        return self.docs_dir


def default_gx_root() -> Path:
    from cdp.settings import get_settings

    return get_settings().data_dir / "quality"


# --------------------------------------------------------------------------------------
# Reading the warehouse
# --------------------------------------------------------------------------------------


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str] | None:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return {name: dtype for name, dtype in rows} or None


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
    return {f"{s}.{t}" for s, t in rows}


def read_frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """Query -> Arrow -> pandas, set-based (no Python loop over rows)."""
    relation = con.sql(sql)
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow  # duckdb 2 / 1.x
    return fetch().to_pandas()


# --------------------------------------------------------------------------------------
# Running one suite
# --------------------------------------------------------------------------------------


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
    ctx = SuiteContext(
        schema=suite.schema,
        table=suite.table,
        config=config,
        now=now,
        previous_row_count=history.previous_row_count(con, suite.name),
    )
    sample_rows = config.defaults.sample_rows

    def severity(check) -> str:
        return config.severity(suite.name, check.id, check.kind, check.severity)

    column_checks: list[ColumnCheck] = []
    metric_checks: list[MetricCheck] = []
    missing_required: set[str] = set()
    for check in suite.checks:
        if not config.check_override(suite.name, check.id).enabled:
            continue
        missing = [c for c in check.needed if c not in columns]
        missing_tables = [t for t in getattr(check, "requires_tables", ()) if t not in tables]
        if missing or missing_tables:
            if check.optional:
                continue
            missing_required.update(missing)
            what = (
                f"missing column(s) {', '.join(missing)}"
                if missing
                else f"missing table(s) {', '.join(missing_tables)}"
            )
            out.results.append(_missing_result(check, severity(check), what))
            continue
        (column_checks if isinstance(check, ColumnCheck) else metric_checks).append(check)

    # -- column expectations on one narrow frame ----------------------------------------
    key_columns = [k for k in suite.key if k in columns]
    column_checks = _drop_unbindable(con, ctx, column_checks, out, severity)
    pushed: list[ColumnCheck] = []
    total_rows = con.execute(f"SELECT count(*) FROM {ctx.relation}").fetchall()[0][0]
    if column_checks and total_rows > int(ctx.setting("large_table_rows")):
        # Very large table: no pandas frame; each column check becomes a DuckDB aggregate
        # (unexpected share) asserted by GE with the metrics below.
        pushed, column_checks = column_checks, []
    selects: dict[str, str] = {k: q(k) for k in key_columns}
    for check in column_checks:
        for alias, sql in check.select_items():
            selects.setdefault(alias, f"{sql} AS {q(alias)}")
    out.row_count = int(total_rows)
    if column_checks:
        frame = read_frame(con, f"SELECT {', '.join(selects.values())} FROM {ctx.relation}")
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
        gx_result = validator.validate(
            f"{suite.name}.columns", expectations, frame, index, sample_rows
        )
        for r in gx_result.results:
            meta = r.expectation_config.meta or {}
            check = by_id[meta["check_id"]]
            res = r.result or {}
            exc = r.exception_info or {}
            raised = bool(exc.get("raised_exception")) if isinstance(exc, dict) else False
            out.results.append(
                ExpectationResult(
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
            )
        del frame

    # -- aggregates computed in DuckDB, asserted with GE on a one-row frame -------------
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
    metric_by_id = {c.id: c for c in metric_checks}
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
    metric_frame = pd.DataFrame(
        [{k: v for k, v in values.items() if k not in errors and v is not None}]
    )
    pushed_by_id = {c.id: c for c in pushed}
    gx_result = validator.validate(f"{suite.name}.metrics", expectations, metric_frame, [], 1)
    for r in gx_result.results:
        meta = r.expectation_config.meta or {}
        check_id = meta["check_id"]
        value = metric_frame[r.expectation_config.kwargs["column"]].iloc[0]
        result = ExpectationResult(
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
        if check_id in pushed_by_id:
            pc = pushed_by_id[check_id]
            unexpected, denominator = pushed_stats[check_id]
            pct = 100.0 * unexpected / denominator if denominator else 0.0
            result.column = pc.column
            result.expectation_type = _snake(pc.expectation)
            result.unexpected_count = unexpected
            result.unexpected_percent = pct
            result.observed_value = f"{unexpected} of {denominator} rows unexpected ({pct:.3g}%)"
            result.details = {"computed_in": "duckdb", "element_count": denominator}
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
    out.seconds = time.perf_counter() - started
    return out


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if re.match(r"^\d{4}-\d{2}-\d{2}T", text):
        return f"TIMESTAMPTZ '{text}'"
    return "'" + text.replace("'", "''") + "'"


def _pushdown_predicate(check: ColumnCheck, ctx: SuiteContext) -> tuple[str, str]:
    """(predicate true for an unexpected row, expression counted as the denominator)."""
    e = f"({check.expr or q(check.column)})"
    kwargs = check.build_kwargs(ctx)
    kind = check.expectation
    if kind == "ExpectColumnValuesToNotBeNull":
        return f"{e} IS NULL", "*"
    if kind == "ExpectColumnValuesToBeInSet":
        values = ", ".join(_literal(v) for v in kwargs["value_set"])
        return f"{e} IS NOT NULL AND NOT list_contains([{values}], {e})", e
    if kind == "ExpectColumnValuesToBeBetween":
        parts = []
        if kwargs.get("min_value") is not None:
            parts.append(f"{e} < {_literal(kwargs['min_value'])}")
        if kwargs.get("max_value") is not None:
            parts.append(f"{e} > {_literal(kwargs['max_value'])}")
        return f"{e} IS NOT NULL AND ({' OR '.join(parts) or 'false'})", e
    if kind == "ExpectColumnValuesToMatchRegex":
        regex = _literal(kwargs["regex"])
        return f"{e} IS NOT NULL AND NOT regexp_matches(CAST({e} AS VARCHAR), {regex})", e
    raise ValueError(f"no DuckDB form for {kind}")


def _key_exprs(check: ColumnCheck) -> list[str]:
    if check.is_compound:
        return [q(c) for c in check.needed]
    return [f"({check.expr or q(check.column)})"]


def _pushdown_counts(con, ctx: SuiteContext, check: ColumnCheck) -> tuple[int, int]:
    """(unexpected rows, rows counted) for one column check, computed by DuckDB."""
    if check.expectation in ("ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"):
        cols = _key_exprs(check)
        present = " OR ".join(f"{c} IS NOT NULL" for c in cols)
        row = con.execute(
            f"SELECT coalesce(sum(n) FILTER (WHERE n > 1), 0), coalesce(sum(n), 0) FROM ("
            f"SELECT count(*) AS n FROM {ctx.relation} WHERE {present} "
            f"GROUP BY {', '.join(cols)})"
        ).fetchall()[0]
        return int(row[0]), int(row[1])
    predicate, denominator = _pushdown_predicate(check, ctx)
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE {predicate}), count({denominator}) FROM {ctx.relation}"
    ).fetchall()[0]
    return int(row[0]), int(row[1])


def _pushdown_sample_sql(
    ctx: SuiteContext, check: ColumnCheck, key_columns: list[str], n: int
) -> str:
    """A few offending rows: the table key plus the checked value."""
    items = {k: q(k) for k in key_columns}
    if check.is_compound:
        items.update({c: q(c) for c in check.needed})
    else:
        items.setdefault(check.column, f"({check.expr or q(check.column)})")
    select = ", ".join(f"{sql} AS {q(alias)}" for alias, sql in items.items())
    if check.expectation in ("ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"):
        cols = _key_exprs(check)
        dupes = (
            f"SELECT {', '.join(cols)} FROM {ctx.relation} "
            f"GROUP BY {', '.join(cols)} HAVING count(*) > 1"
        )
        if len(cols) == 1:
            where = f"{cols[0]} IN ({dupes})"
        else:
            where = f"row({', '.join(cols)}) IN (SELECT row({', '.join(cols)}) FROM ({dupes}))"
        return f"SELECT {select} FROM {ctx.relation} WHERE {where} LIMIT {n}"
    predicate, _ = _pushdown_predicate(check, ctx)
    return f"SELECT {select} FROM {ctx.relation} WHERE {predicate} LIMIT {n}"


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


def _sample(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    try:
        frame = read_frame(con, sql)
    except duckdb.Error as exc:  # a sample is a courtesy; never fail the run for it
        log.warning("sample query failed: %s", exc)
        return []
    return [mask_row(row) for row in frame.to_dict(orient="records")]


# --------------------------------------------------------------------------------------
# Running many suites
# --------------------------------------------------------------------------------------


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


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
