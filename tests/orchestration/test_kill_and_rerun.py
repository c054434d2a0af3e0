"""`kill -9` of `cdp run` during ingestion, a dbt build and identity resolution, then a rerun:
every table equals a clean run's, and the killed Dagster runs end FAILED, not STARTED.

The kill reaches the whole process group (dbt runs as a child process), as a crash, an OOM kill
of the container or a reboot does; or `cdp run` alone, as an operator's `kill -9` does, and then
no dbt child may outlive it (orchestration/shared/dbt_child.py). The chained case chains the crashes (each rerun is killed at
the next point) before the final rerun; the many-points case kills at many points, one rerun
each. Both are opt-in (`-m slow`); the default run keeps the fast fault tests (dbt dying with
its parent, file drops, syncs).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from tests.orchestration.crash import (
    KillPoint,
    differences,
    kill_at,
    run_status,
    run_to_end,
    snapshot,
)

CUSTOMERS, SEED = 300, 5


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    """A small generated retailer (landing files and ground truth), made once."""
    from cdp_demo.generator import generate

    out = tmp_path_factory.mktemp("generated")
    generate(customers=CUSTOMERS, seed=SEED, out=out)
    return out


@pytest.fixture(scope="module")
def clean(landing, tmp_path_factory) -> dict:
    """The warehouse of one uninterrupted `cdp run`, table by table."""
    data_dir = _data_dir(landing, tmp_path_factory.mktemp("clean"))
    code, log = run_to_end(data_dir, "clean.log")
    assert code == 0, log
    tables = snapshot(data_dir / "warehouse.duckdb")
    assert tables["marts.customer_360"][0] > 0 and tables["identity.identity_graph"][0] > 0
    return tables


def _data_dir(landing: Path, root: Path) -> Path:
    data_dir = root / "data"
    for folder in ("landing", "ground_truth"):
        shutil.copytree(landing / folder, data_dir / folder)
    return data_dir


def _crash_then_rerun(data_dir: Path, points: list[KillPoint]) -> tuple[list[str], str]:
    killed: list[str] = []
    for number, point in enumerate(points):
        killed += kill_at(data_dir, point, f"killed_{number}.log")
    assert killed, "the kills left no run STARTED: nothing was interrupted"
    code, log = run_to_end(data_dir, "rerun.log")
    assert code == 0, log
    # each run after a kill reports the runs it found dead
    later = "".join((data_dir / f"killed_{n}.log").read_text() for n in range(1, len(points)))
    return killed, later + log


def _assert_recovered(data_dir: Path, killed: list[str], log: str, clean: dict) -> None:
    for run_id in killed:
        assert f"run {run_id} was interrupted" in log
        assert run_status(data_dir, run_id) == dg.DagsterRunStatus.FAILURE
    assert differences(snapshot(data_dir / "warehouse.duckdb"), clean) == []


@pytest.mark.slow  # about 6 minutes on 2 cores: over the default run's budget
def test_crashes_in_ingestion_dbt_and_identity_then_rerun_equal_a_clean_run(
    landing, clean, tmp_path
):
    data_dir = _data_dir(landing, tmp_path)
    points = [
        KillPoint("ingest_shop", 0.5),  # dlt extracting or loading the shop's files
        # dbt building staging and intermediate models; `cdp run` alone is killed, its dbt
        # child must die with it (else it holds DuckDB's lock and the rerun fails)
        KillPoint("dbt_models", 8.0, parent_only=True),
        KillPoint("identity__identity_graph", 0.5),  # resolving or writing the graph
    ]
    killed, log = _crash_then_rerun(data_dir, points)
    _assert_recovered(data_dir, killed, log, clean)


SLOW_POINTS = [
    KillPoint("ingest_catalog", 0.0),
    KillPoint("ingest_pos", 0.3),
    KillPoint("ingest_shop", 1.5),
    KillPoint("ingest_web", 0.8),
    KillPoint("quality__quarantine_rows", 0.2),
    KillPoint("dbt_models", 2.0),
    KillPoint("dbt_models", 20.0),
    KillPoint("identity__identity_graph", 0.0),
    KillPoint("identity__identity_graph", 1.0),
    KillPoint("dbt_models_2", 3.0),
    KillPoint("dbt_models_2", 15.0),
    # `cdp run` alone (an operator's kill -9, the OOM killer): its dbt child dies with it
    KillPoint("dbt_models", 6.0, parent_only=True),
    KillPoint("dbt_models_2", 6.0, parent_only=True),
]


@pytest.mark.slow
@pytest.mark.parametrize("point", SLOW_POINTS, ids=str)
def test_crash_at_many_points_then_rerun_equals_a_clean_run(landing, clean, tmp_path, point):
    data_dir = _data_dir(landing, tmp_path)
    killed, log = _crash_then_rerun(data_dir, [point])
    _assert_recovered(data_dir, killed, log, clean)
