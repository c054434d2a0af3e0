"""Declarative automation: what starts each layer, declared once for the code location.

- raw tables: the landing sensor (files changed) and the daily schedule (orchestration.ingestion)
  start ingestion runs; nothing else materialises them;
- everything derived (quarantine, staging, identity, marts, churn model and scores, segments):
  `eager` (as soon as an upstream asset updated and none is missing or in progress), and only
  once the blocking checks of its direct upstream assets have passed;
- syncs: `on_cron(schedule)` from config/syncs.yaml: after a tick of the sync's cron, wait until
  every asset it reads has been updated since that tick, then send. A sync's cron is a cadence
  over fresh data, not a clock of its own: the 04:00 ad syncs go out once the 05:00 ingestion
  has flowed through the marts and segments. A sync without a schedule follows `eager`.
  Blocking checks still stop it (in the same run, and across runs by the condition).

The `cdp_automation` sensor evaluates these conditions (the Dagster daemon runs it: `dagster
dev`, or `dagster-daemon run` beside the UI). Off by default in a new instance; `cdp demo` turns
it on in the demo's own instance with the landing sensor and the daily schedule.
"""

from __future__ import annotations

import dagster as dg

AUTOMATION_SENSOR = "cdp_automation"
BLOCKING_PASSED = dg.AutomationCondition.all_deps_blocking_checks_passed()


def derived_condition() -> dg.AutomationCondition:
    """Rebuild after any upstream update, once upstream blocking checks pass."""
    return dg.AutomationCondition.eager() & BLOCKING_PASSED


def derived_asset(*, group_name: str, **asset_kwargs):
    """`dg.asset` for an asset rebuilt from others: in its group, under `derived_condition`."""
    return dg.asset(group_name=group_name, automation_condition=derived_condition(), **asset_kwargs)


def sync_condition(cron: str | None) -> dg.AutomationCondition:
    """Send on the sync's cadence, only data refreshed since the cron tick, checks passed."""
    if not cron:
        return derived_condition()
    return (
        dg.AutomationCondition.on_cron(cron, "UTC")
        & BLOCKING_PASSED
        & ~dg.AutomationCondition.any_deps_in_progress()
    )


automation_sensor = dg.AutomationConditionSensorDefinition(
    AUTOMATION_SENSOR,
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=30,
    run_tags={"cdp/trigger": "automation"},
    description=(
        "Materialises staging, identity, marts, scores and segments after new raw data, and "
        "the syncs on their cadence once what they read is fresh (orchestration/automation.py)."
    ),
)
