"""Asset checks built from the expectation suites: one `quality_suite` check per table.

A check runs its suite with Great Expectations (see `data_quality.runner`), appends the
results to `quality.validation_results`, rebuilds the Data Docs and reports:

- passed when every expectation passed;
- severity ERROR when an error-severity expectation failed, WARN when only warn ones did;
- metadata: counts, the failing expectations with observed values, and a few failing rows
  with e-mails, phones and names masked.

Checks on `blocking_assets` (config/quality.yaml: customer_360, customer_consent, ...) are
`blocking=True`: an ERROR stops every downstream asset of the run (segments, syncs).

Great Expectations comes from the `quality_gx` resource: one GE context per process and one
validator per run, so every check of the run adds its validation results to the same run, and
the Data Docs are rebuilt once when the run's resources are torn down (with the in-process
executor: at the end of the run) instead of after every check.
"""

import logging
from collections.abc import Iterable

import dagster as dg
from pydantic import PrivateAttr

from data_quality.config import QualityConfig, load_config
from data_quality.runner import GXValidator, SuiteResult, default_gx_root
from data_quality.suites import all_suites
from data_quality.suites.base import TableSuite
from orchestration.shared.resources import WarehouseResource

CHECK_NAME = "quality_suite"
RESOURCE_KEY = "quality_gx"

log = logging.getLogger(__name__)


class QualityGXResource(dg.ConfigurableResource):
    """Great Expectations for the quality checks of one run.

    `validator(run_id)` returns the run's validator (file-backed context under
    `<data dir>/quality`, shared by the process); the Data Docs of everything validated are
    built once, at teardown. With an executor that initialises resources per step, that is
    once per check, which is still correct.
    """

    data_docs: bool = True
    _validator: GXValidator | None = PrivateAttr(default=None)

    def validator(self, run_id: str) -> GXValidator:
        if self._validator is None or self._validator.run_id != run_id:
            self.build_docs()
            self._validator = GXValidator(default_gx_root() if self.data_docs else None, run_id)
        return self._validator

    def build_docs(self) -> None:
        if self._validator is None:
            return
        try:
            self._validator.build_docs()
        except Exception:  # the docs are a view: never fail the run for them
            log.warning("quality: building the Data Docs failed", exc_info=True)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.build_docs()
        self._validator = None


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
        context: dg.AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        quality_gx: QualityGXResource,
    ) -> dg.AssetCheckResult:
        from data_quality.runner import run_suites

        run_id = context.run.run_id
        with warehouse.connect() as con:
            [result] = run_suites(
                con,
                [suite],
                config=load_config(),
                run_id=run_id,
                validator=quality_gx.validator(run_id),
                data_docs=False,  # built once per run by the resource
            )
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
