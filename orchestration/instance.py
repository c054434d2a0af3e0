"""Turn the automation on in a Dagster instance, as `dagster sensor/schedule start` would.

`cdp demo` calls this on the demo's own instance so that `make ui` shows the landing sensor, the
daily schedule and the `cdp_automation` sensor running. The instigators are started through the
code location of workspace.yaml, the same one the UI and the daemon load, so their stored state
is the one they read. The landing sensor starts from the files already loaded (its cursor is
their fingerprint): only files that land afterwards start a run.
"""

from __future__ import annotations

import json

import dagster as dg

from cdp.settings import PROJECT_ROOT

WORKSPACE = PROJECT_ROOT / "workspace.yaml"
LANDING_SENSOR = "landing_files_sensor"


def turn_on_automation(instance: dg.DagsterInstance) -> list[str]:
    """Start every sensor and schedule of the code location; the names started."""
    from dagster import __version__
    from dagster._cli.workspace.cli_target import get_repository_from_cli_opts
    from dagster_shared.cli import WorkspaceOpts

    from ingestion.pipeline import source_fingerprints

    started = []
    opts = WorkspaceOpts(workspace=[str(WORKSPACE)])
    with get_repository_from_cli_opts(instance, __version__, opts, None) as repo:
        for sensor in repo.get_sensors():
            state = instance.start_sensor(sensor)
            if sensor.name == LANDING_SENSOR:
                cursor = json.dumps(source_fingerprints(), sort_keys=True)
                data = state.instigator_data._replace(cursor=cursor)
                instance.update_instigator_state(state.with_data(data))
            started.append(sensor.name)
        for schedule in repo.get_schedules():
            instance.start_schedule(schedule)
            started.append(schedule.name)
    return started
