"""Incremental dbt models give the same tables as a full refresh of the same raw data.

A small generated retailer is loaded and built in full (staging, identity resolution, golden
record and marts); a generated day of changes (new and changed records, `cdp_demo.daily`) is
landed and loaded, with a store's generic e-mail moved to a card holder's address (the rows
that gave the old one, and the holder's card, change without a raw row of their own); meanwhile the quality layer quarantines rows already built (a web event, an
order with its items) and releases a row it had quarantined. The day's build runs as the
pipeline runs it (staging, identity resolved again with the previous graph, then the golden
record and marts), every table of staging, intermediate and marts is copied aside, then
`--full-refresh` rebuilds the same models from the same raw data and the same identity graph:
every table must match its full-refresh table row for row (EXCEPT ALL both ways returns
nothing), the person-keyed marts included.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.dbt.test_marts import dbt_paths, ingest_generated, write_identity_graph

BEFORE_IDENTITY = ["--select", "staging intermediate.identity"]
# customer_profiles reads the ML scores, written by the ML domain from these marts
AFTER_IDENTITY = [
    "--select",
    "intermediate.golden+ intermediate.marts_prep+ marts",
    "--exclude",
    "customer_profiles",
]
LAYERS = ("staging", "intermediate", "marts")


def _incremental_models(work: Path) -> list[str]:
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    return sorted(
        f"{node['schema']}.{node['alias']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    )


def _quarantine(con: duckdb.DuckDBPyConnection, schema: str, table: str, where: str) -> str:
    """Quarantine (severity error) one raw row matching `where`; returns its `_dlt_id`."""
    from data_quality.quarantine import ensure_table

    ensure_table(con)
    row_id = con.execute(
        f"select _dlt_id from {schema}.{table} where {where} order by _dlt_id limit 1"
    ).fetchall()[0][0]
    con.execute(
        "insert into quality.quarantine_rows (schema_name, table_name, row_id, rule, severity,"
        " quarantined_at) values (?, ?, ?, 'test_rule', 'error', now())",
        [schema, table, row_id],
    )
    return row_id


def _move_store_email(database: Path, day: str) -> tuple[str, str]:
    """A store's generic e-mail, given by some cards, becomes a card holder's own address."""
    with sqlite3.connect(database) as con:
        store, old = con.execute(
            "select store_id, generic_email from stores "
            "where generic_email in (select email from loyalty_cards) order by store_id limit 1"
        ).fetchone()
        new = con.execute(
            "select email from loyalty_cards where email like '%_@_%' and email = trim(email) "
            "and email not in (select generic_email from stores) order by card_id limit 1"
        ).fetchone()[0]
        con.execute(
            "update stores set generic_email = ?, updated_at = ? where store_id = ?",
            [new, f"{day}T00:00:00Z", store],
        )
    return old, new


def _dbt_apart(args: list[str], work: Path) -> None:
    """dbt in a child process, as Dagster runs it: dbt-duckdb run in this process would keep
    the warehouse file open, and the next load (dlt) could not open it."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *args, *dbt_paths(work)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _build(work: Path, warehouse: Path, *flags: str) -> None:
    """The pipeline's dbt steps around identity resolution (the previous graph keeps ids)."""
    _dbt_apart(["run", *flags, *BEFORE_IDENTITY], work)
    write_identity_graph(warehouse)
    _dbt_apart(["run", *flags, *AFTER_IDENTITY], work)


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name in "
            f"{LAYERS} order by all"
        ).fetchall()
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from cdp_demo.daily import land_day

    from ingestion.pipeline import run_all

    root = tmp_path_factory.mktemp("incremental")
    with pytest.MonkeyPatch.context() as mp:
        settings = ingest_generated(mp, root / "data", customers=400, seed=5)
        with duckdb.connect(str(settings.warehouse)) as con:
            released = _quarantine(con, "raw_web", "events", "event_type = 'page_view'")
        _build(root, settings.warehouse)
        day = land_day(settings.landing_dir, n=1, share=1 / 10, seed=3)
        store_emails = _move_store_email(
            settings.landing_dir / "pos" / "pos.sqlite", day.day.isoformat()
        )
        run_all(settings)
        with duckdb.connect(str(settings.warehouse)) as con:
            con.execute("delete from quality.quarantine_rows where row_id = ?", [released])
            _quarantine(con, "raw_web", "events", "event_type = 'login'")
            _quarantine(con, "raw_shop", "orders", "status = 'complete'")
        _build(root, settings.warehouse)
        models = _incremental_models(root)
        compiled = {
            name: (root / "target" / "compiled").rglob(f"{name.split('.')[1]}.sql")
            for name in models
        }
        compiled_sql = {name: next(paths).read_text() for name, paths in compiled.items()}
        with duckdb.connect(str(settings.warehouse)) as con:
            tables = _tables(con)
            con.execute("create schema incremental_copy")
            for name in tables:
                table = name.split(".")[1]
                con.execute(f"create table incremental_copy.{table} as select * from {name}")
        _dbt_apart(["run", "--full-refresh", *BEFORE_IDENTITY], root)
        _dbt_apart(["run", "--full-refresh", *AFTER_IDENTITY], root)
        yield {
            "warehouse": settings.warehouse,
            "models": models,
            "tables": tables,
            "day": day,
            "compiled": compiled_sql,
            "store_emails": store_emails,
        }


