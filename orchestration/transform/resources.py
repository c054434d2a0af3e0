"""The dbt CLI resource of the transform domain (the project itself: orchestration.shared.dbt)."""

from __future__ import annotations

from dagster_dbt import DbtCliResource

from orchestration.shared.dbt import DBT_PROJECT_DIR, dbt_executable, dbt_project

dbt_resource = DbtCliResource(
    project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
)
