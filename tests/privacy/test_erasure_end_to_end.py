"""Erasure end to end, property-tested over the persons of a small generated retailer.

The retailer is generated and built once (every asset but the syncs); each example works on a
copy. It delivers the demo syncs to the stand-in vendors (HubSpot, Klaviyo, webhook, a SQLite
table and audience files under data/), draws one or two persons and the identifier each is
erased by (e-mail, phone or person id), runs `cdp privacy erase`, a sync run (the vendors'
deletions), a full re-run of every asset on the same landing files (dlt state dropped, files
touched) and the syncs once more. Then:
- no table of the warehouse, no file under data/ (text, JSON, Parquet and DuckDB read through
  DuckDB) and no stand-in vendor holds an e-mail, phone or person id of theirs;
- the erasure removed rows only: every other row of every table is as it was;
- the re-run reloaded every other person's raw rows as they were, and the identity graph and
  the orders of everyone else are unchanged.
Opt-in (`-m slow`): each example re-runs the whole pipeline.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from cdp_demo.demo import all_assets_but_syncs, data_dir_env, generate_data
from cdp_demo.demo_syncs import demo_syncs
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cli.main import main
from cli.runner import run_pipeline
from tests.demo.erased_scan import _needles, erased_identifiers, leftovers

CUSTOMERS, SEED = 100, 5  # at 60 customers the lead model has too few rows to train
#: tables the erasure writes to (its request, the suppression list, the deletions it queues)
WRITTEN = ("privacy.", "activation.sync_erasures")
DLT_COLUMNS = ("_dlt_load_id", "_dlt_id")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The retailer built once; `CDP_ERASURE_RETAILER` names the data folder of one built
    before by this fixture (kept by pytest's basetemp), to repeat the examples faster."""
    if os.environ.get("CDP_ERASURE_RETAILER"):
        return Path(os.environ["CDP_ERASURE_RETAILER"])
    data = tmp_path_factory.mktemp("retailer") / "data"
    (data / "dagster_home").mkdir(parents=True)
    with data_dir_env(data, data / "dagster_home") as cfg:
        generate_data(cfg, CUSTOMERS, SEED)
        assert run_pipeline(all_assets_but_syncs()).success
    return data


def _tables(con) -> list[str]:
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' ORDER BY 1, 2"
    ).fetchall()
    return [f"{s}.{t}" for s, t in rows if not f"{s}.{t}".startswith(WRITTEN)]


def _rows(con, table: str, drop: tuple[str, ...] = ()) -> Counter:
    frame = con.execute('SELECT * FROM "{}"."{}"'.format(*table.split(".", 1))).df()
    frame = frame.drop(columns=[c for c in drop if c in frame.columns])
    return Counter(json.dumps(r, default=str, sort_keys=True) for r in frame.to_dict("records"))


def _dump(con, drop: tuple[str, ...] = ()) -> dict[str, Counter]:
    return {t: _rows(con, t, drop) for t in _tables(con)}


def _of_others(rows: Counter, persons: set[str]) -> Counter:
    return Counter({r: n for r, n in rows.items() if json.loads(r).get("person_id") not in persons})


def _fakes_text(targets) -> str:
    """What the stand-in vendors hold: HubSpot contacts, Klaviyo profiles, webhook records."""
    held = [targets["hubspot"].contacts, targets["klaviyo"].profiles, targets["webhook"].store]
    return json.dumps(held, default=str).lower()


def _candidates(con, targets) -> tuple[list[dict], list[str]]:
    """The identified persons, and those a stand-in vendor holds (HubSpot and Klaviyo by
    e-mail, the webhook receiver by person id)."""
    people = con.execute(
        "SELECT person_id, lower(email) AS email, phone FROM marts.customer_360 "
        "WHERE is_identified ORDER BY person_id"
    ).df()
    held = {str(k).lower() for k in [*targets["hubspot"].contacts, *targets["klaviyo"].profiles]}
    held |= {str(k) for k in targets["webhook"].store}
    records = people.to_dict("records")
    return records, [p["person_id"] for p in records if {p["email"], p["person_id"]} & held]


