"""The dbt CLI resource of the transform domain (the project itself: orchestration.shared.dbt)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from importlib.metadata import version as installed_version

from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.shared.dbt import DBT_PROJECT_DIR, dbt_executable, dbt_project


class CdpDbtCliResource(DbtCliResource):
    """dagster-dbt's CLI resource without two things it does before every `dbt build` that this
    project does not use: run `dbt --version` (a whole dbt start, 4.6 s on the bench machine)
    to tell dbt Core from the Fusion engine, and build an in-process dbt adapter (2.9 s: the
    profile, the project and every macro) that only its `fetch_row_counts` and
    `fetch_column_metadata` read (`dbt_models` counts rows itself, after dbt has let go of the
    warehouse). The dbt it starts is the dbt-core of this environment (`cdp-dbt` execs the
    `dbt` next to this interpreter), so the installed package's version is its version.
    Private methods of dagster-dbt 0.29.27 (pinned); tests/orchestration/test_dbt_child.py
    fails if a dbt step starts `dbt --version` again.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


dbt_resource = CdpDbtCliResource(
    project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
)
