"""`["quality", "quarantine_rows"]`: rows held back by the quarantine rules, after each load."""

from collections.abc import Iterable

import dagster as dg

from data_quality.config import load_config
from orchestration.automation import derived_condition
from orchestration.shared.resources import WarehouseResource

QUARANTINE_KEY = dg.AssetKey(["quality", "quarantine_rows"])


def build_quarantine_asset(raw_keys: Iterable[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=QUARANTINE_KEY,
        deps=sorted(set(raw_keys), key=lambda k: k.to_user_string()),
        group_name="quality",
        automation_condition=derived_condition(),
        kinds={"duckdb"},
        description=(
            "Raw rows violating a quarantine rule of config/quality.yaml, plus rows ingestion "
            "rejected; staging excludes the error-severity ones."
        ),
        check_specs=[dg.AssetCheckSpec("rules_evaluated", asset=QUARANTINE_KEY)],
    )
    def quarantine_rows(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        from data_quality.quarantine import run_quarantine

        config = load_config()
        with warehouse.connect() as con:
            report = run_quarantine(con, config)
        for outcome in report.errors:
            context.log.error(outcome.error)
        yield dg.MaterializeResult(
            metadata={
                "quarantined_rows": dg.MetadataValue.int(report.total),
                "new_rows": dg.MetadataValue.int(report.new),
                "error_rows": dg.MetadataValue.int(
                    sum(o.rows for o in report.outcomes if o.severity == "error")
                ),
                "by_table": dg.MetadataValue.json(report.by_table()),
                "by_rule": dg.MetadataValue.json(report.by_rule()),
                "tables_not_loaded": dg.MetadataValue.json(report.missing_tables),
            }
        )
        yield dg.AssetCheckResult(
            check_name="rules_evaluated",
            passed=not report.errors,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"errors": dg.MetadataValue.json([o.error for o in report.errors])},
        )

    return quarantine_rows
