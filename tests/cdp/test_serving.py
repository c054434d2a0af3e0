"""The serving snapshot: atomic publication, readers never blocked by a writer, retention,
permissions, carry-over of unrefreshed schemas, and a BI client library (duckdb-engine)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from cdp import serving
from cdp.settings import get_settings

TABLES = (
    "marts.customer_360",
    "ml.churn_scores",
    "activation.sync_runs",
    "identity.identity_graph",
)

# A writer process: holds the warehouse's writer lock and a read-write DuckDB connection (as a
# pipeline run does) and, for each generation, rewrites every served table then publishes a
# snapshot; it waits for the reader to have seen a generation before writing the next one, so
# the reader's queries run while the warehouse is being written, whatever the machine's speed.
WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import duckdb
    from cdp import serving
    from cdp.settings import get_settings
    from cdp.warehouse_lock import warehouse_lock

    generations, seen = int(sys.argv[1]), Path(sys.argv[2])
    settings = get_settings()
    tables = {tables!r}
    with warehouse_lock(settings.warehouse), duckdb.connect(str(settings.warehouse)) as con:
        Path(str(seen) + ".writing").write_text("1")
        for gen in range(1, generations + 1):
            for qualified in tables:
                schema = qualified.split(".")[0]
                con.execute(f"create schema if not exists {{schema}}")
                con.execute(
                    f"create or replace table {{qualified}} as select {{gen}} as generation, "
                    f"'p' || i as person_id from range({{gen}} * 1000) t(i)"
                )
            serving.publish(settings)
            while not seen.exists() or int(seen.read_text() or 0) < gen:
                time.sleep(0.01)
    """
).format(tables=TABLES)


def _start_writer(generations: int, seen: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(generations), str(seen)],
        env=os.environ.copy(),
        cwd=Path(__file__).resolve().parents[2],
    )


def _consistent_generation(path: Path) -> int:
    """Read every table of a snapshot; fail unless all come from one publication."""
    with duckdb.connect(str(path), read_only=True) as con:
        manifest = dict(
            con.execute("select table_name, row_count from serving.manifest").fetchall()
        )
        generations = set()
        for qualified in TABLES:
            rows, gens = con.execute(
                f"select count(*), list(distinct generation) from {qualified}"
            ).fetchall()[0]
            assert rows == manifest[qualified]
            generations |= set(gens)
    assert len(generations) == 1, f"a half-published snapshot: generations {generations}"
    return generations.pop()


def test_reader_loop_sees_whole_snapshots_while_the_warehouse_is_written(cdp_env, tmp_path):
    settings = get_settings()
    seen = tmp_path / "seen"
    generations = 6
    writer = _start_writer(generations, seen)
    observed: list[int] = []
    errors: list[str] = []
    premise_checked = False
    try:
        last = 0
        while last < generations:
            assert writer.poll() is None, "the writer died"
            path = serving.current_snapshot(settings)
            if path is None:
                continue
            if not premise_checked and Path(str(seen) + ".writing").exists():
                # the problem being solved: the warehouse itself cannot be read meanwhile
                with pytest.raises(duckdb.IOException, match="lock"):
                    duckdb.connect(str(settings.warehouse), read_only=True)
                premise_checked = True
            try:
                gen = _consistent_generation(path)
            except duckdb.Error as exc:  # a lock or a vanished file would land here
                errors.append(str(exc).splitlines()[0])
                continue
            observed.append(gen)
            if gen > last:
                last = gen
                seen.write_text(str(gen))
    finally:
        writer.wait(timeout=120)
    assert writer.returncode == 0
    assert errors == []
    assert premise_checked
    assert sorted(set(observed)) == list(range(1, generations + 1))
    assert observed == sorted(observed)  # never an older snapshot after a newer one


def _warehouse_with(settings, rows: int) -> None:
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse)) as con:
        for qualified in TABLES:
            con.execute(f"create schema if not exists {qualified.split('.')[0]}")
            con.execute(
                f"create or replace table {qualified} as select {rows} as generation, "
                f"'p' || i as person_id from range({rows}) t(i)"
            )
        con.execute("create or replace table activation.sync_journal as select 1 as payload")
        con.execute("create schema if not exists raw_shop")
        con.execute("create or replace table raw_shop.customers as select 1 as x")


