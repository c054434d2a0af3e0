"""Incremental identity resolution gives the persons of a full one, and keeps the others' ids.

A small generated retailer is loaded and staged up to the identity inputs and resolved in full
(the model estimated); a generated day of new and changed records (``cdp_demo.daily``) is
landed and staged, one record is deleted and one new record carries the account numbers of
two persons. The incremental run (the first run's state read back from its warehouse tables)
must give the same partition as a full resolution of the same records with the same fixed
model, keep the id of every person it did not touch, and record the merge.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from identity import load_config, resolve
from identity.incremental import state_from_tables, state_tables
from identity.records import read_inputs
from tests.dbt.test_marts import dbt_paths, ingest_generated

SELECT = ["--select", "+int_identity_records_unioned", "+int_identifiers_unioned"]
BRIDGE = "shop_customer:bridge-test"


def _stage(work: Path) -> None:
    """dbt up to the identity inputs, in a child process (as Dagster runs it: dbt-duckdb in
    this process would keep the warehouse open for the next load)."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "run", *SELECT, *dbt_paths(work)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _inputs(warehouse: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return read_inputs(con)


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module")
def retailer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from cdp_demo.daily import land_day

    from ingestion.pipeline import run_all

    root = tmp_path_factory.mktemp("identity_incremental")
    with pytest.MonkeyPatch.context() as mp:
        settings = ingest_generated(mp, root / "data", customers=500, seed=11)
        _stage(root)
        first = _inputs(settings.warehouse)
        land_day(settings.landing_dir, n=1, share=1 / 8, seed=4)
        assert not run_all(settings)["errors"]
        _stage(root)
        yield {"first": first, "second": _inputs(settings.warehouse)}


_EDITS = {  # a typo, a moved customer, a new phone, a corrected birth date
    "last_name": lambda v: v[:-1] + v[-1] * 2,
    "street": lambda v: "12 rue des Lilas",
    "phone": lambda v: v[:-2] + ("00" if not v.endswith("00") else "11"),
    "birth_date": lambda v: v[:-1] + ("1" if not v.endswith("1") else "2"),
}


def _partition(graph: pd.DataFrame) -> set[frozenset]:
    return {frozenset(ids) for ids in graph.groupby("person_id")["record_id"].agg(list)}


@pytest.fixture(scope="module")
def runs(retailer: dict, config) -> dict:
    records1, ids1 = retailer["first"]
    records2, ids2 = retailer["second"]
    # the sources of a small retailer send few identity records a day: a tenth of the records
    # arrive on the second day only, and one in twenty-five of the others is edited then
    draw = pd.util.hash_pandas_object(records1["record_id"], index=False).to_numpy() % 100
    later = set(records1.loc[draw < 10, "record_id"])
    ids1 = ids1[~ids1["record_id"].isin(later)]
    records1 = records1[~records1["record_id"].isin(later)]
    first = resolve(records1, ids1, config)
    graph1 = first.graph
    records2 = records2.copy()
    edit = pd.util.hash_pandas_object(records2["record_id"], index=False).to_numpy() % 100
    for k, (column, change) in enumerate(_EDITS.items()):
        records2[column] = records2[column].astype(object)
        rows = (edit >= 10 + k) & (edit < 11 + k) & records2[column].notna().to_numpy()
        records2.loc[rows, column] = records2.loc[rows, column].astype(str).map(change)
    # a deleted record: the newest of a person of three records or more
    sizes = graph1.groupby("person_id")["record_id"].transform("size")
    big = graph1[(sizes >= 3) & graph1["record_id"].isin(records2["record_id"])]
    deleted = big.sort_values("record_id")["record_id"].iloc[-1]
    records2 = records2[records2["record_id"] != deleted]
    ids2 = ids2[ids2["record_id"] != deleted]
    # a new record carrying the account numbers of two persons: they merge
    accounts = ids1[ids1["id_type"] == "shop_customer_id"].merge(graph1, on="record_id")
    accounts = accounts.drop_duplicates("person_id").sort_values("person_id")
    pair = accounts[~accounts["person_id"].isin([graph1.loc[graph1.record_id == deleted,
                                                            "person_id"].iloc[0]])].iloc[:2]  # fmt: skip
    records2 = pd.concat(
        [records2, pd.DataFrame({"record_id": [BRIDGE], "source_system": ["shop_customer"]})],
        ignore_index=True,
    )
    ids2 = pd.concat(
        [ids2, pd.DataFrame({"record_id": BRIDGE, "id_type": "shop_customer_id",
                             "id_value": pair["id_value"].to_numpy()})],
        ignore_index=True,
    )  # fmt: skip

    def state():  # read back from the tables the pipeline writes
        return state_from_tables(state_tables(first.state), first.possible_matches, config)

    incremental = resolve(records2, ids2, config, previous=graph1, prior=state())
    full = resolve(records2, ids2, config, previous=graph1, model=state().model)
    return {
        "first": first,
        "incremental": incremental,
        "full": full,
        "deleted": deleted,
        "bridged": list(pair["person_id"]),
    }


