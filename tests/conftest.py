"""Test-wide settings: every test writes under its own temporary data folder."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cdp.settings import disable_telemetry
from tests.demo_build import DemoBuild, build

disable_telemetry()


# Files that take a minute or more, put at the head of the run (longest-first scheduling): with
# `--dist loadfile` one file runs on one worker, and a long file started last keeps the run going
# while the other worker has nothing left. xdist's own reordering (files with the most tests
# first, which put the one-test demo files last) is turned off below so that this order holds.
# The first builds the shared demo (`demo_build`) on one worker while the next three keep the
# other busy: a worker takes its next file when two tests of its current one are left, and one
# that reached the re-run before the build was done would wait for it (seen with the re-run
# third: the worker that ran test_transform_defs.py then waited for the build).
SCHEDULED_FIRST = (
    "app/test_app_browser.py",
    "orchestration/test_transform_defs.py",
    "dbt/test_incremental.py",
    "identity/test_identity_incremental.py",
    "demo/test_demo_rerun.py",
)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config.option, "loadscopereorder"):  # xdist loaded (`-p no:xdist` leaves it out)
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    missing = [name for name in SCHEDULED_FIRST if not (here / name).is_file()]
    if missing:
        raise pytest.UsageError(f"tests/conftest.py: SCHEDULED_FIRST names no file {missing}")
    rank = {here / name: i for i, name in enumerate(SCHEDULED_FIRST)}
    items.sort(key=lambda item: rank.get(item.path, len(rank)))  # stable: the rest as collected


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """The session's one `cdp demo` run (tests/demo_build.py), shared by the xdist workers:
    read it in place, or `copy_to` a folder of your own before writing anything."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' temporary folders sit side by side in one session root
    return build(root)


@pytest.fixture
def cdp_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every CDP path (data, warehouse, Dagster home) at a fresh temporary folder."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    monkeypatch.setenv("CDP_DATA_DIR", str(data_dir))
    for var in ("CDP_LANDING_DIR", "CDP_GROUND_TRUTH_DIR", "CDP_WAREHOUSE", "CDP_MODELS_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(data_dir / "dagster_home"))
    return data_dir


# a pipeline run as readers meet it: the writer lock and a read-write DuckDB connection held
HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import duckdb
    from cdp.settings import get_settings
    from cdp.warehouse_lock import warehouse_lock

    settings = get_settings()
    with warehouse_lock(settings.warehouse), duckdb.connect(str(settings.warehouse)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.customer_360 as select 'x' as person_id")
        Path(sys.argv[1]).write_text("held")
        while not Path(sys.argv[2]).exists():
            time.sleep(0.01)
    """
)


@pytest.fixture
def held_warehouse(tmp_path):
    """A process holding the warehouse's writer lock and a write connection until the end."""
    ready, done = tmp_path / "held", tmp_path / "release"

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(ready), str(done)],
            env=os.environ.copy(),
            cwd=Path(__file__).resolve().parents[1],
        )
        while not ready.exists():
            assert proc.poll() is None, "the holder died"
            time.sleep(0.01)
        return proc

    procs: list[subprocess.Popen] = []
    yield lambda: procs.append(start())
    done.write_text("1")
    for proc in procs:
        proc.wait(timeout=60)
