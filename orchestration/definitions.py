"""The single Dagster code location: definitions merged from each domain."""

from __future__ import annotations

import dagster as dg

from cdp.settings import disable_telemetry
from orchestration import activation, ingestion, ml, privacy, quality, serving, transform
from orchestration.automation import automation_sensor

disable_telemetry()

domains = [ingestion.defs, transform.defs, quality.defs, ml.defs, activation.defs, privacy.defs]
defs = dg.Definitions.merge(
    dg.Definitions(executor=dg.in_process_executor, sensors=[automation_sensor]),
    *domains,
    serving.build_defs(domains),  # last: it depends on every served asset of the others
)
