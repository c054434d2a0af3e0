"""dbt project and CLI resource of the transform domain.

The manifest is never committed: it is built with `dbt parse` when the definitions load and
it is missing or older than a file of the project (a fresh clone, an edited model or YAML);
under `dagster dev` it is re-parsed on every reload.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from cdp.settings import PROJECT_ROOT, disable_telemetry

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

disable_telemetry()


def dbt_executable() -> str:
    """The `dbt` installed next to this interpreter, so it works without an activated venv."""
    sibling = Path(sys.executable).parent / "dbt"
    return str(sibling) if sibling.exists() else shutil.which("dbt") or "dbt"


SOURCE_FOLDERS = ("models", "macros", "tests", "seeds", "snapshots", "plugins")


def _manifest_is_stale(manifest: Path, project_dir: Path) -> bool:
    """Missing, or older than a model, test, macro or config file of the project."""
    if not manifest.exists():
        return True
    files = [*project_dir.glob("*.yml")]
    for folder in SOURCE_FOLDERS:
        files += [
            p for p in (project_dir / folder).rglob("*") if p.is_file() and p.suffix != ".pyc"
        ]
    built = manifest.stat().st_mtime
    return any(path.stat().st_mtime > built for path in files)


def build_dbt_project(project_dir: Path = DBT_PROJECT_DIR) -> DbtProject:
    """The dbt project, with a manifest ready to load (parsed now if missing)."""
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir, target="dev")
    target = project.manifest_path.parent
    target.mkdir(parents=True, exist_ok=True)
    # Processes loading the definitions at once (pytest-xdist workers, a sensor beside the UI)
    # must not read a manifest another one is still writing: check and parse under a lock.
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _manifest_is_stale(project.manifest_path, project_dir) or os.getenv(
            "DAGSTER_IS_DEV_CLI"
        ):
            _parse(project_dir, target)
    return project


def _parse(project_dir: Path, target: Path) -> None:
    """`dbt parse` in-process: no dependency on a `dbt` executable on PATH."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [
            "parse",
            "--quiet",
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
            "--target-path",
            str(target),
        ]
    )
    if not result.success:
        raise RuntimeError(f"dbt parse failed in {project_dir}: {result.exception}")


dbt_project = build_dbt_project()


dbt_resource = DbtCliResource(
    project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
)
