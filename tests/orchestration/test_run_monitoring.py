"""Dead runs end FAILED (run monitoring with the project's launcher), and one writer at a time
on the warehouse (the file lock every run takes)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import EngineEventData
from dagster._core.storage.dagster_run import DagsterRun
from dagster._daemon.monitoring.run_monitoring import monitor_started_run

from cdp import warehouse_lock as lock
from cdp.settings import ensure_dagster_home, get_settings
from orchestration.monitoring import CdpRunLauncher, fail_dead_runs
from orchestration.shared.resources import WarehouseResource

SLOW_RUN = """
import time, dagster as dg
from orchestration.monitoring import process_tags

@dg.op
def wait_forever():
    time.sleep(600)

@dg.job
def slow():
    wait_forever()

slow.execute_in_process(instance=dg.DagsterInstance.get(), tags=process_tags())
"""


@pytest.fixture
def instance(cdp_env: Path) -> dg.DagsterInstance:
    ensure_dagster_home(get_settings())  # the project's dagster.yaml
    with dg.DagsterInstance.get() as inst:  # DAGSTER_HOME of cdp_env
        yield inst


def _started_run(instance: dg.DagsterInstance) -> DagsterRun:
    while True:
        runs = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        if runs:
            return runs[0]
        time.sleep(0.2)


def test_instance_config_queues_one_run_and_monitors_workers(instance):
    assert isinstance(instance.run_launcher, CdpRunLauncher)
    assert instance.run_coordinator.get_run_queue_config().max_concurrent_runs == 1
    assert instance.run_monitoring_enabled
    assert instance.run_monitoring_max_resume_run_attempts == 0


def test_killed_run_ends_failed_on_the_next_monitoring_check(instance, cdp_env):
    worker = subprocess.Popen([sys.executable, "-c", SLOW_RUN], env=dict(os.environ))
    try:
        run = _started_run(instance)
        record = instance.get_run_records(dg.RunsFilter(run_ids=[run.run_id]))[0]
        monitor_started_run(instance, None, record, logging.getLogger("test"))
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED  # alive
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
    record = instance.get_run_records(dg.RunsFilter(run_ids=[run.run_id]))[0]
    monitor_started_run(instance, None, record, logging.getLogger("test"))
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE


def test_launched_run_worker_pid_comes_from_its_engine_event(instance):
    """Runs started by the daemon or the UI report their worker's pid in an engine event."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    runs = {}
    for name, pid in (("alive", os.getpid()), ("dead", gone.pid)):
        run = instance.add_run(
            DagsterRun(
                job_name="launched", run_id=str(uuid.uuid4()), status=dg.DagsterRunStatus.STARTED
            )
        )
        instance.report_engine_event(
            f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid)
        )
        runs[name] = run.run_id
    assert fail_dead_runs(instance) == [runs["dead"]]
    assert instance.get_run_by_id(runs["dead"]).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(runs["alive"]).status == dg.DagsterRunStatus.STARTED


HOLD_LOCK = """
import sys, time
from cdp.warehouse_lock import acquire
acquire(sys.argv[1])
print("held", flush=True)
time.sleep(600)
"""

TRY_LOCK = """
import sys
from cdp.warehouse_lock import WarehouseBusy, acquire
try:
    acquire(sys.argv[1], wait=False)
except WarehouseBusy:
    sys.exit(3)
"""


def _try_lock(warehouse: Path) -> int:
    return subprocess.run([sys.executable, "-c", TRY_LOCK, str(warehouse)]).returncode


def test_one_writer_at_a_time_and_a_killed_holder_frees_the_warehouse(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert lock.holder(warehouse) == str(holder.pid)
        assert _try_lock(warehouse) == 3
        with pytest.raises(lock.WarehouseBusy, match=f"pid {holder.pid}"):
            lock.acquire(warehouse, wait=False)
    finally:
        holder.kill()  # SIGKILL: no cleanup code runs, the kernel drops the lock
        holder.wait()
    assert _try_lock(warehouse) == 0
    with lock.warehouse_lock(warehouse), lock.warehouse_lock(warehouse):  # re-entrant
        assert _try_lock(warehouse) == 3
    assert _try_lock(warehouse) == 0


def test_a_run_holds_the_warehouse_lock_while_it_writes(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    seen = {}

    @dg.asset
    def writes(warehouse: WarehouseResource) -> None:
        seen["other process"] = _try_lock(Path(warehouse.location))

    assert dg.materialize(
        [writes], resources={"warehouse": WarehouseResource(path=str(warehouse))}
    ).success
    assert seen == {"other process": 3}
    assert _try_lock(warehouse) == 0


def test_cdp_ingest_waits_for_the_writer_then_runs(tmp_path, monkeypatch):
    """`cdp ingest` (like `cdp sync` and `cdp segments --refresh`) takes the writer lock: it
    waits while another process writes, and runs once that process is gone."""
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    env = {**os.environ, "CDP_DATA_DIR": str(tmp_path / "data")}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        ingest = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "ingest", "--source", "catalog"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert f"being written by pid {holder.pid}: waiting" in ingest.stderr.readline()
        assert ingest.poll() is None  # still waiting
    finally:
        holder.kill()
        holder.wait()
    out, _ = ingest.communicate(timeout=300)
    assert f"warehouse: {warehouse}" in out  # it ran once the holder was gone
    assert _try_lock(warehouse) == 0  # and let the lock go
