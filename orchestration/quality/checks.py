"""Asset checks built from the expectation suites: one `quality_suite` check per table.

A check runs its suite with Great Expectations (see `data_quality.runner`), appends the
results to `quality.validation_results`, rebuilds the Data Docs and reports:

- passed when every expectation passed;
- severity ERROR when an error-severity expectation failed, WARN when only warn ones did;
- metadata: counts, the failing expectations with observed values, and a few failing rows
  with e-mails, phones and names masked.

Checks on `blocking_assets` (config/quality.yaml: customer_360, customer_consent, ...) are
`blocking=True`: an ERROR stops every downstream asset of the run (segments, syncs).
"""

from collections.abc import Iterable

import dagster as dg

from data_quality.config import QualityConfig, load_config
from data_quality.runner import SuiteResult, default_gx_root
from data_quality.suites import all_suites
from data_quality.suites.base import TableSuite
from orchestration.shared.resources import WarehouseResource

CHECK_NAME = "quality_suite"


def _md_failures(result: SuiteResult) -> str:
    lines = ["| expectation | column | severity | observed | unexpected |", "|---|---|---|---|---|"]
    for f in result.failures:
        observed = str(f.observed_value if not f.message else f"{f.observed_value} ({f.message})")
        observed = observed.replace("|", "\\|")[:160]
        lines.append(
            f"| {f.check_id} | {f.column or ''} | {f.severity} | {observed} | "
            f"{'' if f.unexpected_count is None else f.unexpected_count} |"
        )
    return "\n".join(lines)


def check_result(result: SuiteResult) -> dg.AssetCheckResult:
    """Translate a suite result into a Dagster check result with masked samples."""
    if result.skipped:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"{result.asset}: {result.skipped}",
            metadata={"reason": result.skipped},
        )
    failures = result.failures
    metadata: dict[str, object] = {
        "row_count": dg.MetadataValue.int(int(result.row_count or 0)),
        "expectations": dg.MetadataValue.int(len(result.results)),
        "failed_error": dg.MetadataValue.int(len(result.error_failures)),
        "failed_warn": dg.MetadataValue.int(len(failures) - len(result.error_failures)),
        "seconds": dg.MetadataValue.float(round(result.seconds, 3)),
        "run_id": result.run_id,
        "data_docs": dg.MetadataValue.path(str(default_gx_root() / "data_docs" / "index.html")),
    }
    if failures:
        metadata["failing_expectations"] = dg.MetadataValue.md(_md_failures(result))
        metadata["failing_rows"] = dg.MetadataValue.json(
            {f.check_id: f.failing_rows for f in failures if f.failing_rows}
        )
        metadata["observed_values"] = dg.MetadataValue.json(
            {f.check_id: f.observed_value for f in failures}
        )
    severity = dg.AssetCheckSeverity.ERROR if result.error_failures else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        passed=not failures,
        severity=severity,
        metadata=metadata,
        description=result.summary(),
    )


def read_tables(suite: TableSuite, present: set[dg.AssetKey] | None) -> list[dg.AssetKey]:
    """Other assets the suite reads (referential checks): the check waits for them."""
    keys = {
        dg.AssetKey(table.split("."))
        for check in suite.checks
        for table in getattr(check, "requires_tables", ())
    } - {dg.AssetKey(suite.asset_key)}
    return sorted((key for key in keys if present is None or key in present), key=lambda k: k.path)


def build_suite_check(
    suite: TableSuite, blocking: bool, additional_deps: Iterable[dg.AssetKey] = ()
) -> dg.AssetChecksDefinition:
    description = (
        f"Great Expectations suite {suite.name}: "
        + ", ".join(sorted({c.kind for c in suite.checks}))
        + (" (blocking)" if blocking else "")
    )

    @dg.asset_check(
        asset=dg.AssetKey(suite.asset_key),
        name=CHECK_NAME,
        blocking=blocking,
        description=description,
        additional_deps=list(additional_deps),
    )
    def _suite_check(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        from data_quality.runner import run_suites

        with warehouse.connect() as con:
            [result] = run_suites(con, [suite], config=load_config(), run_id=context.run.run_id)
        for failure in result.failures:
            context.log.warning(
                f"{suite.name}: {failure.severity} {failure.check_id} failed, "
                f"observed {failure.observed_value}"
            )
        return check_result(result)

    return _suite_check


def build_suite_checks(
    present: Iterable[dg.AssetKey] | None = None,
    config: QualityConfig | None = None,
) -> list[dg.AssetChecksDefinition]:
    """One check per suite; only for assets in `present` when given."""
    config = config or load_config()
    keys = None if present is None else set(present)
    return [
        build_suite_check(suite, config.is_blocking(suite.name), read_tables(suite, keys))
        for suite in all_suites()
        if keys is None or dg.AssetKey(suite.asset_key) in keys
    ]
