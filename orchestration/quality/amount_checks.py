"""Blocking `amount_outliers` checks on the staging models of orders and till receipts.

The raw rows with absurd amounts are quarantined (rule `absurd_amount`) and dropped by
staging; this check counts the ones that still reached the staging model (the quarantine
did not run, or its rule was removed) and, being blocking, keeps them out of the marts.
See data_quality/outliers.py.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from data_quality.config import load_config
from data_quality.outliers import AMOUNTS, AmountColumn, staging_outliers, threshold_sql
from orchestration.shared.resources import WarehouseResource

CHECK_NAME = "amount_outliers"


def build_amount_check(amount: AmountColumn) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(amount.staging.split(".")),
        name=CHECK_NAME,
        blocking=True,
        description=(
            f"{amount.staging}.{amount.staging_column}: no absurd amount reaches the marts "
            f"(threshold estimated from {amount.raw}; blocking)"
        ),
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        settings = load_config().amount_outliers
        with warehouse.connect() as con:
            found = staging_outliers(con, amount, settings)
            threshold = con.execute(f"SELECT {threshold_sql(amount, settings)}").fetchone()[0]
        return dg.AssetCheckResult(
            passed=found == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "rows_above_threshold": dg.MetadataValue.int(found),
                "threshold": dg.MetadataValue.float(float(threshold or 0)),
            },
        )

    return _check


def build_amount_checks(present: Iterable[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    keys = set(present)
    return [build_amount_check(a) for a in AMOUNTS if dg.AssetKey(a.staging.split(".")) in keys]
