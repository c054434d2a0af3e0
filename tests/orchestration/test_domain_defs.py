"""Each orchestration domain loads on its own, and its keys come from the declarations.

`orchestration/<domain>/__init__.py` exposes `defs` with the resources it uses bound;
`orchestration/definitions.py` only merges them. A domain never imports another domain: the
keys it needs come from the dbt manifest (`orchestration.shared.dbt`), the dlt sources
(`orchestration.shared.keys`) or `orchestration.shared.keys`' declarations.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import dagster as dg
import pytest
from dagster_dbt import get_asset_key_for_model

DOMAINS = ("ingestion", "transform", "quality", "ml", "activation")
ORCHESTRATION = Path(__file__).resolve().parents[2] / "orchestration"


@pytest.mark.parametrize("domain", DOMAINS)
def test_domain_defs_load_alone(domain: str) -> None:
    defs = importlib.import_module(f"orchestration.{domain}").defs
    dg.Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()
    assert repository.asset_graph.get_all_asset_keys(), domain
    if domain != "ingestion":  # the dlt assets take `dlt` and `warehouse`, the rest `warehouse`
        assert "warehouse" in repository.get_top_level_resources(), domain


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("domain", DOMAINS)
def test_domain_imports_no_other_domain(domain: str) -> None:
    others = {f"orchestration.{d}" for d in DOMAINS if d != domain}
    found = {
        (path.relative_to(ORCHESTRATION).as_posix(), name)
        for path in (ORCHESTRATION / domain).rglob("*.py")
        for name in _imported_modules(path)
        if any(name == o or name.startswith(o + ".") for o in others)
    }
    assert not found, found


def test_merged_location_is_the_union_of_the_domains() -> None:
    from orchestration.definitions import defs

    merged = defs.resolve_asset_graph()
    for domain in DOMAINS:
        alone = importlib.import_module(f"orchestration.{domain}").defs
        own = {k for a in alone.assets or [] for k in getattr(a, "keys", ())}
        assert own <= merged.get_all_asset_keys(), domain


def test_dbt_model_key_is_the_key_dagster_dbt_gives_every_model() -> None:
    from orchestration.shared.dbt import dbt_asset_keys, dbt_model_key
    from orchestration.transform.assets import dbt_models

    names = {key.path[-1] for key in dbt_asset_keys()}
    assert {"customer_360", "customer_consent", "orders", "stg_shop__customers"} <= names
    for name in names:
        assert dbt_model_key(name) == get_asset_key_for_model([dbt_models], name), name
    assert dbt_asset_keys() == set(dbt_models.keys)
    with pytest.raises(KeyError, match="no_such_mart"):
        dbt_model_key("no_such_mart")


def test_consumers_read_mart_keys_from_the_manifest() -> None:
    from orchestration.activation.assets import CUSTOMER_PROFILES, segment_membership
    from orchestration.ml.inputs import INPUT_DEPS
    from orchestration.shared.dbt import dbt_model_key

    assert (
        CUSTOMER_PROFILES
        == dbt_model_key("customer_profiles")
        == dg.AssetKey(["marts", "customer_profiles"])
    )
    assert dbt_model_key("orders") in INPUT_DEPS
    assert segment_membership.asset_deps[segment_membership.key] == {CUSTOMER_PROFILES}


def test_quality_targets_what_ingestion_and_transform_declare() -> None:
    from orchestration.ingestion import defs as ingestion_defs
    from orchestration.quality import present_asset_keys
    from orchestration.transform import defs as transform_defs

    declared = {
        key
        for defs in (ingestion_defs, transform_defs)
        for assets in defs.assets or []
        for key in assets.keys
    }
    present = present_asset_keys()
    assert present <= declared
    # every raw table and dbt model; only the Python asset identity_graph is not checked
    assert declared - present == {dg.AssetKey(["identity", "identity_graph"])}


def test_raw_table_descriptions_come_from_each_source_package() -> None:
    from orchestration.ingestion import defs

    specs = {spec.key: spec for spec in defs.resolve_all_asset_specs()}
    receipts = specs[dg.AssetKey(["raw_pos", "receipts"])]
    assert receipts.description and receipts.description.startswith("Till receipts")
    assert specs[dg.AssetKey(["raw_shop", "orders"])].description.startswith("Web orders")
    assert all(spec.description for spec in specs.values())


def test_sync_sql_lineage_reads_relations_not_text() -> None:
    from orchestration.activation.assets import sql_relations

    sql = """
        -- marts.in_a_comment is not read
        WITH marts_view AS (SELECT * FROM MARTS.Customer_360)
        SELECT v.*, 'ml.in_a_string' AS note
        FROM marts_view v
        JOIN ml.churn_scores s USING (person_id)
        WHERE person_id IN (SELECT person_id FROM marts.customer_consent)
          AND person_id NOT IN (SELECT person_id FROM staging.stg_shop__customers)
    """
    assert set(sql_relations("s", sql)) == {
        dg.AssetKey(["marts", "customer_360"]),
        dg.AssetKey(["ml", "churn_scores"]),
        dg.AssetKey(["marts", "customer_consent"]),
    }
    assert sql_relations("broken", "SELECT FROM WHERE (") == []
