"""Declarative automation: derived layers follow new raw data, syncs wait for data refreshed
since their cron tick, and a failed blocking check stops what is downstream of it.

The conditions are the project's own (orchestration/automation.py), evaluated by Dagster's
automation tester on a small graph with the same shape as the CDP's (raw -> mart with a
blocking check -> segment -> sync), then checked on the real code location.
"""

from __future__ import annotations

import datetime

import dagster as dg
import pytest

from orchestration.automation import AUTOMATION_SENSOR, derived_condition, sync_condition

RAW, MART, SEGMENT, SYNC = (
    dg.AssetKey(["raw_shop", "orders"]),
    dg.AssetKey(["marts", "customer_360"]),
    dg.AssetKey(["activation", "segment_membership"]),
    dg.AssetKey(["activation", "sync_ads"]),
)
STATE = {"mart_valid": True}


@dg.asset(key=RAW)
def raw() -> None: ...


@dg.asset(
    key=MART,
    deps=[RAW],
    automation_condition=derived_condition(),
    check_specs=[dg.AssetCheckSpec("quality_suite", asset=MART, blocking=True)],
)
def mart():
    yield dg.MaterializeResult()
    yield dg.AssetCheckResult(check_name="quality_suite", passed=STATE["mart_valid"])


@dg.asset(key=SEGMENT, deps=[MART], automation_condition=derived_condition())
def segment() -> None: ...


@dg.asset(key=SYNC, deps=[SEGMENT, MART], automation_condition=sync_condition("0 4 * * *"))
def sync() -> None: ...


ASSETS = [raw, mart, segment, sync]


class Ticks:
    """Successive automation ticks at chosen times, as the daemon's sensor evaluates them."""

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self.instance = instance
        self.cursor = None

    def at(self, hhmm: str, day: int = 2) -> set[dg.AssetKey]:
        hour, minute = map(int, hhmm.split(":"))
        when = datetime.datetime(2026, 1, day, hour, minute, tzinfo=datetime.UTC)
        result = dg.evaluate_automation_conditions(
            defs=ASSETS, instance=self.instance, cursor=self.cursor, evaluation_time=when
        )
        self.cursor = result.cursor
        return {key for key in (MART, SEGMENT, SYNC) if result.get_num_requested(key)}


def _materialize(instance: dg.DagsterInstance, *assets) -> None:
    selection = [a.key for a in assets]
    dg.materialize(ASSETS, instance=instance, selection=selection, raise_on_error=False)


@pytest.fixture
def ticks():
    STATE["mart_valid"] = True
    with dg.instance_for_test() as instance:
        yield Ticks(instance)


def test_new_raw_data_flows_to_the_marts_and_segments_and_syncs_wait_for_it(ticks):
    instance = ticks.instance
    assert ticks.at("03:00") == set()  # nothing loaded yet
    _materialize(instance, raw)
    assert ticks.at("03:10") == {MART, SEGMENT}  # one run: mart, then segment
    _materialize(instance, mart, segment)
    assert ticks.at("03:20") == set()
    # 04:00 tick of the sync: what it reads was built before 04:00, so it waits
    assert ticks.at("04:05") == set()
    # the 05:00 ingestion lands: the rebuild and the sync go together, the sync last
    _materialize(instance, raw)
    assert ticks.at("05:05") == {MART, SEGMENT, SYNC}
    _materialize(instance, mart, segment, sync)
    assert ticks.at("05:15") == set()  # sent once per cron tick
    _materialize(instance, raw)
    assert ticks.at("06:00") == {MART, SEGMENT}  # fresh data, but no new tick of the sync


def test_a_failed_blocking_check_stops_segments_and_syncs_across_runs(ticks):
    instance = ticks.instance
    _materialize(instance, raw, mart, segment, sync)
    ticks.at("03:00")
    STATE["mart_valid"] = False
    _materialize(instance, raw, mart)  # the mart is rebuilt and fails its blocking check
    assert ticks.at("04:10") == set()
    STATE["mart_valid"] = True
    _materialize(instance, raw)
    assert ticks.at("05:00") == {MART, SEGMENT, SYNC}  # fixed upstream: everything resumes


def test_the_code_location_automates_every_derived_asset_and_no_sync_has_its_own_clock():
    from activation.config import load_syncs, segments_path, syncs_path
    from activation.segments import load_segments
    from cdp.settings import get_settings
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        condition = graph.get(key).automation_condition
        if key.path[0].startswith("raw_"):
            assert condition is None, key  # started by the landing sensor and the schedule
        else:
            assert condition is not None, key
            assert "all_deps_blocking_checks_passed" in str(condition), key
    config_dir = get_settings().config_dir
    syncs = load_syncs(syncs_path(config_dir), load_segments(segments_path(config_dir))).syncs
    for sync_config in (s for s in syncs if s.enabled and s.schedule):
        condition = graph.get(dg.AssetKey(["activation", f"sync_{sync_config.name}"]))
        assert f"on_cron({sync_config.schedule}, UTC)" in str(condition.automation_condition)
    assert [s.name for s in defs.schedules] == ["daily_ingestion"]
    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) == {AUTOMATION_SENSOR, "landing_files_sensor"}
    for instigator in [*sensors.values(), *defs.schedules]:
        assert instigator.default_status.value == "STOPPED"  # turned on per instance


def test_turning_the_automation_on_in_an_instance(cdp_env):
    """What `cdp demo` does to its own instance, read back as the UI and the daemon read it."""
    import json

    from cdp.settings import ensure_dagster_home, get_settings
    from ingestion.pipeline import source_fingerprints
    from orchestration.instance import LANDING_SENSOR, turn_on_automation
    from tests.ingestion.ingestion_fixtures import write_landing

    write_landing(get_settings().landing_dir)
    ensure_dagster_home(get_settings())
    with dg.DagsterInstance.get() as instance:
        started = turn_on_automation(instance)
        assert set(started) == {AUTOMATION_SENSOR, LANDING_SENSOR, "daily_ingestion"}
        states = {state.name: state for state in instance.all_instigator_state()}
    assert {name: states[name].status.value for name in started} == dict.fromkeys(
        started, "RUNNING"
    )
    cursor = json.loads(states[LANDING_SENSOR].instigator_data.cursor)
    assert cursor == source_fingerprints()  # files already there do not start a run
