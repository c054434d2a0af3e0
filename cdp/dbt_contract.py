"""The columns a dbt model or source declares in its YAML (the mart's contract), read by every
layer that needs them instead of restating them in Python.

A mart's YAML (`dbt_project/models/marts/_<mart>.yml`) is the one declaration of its columns and
their types: dbt enforces it when it builds the mart (`contract: {enforced: true}`), activation
compiles segment conditions and sync SQL against it before the marts exist, and the tests build
contract-shaped tables from it. The YAML is read directly, not the manifest, so reading it
needs no `dbt parse` (the manifest holds the same columns: tests/activation checks both agree).
"""

from __future__ import annotations

import functools
from pathlib import Path

from cdp.config import ConfigError, read_yaml
from cdp.settings import PROJECT_ROOT

MODELS_DIR = PROJECT_ROOT / "dbt_project" / "models"


@functools.cache
def _declarations(models_dir: Path) -> tuple[dict[str, dict], dict[tuple[str, str], dict]]:
    """Every model and every source table declared in the YAML files under `models_dir`."""
    models: dict[str, dict] = {}
    sources: dict[tuple[str, str], dict] = {}
    for path in sorted(models_dir.rglob("*.yml")):
        doc = read_yaml(path)
        for model in doc.get("models") or []:
            models[model["name"]] = {**model, "_path": path}
        for source in doc.get("sources") or []:
            for table in source.get("tables") or []:
                sources[(source["name"], table["name"])] = {**table, "_path": path}
    return models, sources


def _columns(node: dict, what: str) -> dict[str, str]:
    columns = {}
    for column in node.get("columns") or []:
        if not column.get("data_type"):
            raise ConfigError(
                f"{node['_path']}: {what}: column {column['name']!r} has no data_type"
            )
        columns[column["name"]] = str(column["data_type"])
    if not columns:
        raise ConfigError(f"{node['_path']}: {what}: declares no columns")
    return columns


def model_columns(name: str, models_dir: Path = MODELS_DIR) -> dict[str, str]:
    """`{column: data_type}` of the dbt model `name`, in the order its contract declares."""
    models, _ = _declarations(models_dir)
    if name not in models:
        raise ConfigError(f"{models_dir}: no dbt model named {name!r} is declared in a YAML file")
    return _columns(models[name], f"model {name}")


def model_schema(name: str, models_dir: Path = MODELS_DIR) -> str:
    """The schema the model is built in (its `config.schema`)."""
    models, _ = _declarations(models_dir)
    return models[name]["config"]["schema"]


def source_columns(source: str, table: str, models_dir: Path = MODELS_DIR) -> dict[str, str]:
    """`{column: data_type}` of the source table `source.table` (e.g. `ml.churn_scores`)."""
    _, sources = _declarations(models_dir)
    if (source, table) not in sources:
        raise ConfigError(f"{models_dir}: no dbt source table {source}.{table} is declared")
    return _columns(sources[(source, table)], f"source {source}.{table}")
