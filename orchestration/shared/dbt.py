"""The dbt project, its translator to Dagster asset keys, and the key of a model by its name.

Every domain that reads a dbt model (ml, activation, quality, transform itself) asks
`dbt_model_key(name)` instead of spelling the key: the key comes from the manifest through
the translator the dbt assets use, so renaming a mart's schema or adding one changes no Python.

The manifest is never committed: it is built with `dbt parse` when the definitions load and
it is missing or older than a file of the project (a fresh clone, an edited model or YAML);
under `dagster dev` it is re-parsed on every reload.
"""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from cdp.settings import PROJECT_ROOT, disable_telemetry, get_settings
from orchestration.automation import derived_condition
from orchestration.shared.dbt_child import plain_dbt

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DBT_TARGET = "dev"  # of profiles.yml; the DbtCliResource passes it to every dbt command
logger = logging.getLogger(__name__)

disable_telemetry()


def dbt_executable() -> str:
    """dbt as the runs start it: `cdp-dbt` (orchestration/shared/dbt_child.py), installed next
    to this interpreter, which makes dbt die with the run that started it; plain `dbt` where the
    project is not installed (a warning says a killed run may then leave dbt running)."""
    guard = Path(sys.executable).parent / "cdp-dbt"
    if guard.exists():
        return str(guard)
    logger.warning("cdp-dbt not installed (make install): a killed run may leave dbt running")
    return plain_dbt()


SOURCE_FOLDERS = ("models", "macros", "tests", "seeds", "snapshots", "plugins")
# The `--target` and `--vars` of the last parse. dbt reuses a partial parse only for the target
# and vars it was made with; dagster-dbt seeds a dbt step's target folder with this one when the
# folder has none (the first step on a warehouse: `run_target_path`), so a parse for this
# process's warehouse spares that step a full parse (about 6 s of CPU).
PARSE_VARS_FILE = ".parse_vars.json"


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
    """The dbt project, with a manifest ready to load (parsed now if missing, older than a
    file of the project, or parsed with another target or `--vars` than this process's runs
    pass)."""
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir, target=DBT_TARGET)
    target = project.manifest_path.parent
    target.mkdir(parents=True, exist_ok=True)
    # the target and `--vars` the runs pass: dbt's partial parse compares both
    parse_args = ["--target", DBT_TARGET, *warehouse_vars(str(get_settings().warehouse))]
    stamp = target / PARSE_VARS_FILE
    # Processes loading the definitions at once (pytest-xdist workers, a sensor beside the UI)
    # must not read a manifest another one is still writing: check and parse under a lock.
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (
            _manifest_is_stale(project.manifest_path, project_dir)
            or not stamp.exists()
            or stamp.read_text() != json.dumps(parse_args)
            or os.getenv("DAGSTER_IS_DEV_CLI")
        ):
            _parse(project_dir, target, parse_args)
            stamp.write_text(json.dumps(parse_args))
    return project


def _parse(project_dir: Path, target: Path, parse_args: list[str]) -> None:
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
            *parse_args,
        ]
    )
    if not result.success:
        raise RuntimeError(f"dbt parse failed in {project_dir}: {result.exception}")


def run_target_path(warehouse: str) -> Path:
    """The target folder of the dbt commands that build `warehouse`: one per warehouse, beside
    it (`<stem>.dbt_target`, private like the rest of the data folder), used by every step.

    dagster-dbt's default, a new folder per step under the project's target (about 5 MB of
    manifest and compiled SQL each, four steps a run), grew without end, and each started from
    the project's partial parse, made for the warehouse of the process that loaded the
    definitions: a run on another warehouse (a test's, an instance's resource) parsed the
    whole project in every step. dbt keeps its partial parse in this folder, so only the first
    step on a warehouse parses (dbt re-checks the project's files itself). Runs that write one
    warehouse hold its lock, so two dbt commands never share the folder.
    """
    path = Path(warehouse)
    return path.with_name(f"{path.stem}.dbt_target")


def warehouse_vars(warehouse: str) -> list[str]:
    """`--vars` giving dbt the warehouse path and the models built at once (profiles.yml reads
    `var('cdp_warehouse')` and `var('cdp_threads')`: the machine's cores, cdp.settings).

    Passed on the command line rather than through the process environment, so a run never
    changes `os.environ` of the process it shares with other steps and sensors.
    """
    threads = get_settings().duckdb_threads
    return ["--vars", json.dumps({"cdp_warehouse": warehouse, "cdp_threads": threads})]


dbt_project = build_dbt_project()

LAYERS = ("staging", "intermediate", "marts")
ASSET_RESOURCE_TYPES = ("model", "seed", "snapshot")


class CdpDbtTranslator(DagsterDbtTranslator):
    """Models keyed `[schema, model_name]` and grouped by layer; sources keyed by their meta."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ASSET_RESOURCE_TYPES:
            schema = (
                dbt_resource_props.get("config", {}).get("schema") or dbt_resource_props["schema"]
            )
            return dg.AssetKey([schema, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        schema = dbt_resource_props.get("config", {}).get("schema") or dbt_resource_props.get(
            "schema"
        )
        return schema if schema in LAYERS else None

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        return derived_condition()


translator = CdpDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@functools.cache
def _asset_keys_by_name() -> dict[str, dg.AssetKey]:
    """Asset key of every dbt model, seed and snapshot of the manifest, by node name."""
    manifest = json.loads(dbt_project.manifest_path.read_text())
    return {
        node["name"]: translator.get_asset_spec(manifest, unique_id, dbt_project).key
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ASSET_RESOURCE_TYPES
    }


def dbt_model_key(name: str) -> dg.AssetKey:
    """The Dagster asset key of the dbt model (or seed, snapshot) `name`, from the manifest."""
    keys = _asset_keys_by_name()
    if name not in keys:
        raise KeyError(
            f"no dbt model, seed or snapshot named {name!r} in {dbt_project.manifest_path}"
        )
    return keys[name]


def dbt_asset_keys() -> set[dg.AssetKey]:
    """The keys of every asset the dbt project defines (what the transform domain declares)."""
    return set(_asset_keys_by_name().values())