def test_the_day_brought_new_and_changed_records(runs: dict) -> None:
    changes = runs["incremental"].stats["incremental"]
    assert runs["incremental"].stats["mode"] == "incremental"
    assert changes["new_records"] > 10
    assert changes["changed_records"] > 0
    assert changes["deleted_records"] == 1
    # only the pairs that can have changed were scored, with the saved model
    assert 0 < changes["pairs_scored"] < runs["full"].stats["candidate_pairs"] / 2
    assert runs["incremental"].stats["model"]["prior"] == runs["first"].stats["model"]["prior"]


def test_incremental_persons_are_those_of_a_full_run_with_the_same_model(runs: dict) -> None:
    incremental, full = runs["incremental"], runs["full"]
    assert len(incremental.graph) == len(full.graph)
    assert _partition(incremental.graph) == _partition(full.graph)
    assert incremental.stats["edges_per_rule"] == full.stats["edges_per_rule"]
    assert set(map(tuple, incremental.possible_matches[["record_id_a", "record_id_b"]].values)) \
        == set(map(tuple, full.possible_matches[["record_id_a", "record_id_b"]].values))  # fmt: skip


def test_untouched_persons_keep_their_ids(runs: dict) -> None:
    before, after = runs["first"].graph, runs["incremental"].graph
    old = before.groupby("person_id")["record_id"].agg(frozenset)
    new = after.groupby("person_id")["record_id"].agg(frozenset)
    untouched = old[old.isin(set(new))]
    assert len(untouched) > 0.5 * len(old)  # a tenth of the records arrive on day two
    for person_id, records in untouched.items():
        assert new.get(person_id) == records, person_id


def test_the_bridged_persons_merge_and_the_merge_is_recorded(runs: dict) -> None:
    graph = runs["incremental"].graph.set_index("record_id")["person_id"]
    survivor = graph[BRIDGE]
    assert survivor in runs["bridged"]
    loser = next(p for p in runs["bridged"] if p != survivor)
    merges = runs["incremental"].merges
    assert ((merges["merged_person_id"] == loser) & (merges["into_person_id"] == survivor)).any()
    assert loser not in set(graph)


def test_a_deleted_record_leaves_its_person(runs: dict) -> None:
    before = runs["first"].graph.set_index("record_id")["person_id"]
    after = runs["incremental"].graph.set_index("record_id")["person_id"]
    deleted = runs["deleted"]
    assert deleted not in after.index
    person = before[deleted]
    others = before[(before == person) & (before.index != deleted)].index
    assert (after[others] == person).sum() > len(others) / 2


def test_a_changed_config_or_a_missing_table_means_a_full_run(runs: dict, config) -> None:
    first = runs["first"]
    tables = state_tables(first.state)
    assert state_from_tables(tables, first.possible_matches, config) is not None
    other = config.model_copy(update={"max_cluster_size": config.max_cluster_size + 1})
    assert state_from_tables(tables, first.possible_matches, other) is None
    assert state_from_tables({**tables, "capped_blocks": None}, first.possible_matches, config) \
        is None  # fmt: skip
    assert state_from_tables(tables, None, config) is None
