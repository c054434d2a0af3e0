"""Absurd amounts: a distribution check on the raw tables and a blocking guard before the marts.

An order of 99,999,999.99 is a typo or a test, not a customer; left alone it makes a top
"champion" and inflates revenue. The threshold is estimated from the table itself (`factor`
x the median positive amount) and bounded by the `floor` and `ceiling` of
`config/quality.yaml: amount_outliers`, so a small table cannot pull it anywhere absurd.

- raw: the rule `absurd_amount` (error) quarantines such rows, so staging drops them
  (`exclude_quarantined`); the raw suite's `<column>_absurd_amounts` check (warn, data_quality/suites/raw.py) counts them;
- staging: the Dagster check `amount_outliers` on the staging model counts rows above the
  threshold that still reached it; blocking, so the marts are not built on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from data_quality.config import AmountOutlierSettings, QualityConfig, QuarantineRule

RULE = "absurd_amount"


@dataclass(frozen=True)
class AmountColumn:
    """An amount column of a raw table and the staging model column it becomes."""

    raw: str  # "raw_shop.orders"
    column: str
    staging: str  # "staging.stg_shop__orders"
    staging_column: str


AMOUNTS = (
    AmountColumn("raw_shop.orders", "grand_total", "staging.stg_shop__orders", "grand_total"),
    AmountColumn("raw_pos.receipts", "total_amount", "staging.stg_pos__receipts", "total_amount"),
)


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _relation(asset: str) -> str:
    schema, table = asset.split(".")
    return f"{q(schema)}.{q(table)}"


def threshold_sql(amount: AmountColumn, settings: AmountOutlierSettings) -> str:
    """A scalar SQL expression: the absurd-amount threshold estimated from the raw table."""
    value = f"abs(try_cast({q(amount.column)} AS DOUBLE))"
    median = f"(SELECT median({value}) FROM {_relation(amount.raw)} WHERE {value} > 0)"
    return (
        f"least({settings.ceiling}, greatest({settings.floor}, "
        f"{settings.factor} * coalesce({median}, 0)))"
    )


def predicate(amount: AmountColumn, settings: AmountOutlierSettings, column: str) -> str:
    return f"abs(try_cast({q(column)} AS DOUBLE)) > {threshold_sql(amount, settings)}"


def quarantine_rules(config: QualityConfig) -> dict[str, list[QuarantineRule]]:
    """The `absurd_amount` rule of every amount column, added to the configured rules."""
    settings = config.amount_outliers
    return {
        a.raw: [
            QuarantineRule(
                rule=RULE,
                where=predicate(a, settings, a.column),
                severity="error",
                reason=(
                    f"{a.column} is absurd: above {settings.factor:g} x the median amount "
                    f"(bounded to {settings.floor:g}..{settings.ceiling:g})"
                ),
            )
        ]
        for a in AMOUNTS
    }


def all_quarantine_rules(config: QualityConfig) -> dict[str, list[QuarantineRule]]:
    rules = {asset: list(r) for asset, r in config.quarantine.items()}
    for asset, extra in quarantine_rules(config).items():
        known = {r.rule for r in rules.get(asset, [])}
        rules.setdefault(asset, []).extend(r for r in extra if r.rule not in known)
    return rules


def staging_outliers(
    con: duckdb.DuckDBPyConnection, amount: AmountColumn, settings: AmountOutlierSettings
) -> int:
    """Rows of the staging model above the threshold: absurd amounts that got past quarantine."""
    where = predicate(amount, settings, amount.staging_column)
    return int(
        con.execute(f"SELECT count(*) FROM {_relation(amount.staging)} WHERE {where}").fetchone()[0]
    )