def test_keeps_the_last_n_private_files_and_points_at_the_newest(cdp_env, monkeypatch):
    settings = get_settings()
    monkeypatch.setenv("CDP_SERVING_KEEP", "2")
    published = []
    for rows in (1, 2, 3, 4):
        _warehouse_with(settings, rows)
        published.append(serving.publish(settings))
    folder = serving.serving_dir(settings)
    files = sorted((folder / "snapshots").iterdir())
    assert files == published[-2:]
    assert serving.current_snapshot(settings) == published[-1]
    assert os.readlink(serving.current_link(settings)) == "snapshots/" + published[-1].name
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for path in (folder, folder / "snapshots"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    with serving.connect(settings) as con:
        tables = {
            f"{s}.{t}"
            for s, t in con.execute(
                "select schema_name, table_name from duckdb_tables()"
            ).fetchall()
        }
        assert con.execute("select count(*) from marts.customer_360").fetchall()[0][0] == 4
    assert "activation.sync_journal" not in tables  # operational payloads are not served
    assert not any(t.startswith("raw_") for t in tables)  # only what readers need


def test_a_partial_publication_carries_the_other_schemas_and_builders_run(cdp_env):
    settings = get_settings()
    _warehouse_with(settings, 5)

    def build(con):
        con.execute("create schema if not exists app")
        con.execute("create table app.index as select count(*) as n from marts.customer_360")

    serving.publish(settings, builders=[build])
    _warehouse_with(settings, 7)
    serving.publish(settings, schemas=("activation",))
    with serving.connect(settings) as con:
        assert con.execute("select count(*) from activation.sync_runs").fetchall()[0][0] == 7
        assert con.execute("select count(*) from marts.customer_360").fetchall()[0][0] == 5
        assert con.execute("select n from app.index").fetchall()[0][0] == 5
        manifest = dict(
            con.execute("select table_name, row_count from serving.manifest").fetchall()
        )
    assert manifest["activation.sync_runs"] == 7 and manifest["marts.customer_360"] == 5


def test_before_the_first_publication_readers_get_a_clear_error(cdp_env):
    with pytest.raises(serving.NoSnapshot, match="no serving snapshot"):
        serving.connect(get_settings())
    with serving.connect_or_empty(get_settings()) as con:
        assert con.execute("select 1").fetchall() == [(1,)]


def test_a_bi_client_library_reads_the_snapshot_while_a_run_holds_the_warehouse(
    cdp_env, held_warehouse
):
    import sqlalchemy  # with duckdb-engine (dev group): the dialect Superset and others use

    settings = get_settings()
    _warehouse_with(settings, 3)
    serving.publish(settings)
    held_warehouse()
    link = serving.current_link(settings)
    engine = sqlalchemy.create_engine(f"duckdb:///{link}", connect_args={"read_only": True})
    with engine.connect() as conn:
        rows = conn.execute(sqlalchemy.text("select count(*) from marts.customer_360")).scalar()
        names = sqlalchemy.inspect(conn).get_table_names(schema="marts")
    engine.dispose()
    assert rows == 3 and "customer_360" in names


def test_person_tables_are_sorted_and_indexed_so_a_lookup_does_not_scan(cdp_env):
    """A profile page looks people up by id in every served table: the snapshot stores each
    table with a person_id sorted by it and with an ART index, so DuckDB answers
    `person_id = ?` with an index scan; tables without a person id are copied as they are."""
    settings = get_settings()
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.customer_timeline as select 'p' || (i * 7919 % 5000) "
            "as person_id, i as n from range(20000) t(i)"
        )
        con.execute("create table marts.products as select i as sku from range(10) t(i)")
    serving.publish(settings)
    with serving.connect(settings) as con:
        indexed = con.execute(
            "select schema_name, table_name, sql from duckdb_indexes() order by all"
        ).fetchall()
        assert [(s, t) for s, t, _ in indexed] == [("marts", "customer_timeline")]
        assert "(person_id)" in indexed[0][2]
        ids = [
            r[0] for r in con.execute("select person_id from marts.customer_timeline").fetchall()
        ]
        assert ids == sorted(ids)
        plan = con.execute(
            "explain analyze select * from marts.customer_timeline where person_id = 'p42'"
        ).fetchall()[0][1]
        assert "Type: Index Scan" in plan
        assert con.execute(
            "select count(*) from marts.customer_timeline where person_id = 'p42'"
        ).fetchall() == [(4,)]
