"""Helpers of the crash tests: start `cdp run` in its own process group, kill it with SIGKILL
when a given step has been running for a while, and snapshot the warehouse table by table."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
from cdp_demo.demo import data_tables

# Everything but the churn model (seconds of training, its own versioned artefacts) and what
# reads its scores (marts.customer_profiles), and activation (segments and syncs keep history
# stamped with the run's clock).
SELECTION = "not group:ml+ and not group:activation"
COMPARED_SCHEMAS = ("staging", "intermediate", "identity", "marts", "quality")
# Columns whose value is the run's own identity or clock, not data: dlt's load ids and random row
# ids, and the time a row was written.
RUN_COLUMNS = {"_dlt_load_id", "_dlt_id", "_dlt_parent_id", "_dlt_root_id"}
RUN_TIME_COLUMNS = {"resolved_at", "quarantined_at", "detected_at", "validated_at", "loaded_at"}
# The history of every check evaluation: one more run appends more rows, by design.
# One row per run of their step: a run killed after the step and rerun adds one (the fitted
# identity model of identity.match_models is the same row twice, seen in the slow test).
HISTORY_TABLES = {"quality.validation_results", "identity.match_models", "identity.person_splits"}
# Which edges of a group of records sharing a key are kept depends on the order rows are read
# (two clean runs differ); the persons they make (identity.identity_graph) do not: rows only.
ORDER_DEPENDENT_TABLES = {"identity.identity_edges"}


@dataclass(frozen=True)
class KillPoint:
    """Kill when step `step` (a step key or its prefix) has run for `after` seconds: the whole
    process group (a crash of the machine or container), or with `parent_only` the `cdp run`
    process alone (an operator's `kill -9`, the OOM killer), whose dbt child must die with it."""

    step: str
    after: float
    parent_only: bool = False

    def __str__(self) -> str:
        return f"{self.step}+{self.after}s" + ("-parent" if self.parent_only else "")


def env_for(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDP_")}
    env.update(
        CDP_DATA_DIR=str(data_dir),
        DAGSTER_HOME=str(data_dir / "dagster_home"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        RUNTIME__DLTHUB_TELEMETRY="false",
        DO_NOT_TRACK="1",
    )
    return env


def start_run(data_dir: Path, log_name: str) -> subprocess.Popen:
    """`cdp run` on the data folder, in a new session so the kill reaches dbt's child too."""
    with open(data_dir / log_name, "w") as log:  # the child keeps its own copy of the handle
        return subprocess.Popen(
            [sys.executable, "-m", "cli.main", "run", "--select", SELECTION],
            env=env_for(data_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def run_to_end(data_dir: Path, log_name: str) -> tuple[int, str]:
    process = start_run(data_dir, log_name)
    code = process.wait()
    return code, (data_dir / log_name).read_text()


def _instance(data_dir: Path) -> dg.DagsterInstance:
    from dagster._core.instance.ref import InstanceRef

    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(data_dir / "dagster_home")))


def _step_started_at(instance: dg.DagsterInstance, step: str) -> float | None:
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START):
            key = record.dagster_event.step_key if record.dagster_event else ""
            if key == step or (key.startswith(step) and step.endswith("_")):
                return record.timestamp
    return None


def kill_at(data_dir: Path, point: KillPoint, log_name: str) -> list[str]:
    """Start `cdp run`, SIGKILL its whole process group at `point`; the runs it had started."""
    (data_dir / "dagster_home").mkdir(parents=True, exist_ok=True)
    instance = _instance(data_dir)
    process = start_run(data_dir, log_name)
    try:
        _wait_for(process, instance, point, data_dir / log_name)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            if not point.parent_only:
                os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    if point.parent_only:
        survivors = _wait_group_gone(process.pid)
        if survivors:
            os.killpg(process.pid, signal.SIGKILL)
        assert not survivors, f"children outlived the killed cdp run: {survivors}"
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    return [run.run_id for run in runs]


def _group_members(pgid: int) -> list[str]:
    """Command lines of the live (not zombie) processes of a process group."""
    members = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if entry.name.isdigit() and int(fields[2]) == pgid and fields[0] != "Z":
                members.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue
    return members


def _wait_group_gone(pgid: int, wait: float = 30.0) -> list[str]:
    deadline = time.monotonic() + wait
    while (members := _group_members(pgid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return members


def _wait_for(process: subprocess.Popen, instance, point: KillPoint, log: Path) -> None:
    started = None
    while started is None:
        if process.poll() is not None:
            raise AssertionError(
                f"cdp run ended (code {process.returncode}) before {point}:\n{log.read_text()}"
            )
        started = _step_started_at(instance, point.step)
        time.sleep(0.1)
    while time.time() < started + point.after and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, f"cdp run ended before {point}: choose an earlier point"


def run_status(data_dir: Path, run_id: str) -> dg.DagsterRunStatus:
    run = _instance(data_dir).get_run_by_id(run_id)
    assert run is not None
    return run.status


def _compared(column: str) -> bool:
    return column not in RUN_COLUMNS and column not in RUN_TIME_COLUMNS


def snapshot(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Per table: (rows, order-independent hash of every row over its data columns)."""
    out: dict[str, tuple[int, int]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for schema, table in data_tables(con, COMPARED_SCHEMAS):
            name = f"{schema}.{table}"
            if name in HISTORY_TABLES:
                continue
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from duckdb_columns() where schema_name = ? and "
                    "table_name = ? order by column_index",
                    [schema, table],
                ).fetchall()
                if _compared(name)
            ]
            row = ", ".join(f'"{c}"' for c in columns)
            rows, digest = con.execute(
                f'select count(*), coalesce(sum(hash({row})::hugeint), 0) from "{schema}"."{table}"'
            ).fetchone()
            out[name] = (int(rows), 0 if name in ORDER_DEPENDENT_TABLES else int(digest))
    return out


def differences(actual: dict, expected: dict) -> list[str]:
    names = sorted(set(actual) | set(expected))
    return [
        f"{name}: {actual.get(name)} != clean {expected.get(name)}"
        for name in names
        if actual.get(name) != expected.get(name)
    ]
