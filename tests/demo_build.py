"""One `cdp demo` run shared by every test that needs a fully built demo warehouse.

A demo run (generate, ingest, dbt, identity, ML, syncs, privacy requests, the unseen-noise
retailer) is the most expensive thing the suite does; the demo, prediction and app tests used to
run one each. `build` runs it once per pytest session: under xdist the workers share one build
folder next to their own temporary folders, and a file lock makes the first worker that asks
build it while any other waits. The build is read-only for its users: a test that writes (a
re-run, app accounts) works on its own copy (`DemoBuild.copy_to`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cdp_demo.generator.history import DEFAULT_END_DATE
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]
# large enough for the prediction models to have something to beat their baselines on
CUSTOMERS, SEED, UNSEEN_CUSTOMERS = 2000, 42, 400
SALT = "demo-test-salt-0123456789"
PATH_VARIABLES = ("CDP_LANDING_DIR", "CDP_GROUND_TRUTH_DIR", "CDP_WAREHOUSE", "CDP_MODELS_DIR")


@dataclass(frozen=True)
class DemoBuild:
    """The data folder of the shared demo run, what the command printed and its exit code."""

    data_dir: Path
    output: str
    returncode: int

    def copy_to(self, dest: Path) -> Path:
        """A private copy of the data folder (the serving symlink stays relative, so it follows)."""
        shutil.copytree(self.data_dir, dest, symlinks=True, dirs_exist_ok=True)
        return dest


def variables(data_dir: Path) -> dict[str, str]:
    """What a CDP process working in `data_dir` with the demo's salt sets (PATH_VARIABLES unset)."""
    return {
        "CDP_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
        "CDP_PRIVACY_SALT": SALT,
    }


def use(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    """Point this test's CDP settings at `data_dir` (a build, or a copy of one)."""
    for name, value in variables(data_dir).items():
        monkeypatch.setenv(name, value)
    for name in PATH_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def environment(data_dir: Path) -> dict[str, str]:
    """The environment of a CDP child process working in `data_dir`."""
    env = {**os.environ, **variables(data_dir)}
    for name in PATH_VARIABLES:
        env.pop(name, None)
    return env


def build(shared_root: Path) -> DemoBuild:
    """The demo run in `shared_root/demo_build`, made by the first caller of the session."""
    folder = shared_root / "demo_build"
    result = folder / "result.json"
    with FileLock(str(shared_root / "demo_build.lock")):
        if not result.exists():
            folder.mkdir(exist_ok=True)
            data_dir = folder / "data"
            args = (
                f"--customers {CUSTOMERS} --seed {SEED} --unseen-customers {UNSEEN_CUSTOMERS} "
                f"--end-date {DEFAULT_END_DATE}"  # the same data on any day the tests run
            )
            run = subprocess.run(
                [sys.executable, "-m", "cli.main", "demo", *args.split()],
                env=environment(data_dir),
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            output = run.stdout + ("\n" + run.stderr if run.returncode else "")
            result.write_text(
                json.dumps({"returncode": run.returncode, "output": output, "data": str(data_dir)})
            )
    saved = json.loads(result.read_text())
    return DemoBuild(Path(saved["data"]), saved["output"], saved["returncode"])
