"""Orchestration domain: serving (the read-only snapshot BI, the app and the CLI readers open).

`build_defs(domains)` makes the snapshot asset depend on every asset of the other domains that
lands in a served schema, so it runs last in a run and only when all of them succeeded and
their blocking checks passed (cdp/serving.py says why readers never open the warehouse).
"""

import dagster as dg

from orchestration.serving.assets import build_snapshot_asset


def build_defs(domains: list[dg.Definitions]) -> dg.Definitions:
    return dg.Definitions(assets=[build_snapshot_asset(domains)])
