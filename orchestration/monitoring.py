"""Dead runs end FAILED: a run whose process is gone is not left STARTED forever.

Dagster's run monitoring (the daemon, `run_monitoring` in dagster.yaml) asks the run launcher
whether a STARTED run's worker is alive; the default launcher cannot say, so a run worker killed
with `kill -9` (OOM killer, a reboot) stayed STARTED. `CdpRunLauncher` is the default launcher
plus that answer, read from the process id each run records:

- runs launched by the daemon or the UI: the run worker's "Started process for run (pid: N)"
  engine event;
- runs executed in-process by `cdp run` / `cdp demo`: the tags `cdp/pid`, `cdp/pid_start`
  (the process start time, so a recycled pid is not taken for the run) and `cdp/host`.

`fail_dead_runs` applies the same test without the daemon; `cdp run` calls it before starting.
"""

from __future__ import annotations

import os
import socket

import dagster as dg
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus, RunsFilter

PID_TAG = "cdp/pid"
PID_START_TAG = "cdp/pid_start"
HOST_TAG = "cdp/host"


def process_start_time(pid: int) -> str | None:
    """Clock ticks since boot at which `pid` started (field 22 of /proc/PID/stat), None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    if fields[0] == b"Z":  # a zombie has finished: it is not running the run any more
        return None
    return fields[19].decode()


def process_tags() -> dict[str, str]:
    """Tags identifying this process as the worker of an in-process run."""
    pid = os.getpid()
    return {
        PID_TAG: str(pid),
        PID_START_TAG: process_start_time(pid) or "",
        HOST_TAG: socket.gethostname(),
    }


def _worker_pid(instance: dg.DagsterInstance, run: DagsterRun) -> tuple[int, str] | None:
    if PID_TAG in run.tags:
        return int(run.tags[PID_TAG]), run.tags.get(PID_START_TAG, "")
    records = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
    for record in records:
        event = record.dagster_event
        data = event.engine_event_data if event else None
        pid = (data.metadata or {}).get("pid") if data else None
        if pid is not None and "Started process for run" in (record.message or ""):
            return int(getattr(pid, "value", pid)), ""
    return None


def worker_status(instance: dg.DagsterInstance, run: DagsterRun) -> CheckRunHealthResult:
    """RUNNING while the run's process lives; FAILED once it is gone; RUNNING if unknown."""
    if run.tags.get(HOST_TAG, socket.gethostname()) != socket.gethostname():
        return CheckRunHealthResult(WorkerStatus.RUNNING, "run worker on another host: not judged")
    found = _worker_pid(instance, run)
    if found is None:  # the worker has not reported its pid yet: nothing to judge
        return CheckRunHealthResult(WorkerStatus.RUNNING, "no pid recorded yet")
    pid, started = found
    now = process_start_time(pid)
    if now is None or (started and now != started):
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker process {pid} is gone")
    return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker process {pid} is alive")


class CdpRunLauncher(DefaultRunLauncher):
    """The default launcher, able to tell run monitoring whether a run's worker is alive."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        return worker_status(self._instance, run)


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark FAILED every STARTED run of this host whose process is gone; their ids."""
    failed = []
    for record in instance.get_run_records(RunsFilter(statuses=[DagsterRunStatus.STARTED])):
        run = record.dagster_run
        if run.tags.get(HOST_TAG, socket.gethostname()) != socket.gethostname():
            continue
        health = worker_status(instance, run)
        if health.status == WorkerStatus.FAILED:
            instance.report_run_failed(run, f"{health.msg}: the run was killed; marked failed")
            failed.append(run.run_id)
    return failed