def test_the_event_sized_staging_models_are_incremental(built: dict) -> None:
    assert {
        "staging.stg_web__events",
        "staging.stg_esp__events",
        "staging.stg_shop__orders",
        "staging.stg_shop__order_items",
        "staging.stg_pos__receipts",
        "staging.stg_pos__receipt_lines",
        "staging.stg_consent__events",
        "staging.stg_shop__customers",
        "staging.stg_shop__customer_addresses",
        "staging.stg_pos__loyalty_cards",
        "staging.stg_esp__contacts",
        "staging.stg_clienteling__clients",
        "marts.customer_timeline",
    } <= set(built["models"])
    # the second run took the incremental path (only the touched keys), not a rebuild
    for name, sql in built["compiled"].items():
        assert "touched_keys" in sql, name


def test_the_day_changed_the_tables(built: dict) -> None:
    day = built["day"]
    assert day.new["web.events"] > 0 and day.changed["shop.orders"] > 0
    with duckdb.connect(str(built["warehouse"])) as con:
        new_events = con.execute(
            "select count(*) from incremental_copy.stg_web__events where event_id like '%-D1'"
        ).fetchall()[0][0]
        closed = con.execute(
            "select count(*) from incremental_copy.stg_shop__orders "
            "where cast(updated_at as date) = ? and status = 'closed'",
            [day.day],
        ).fetchall()[0][0]
        dropped = con.execute(
            "select count(*) from raw_web.events as e join quality.quarantine_rows as q "
            "on q.row_id = e._dlt_id and q.rule = 'test_rule' "
            "join incremental_copy.stg_web__events as s on s.event_id = e.event_id"
        ).fetchall()[0][0]
    assert new_events == day.new["web.events"]
    assert closed > 0
    assert dropped == 0  # the newly quarantined event left the incremental table
    assert day.new["pos.loyalty_cards"] > 0 and day.changed["pos.loyalty_cards"] > 0
    old, new = built["store_emails"]
    with duckdb.connect(str(built["warehouse"])) as con:
        flags = dict(
            con.execute(
                "select email_raw, bool_or(is_store_email) from "
                "incremental_copy.stg_pos__loyalty_cards where email_raw in (?, ?) group by 1",
                [old, new],
            ).fetchall()
        )
    assert flags == {old: False, new: True}  # cards whose raw rows did not change


def test_incremental_equals_full_refresh(built: dict) -> None:
    assert {"marts.customer_360", "marts.customer_timeline"} <= set(built["tables"])
    differences = {}
    with duckdb.connect(str(built["warehouse"])) as con:
        for name in built["tables"]:
            table = name.split(".")[1]
            copy = f"incremental_copy.{table}"
            only_incremental = con.execute(
                f"select count(*) from (select * from {copy} except all select * from {name})"
            ).fetchall()[0][0]
            only_full = con.execute(
                f"select count(*) from (select * from {name} except all select * from {copy})"
            ).fetchall()[0][0]
            rows = con.execute(f"select count(*) from {name}").fetchall()[0][0]
            assert rows > 0, name
            if only_incremental or only_full:
                differences[name] = (only_incremental, only_full)
    assert not differences, differences
