"""Activation's view of the marts is the marts' dbt contracts: nothing restated in Python.

These fail when a mart gains a column that activation's contract does not see (a column added
to customer_360 but not to customer_profiles, or a YAML that disagrees with dbt's manifest).
"""

from __future__ import annotations

import json
import re

import duckdb
import pytest
from cdp_demo.fakes.marts import create_contract_marts

from activation.contract import (
    CUSTOMER_360,
    CUSTOMER_CONSENT,
    CUSTOMER_PROFILES,
    base_sql,
    contract_columns,
    create_contract_tables,
    relation_columns,
)
from cdp.config import ConfigError
from cdp.dbt_contract import model_columns, source_columns


@pytest.fixture(scope="module")
def manifest() -> dict:
    from orchestration.shared.dbt import dbt_project

    return json.loads(dbt_project.manifest_path.read_text())


def _manifest_columns(manifest: dict, kind: str, name: str) -> dict[str, str]:
    (node,) = [
        n
        for n in [*manifest["nodes"].values(), *manifest["sources"].values()]
        if n["resource_type"] == kind and n["name"] == name
    ]
    return {c["name"]: c["data_type"] for c in node["columns"].values()}


def test_contract_is_the_manifest(manifest: dict) -> None:
    columns = contract_columns()
    for relation in (CUSTOMER_360, CUSTOMER_PROFILES, CUSTOMER_CONSENT):
        name = relation.split(".")[1]
        assert columns[relation] == _manifest_columns(manifest, "model", name), relation
    assert columns["ml.churn_scores"] == _manifest_columns(manifest, "source", "churn_scores")
    # the *_source columns the hand-written contract had lost are there
    assert {"name_source", "email_source", "address_source"} <= set(columns[CUSTOMER_360])


def test_customer_profiles_sees_every_customer_360_column(manifest: dict) -> None:
    """A column added to customer_360 (its SQL and YAML) and not to customer_profiles' contract
    fails here twice: the prefix check, and the compiled model (customer_360.* plus the
    scores, over tables made from the contracts) having a column the contract lacks."""
    c360 = list(_manifest_columns(manifest, "model", "customer_360"))
    profiles = list(_manifest_columns(manifest, "model", "customer_profiles"))
    assert profiles[: len(c360)] == c360, "customer_profiles must list customer_360's columns"
    # what activation exposes: the mart's columns, in its order
    con = duckdb.connect(":memory:")
    create_contract_marts(con)
    assert relation_columns(con, CUSTOMER_PROFILES) == profiles


def test_before_ml_ran_customer_360_stands_in_with_null_scores() -> None:
    con = duckdb.connect(":memory:")
    create_contract_tables(con)
    con.execute(f"DROP TABLE {CUSTOMER_PROFILES}")
    con.execute(f"INSERT INTO {CUSTOMER_360} (person_id) VALUES ('P1')")
    frame = con.execute(base_sql(con)).df()
    assert list(frame.columns) == list(model_columns("customer_profiles"))
    assert frame["churn_probability"].isna().all() and frame["lead_score"].isna().all()
    con.execute(f"DROP TABLE {CUSTOMER_360}")
    with pytest.raises(LookupError, match="customer_360"):
        base_sql(con)


def test_an_undeclared_model_or_type_is_a_config_error(tmp_path) -> None:
    (tmp_path / "_m.yml").write_text(
        "version: 2\nmodels:\n  - name: m\n    columns:\n      - {name: a}\n"
    )
    with pytest.raises(
        ConfigError, match=re.escape("_m.yml: model m: column 'a' has no data_type")
    ):
        model_columns("m", tmp_path)
    with pytest.raises(ConfigError, match="no dbt model named 'nope'"):
        model_columns("nope", tmp_path)
    with pytest.raises(ConfigError, match=re.escape("no dbt source table ml.nope")):
        source_columns("ml", "nope", tmp_path)