def _rerun(cfg) -> None:
    """Every asset but the syncs again, as if nothing had been loaded from the landing files."""
    shutil.rmtree(cfg.data_dir / "dlt", ignore_errors=True)
    for path in cfg.landing_dir.rglob("*"):
        if path.is_file():
            stat = path.stat()
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert run_pipeline(all_assets_but_syncs()).success


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("CDP_ERASURE_EXAMPLES", "2")),
    deadline=None,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: each example costs a pipeline run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_erased_persons_are_gone_everywhere_and_nobody_else_changes(built, tmp_path_factory, data):
    work = tmp_path_factory.mktemp("example") / "data"
    shutil.copytree(built, work)
    with data_dir_env(work, work / "dagster_home") as cfg:
        con = duckdb.connect(str(cfg.warehouse))
        with demo_syncs(cfg, con, services=False) as syncs:
            assert all(r.status == "success" for r in syncs.run_all())
            people, delivered = _candidates(con, syncs.targets)
            first = data.draw(st.sampled_from(delivered), label="delivered person")
            others = [p["person_id"] for p in people if p["person_id"] != first]
            more = data.draw(st.lists(st.sampled_from(others), max_size=1), label="another")
            victims = {first, *more}
            by_id = {p["person_id"]: p for p in people}
            held_before = _fakes_text(syncs.targets)
            assert any(
                v.lower() in held_before or (by_id[v]["email"] or "\0") in held_before
                for v in victims
            )
            before = _dump(con)
            raw_before = _dump(con, DLT_COLUMNS)
            con.close()
            for person in sorted(victims):
                p = by_id[person]
                kinds = [k for k in ("email", "phone", "person_id") if p[k]]
                kind = data.draw(st.sampled_from(kinds), label=f"erased by ({person})")
                flag = "--person-id" if kind == "person_id" else f"--{kind}"
                assert main(["privacy", "erase", flag, str(p[kind])]) == 0

            con = duckdb.connect(str(cfg.warehouse))
            erased = _dump(con)
            for table, rows in before.items():  # the erasure removed rows, changed none
                now = erased.get(table, Counter())
                assert not (now - rows), table
                if any("person_id" in json.loads(r) for r in rows):  # nobody else's went
                    assert _of_others(now, victims) == _of_others(rows, victims), table
            raw_erased = _dump(con, DLT_COLUMNS)
            assert all(r.status == "success" for r in syncs.run_all(con))  # the deletions
            con.close()

            _rerun(cfg)
            con = duckdb.connect(str(cfg.warehouse))
            assert all(r.status == "success" for r in syncs.run_all(con))
            ids = erased_identifiers(con, cfg.landing_dir)
            ids["person_id"] = victims
            raw_after = _dump(con, DLT_COLUMNS)
            con.close()
            vendors = _fakes_text(syncs.targets)

        assert not [n for n in _needles(ids) if n in vendors]
        assert leftovers(cfg.data_dir, cfg.landing_dir, cfg.warehouse, ids) == []
        for table, rows in raw_erased.items():  # everyone else reloaded as they were
            if table.startswith("raw_") and "_staging." not in table and "._dlt" not in table:
                assert raw_after.get(table) == rows, table
        for table in ("identity.identity_graph", "marts.orders", "marts.order_lines"):
            kept = _of_others(raw_before[table], victims)
            assert _of_others(raw_after[table], victims) == kept, table
            assert set(raw_after[table]) <= set(kept), table  # none of theirs back


def test_identifier_scan_sees_a_planted_identifier(tmp_path):
    """The scan the property relies on finds an e-mail in a Parquet file and in a warehouse
    column, a phone typed with separators in a text file and a person id in JSON (so an
    empty result means something)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data, landing = tmp_path / "data", tmp_path / "data" / "landing"
    landing.mkdir(parents=True)
    pq.write_table(pa.table({"e": ["x", "Jo.Doe@Example.com"]}), data / "a.parquet")
    (data / "b.txt").write_text("call 06 12 34 56 78")
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute("CREATE TABLE t AS SELECT 'x' AS a, ' JO.DOE@example.COM' AS b")
    ids = {"email": {"jo.doe@example.com"}, "phone": {"+33612345678"}}
    found = leftovers(data, landing, data / "warehouse.duckdb", ids)
    assert found == ["a.parquet", "b.txt", "warehouse.duckdb:main.t.b"]
    ids = {"email": {"other@example.com"}, "phone": set(), "person_id": {"P_1"}}
    (data / "c.json").write_text('{"person": "p_1"}')
    assert leftovers(data, landing, data / "warehouse.duckdb", ids) == ["c.json"]
