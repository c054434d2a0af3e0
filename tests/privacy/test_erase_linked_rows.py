"""Raw rows that belong to a person through a key, not an identifier: a till receipt naming
their loyalty card (and its lines, and the return of it), web events of their anonymous id or
logged in as them, their shop addresses, orders and order items, carts, consent events. The
erasure follows the identity graph to all of them, touches nobody else's rows, and a full
re-load of the same landing files brings none of them back (dropped at ingestion, counted)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections import Counter

import duckdb

from ingestion.pipeline import run_all
from privacy import ingest_filter, links
from privacy.erase import erase
from privacy.subjects import Subject
from tests.ingestion.ingestion_fixtures import write_landing

#: the person's source records; their identity records carry no e-mail or phone, so every
#: row below is found through a key
RECORDS = ("pos_card:LC-0000001", "web_visitor:A1", "shop_customer:1")
OTHER = "shop_customer:2"
THEIRS = {  # rows of each raw table that are theirs
    "raw_pos.loyalty_cards": 1,
    "raw_pos.receipts": 2,  # the purchase on their card and the return of it
    "raw_pos.receipt_lines": 3,
    "raw_web.events": 4,  # their anonymous id (one of them logged in as customer 1)
    "raw_shop.customers": 1,
    "raw_shop.customers__addresses": 1,
    "raw_shop.orders": 1,  # order 10 of customer 1; the guest order 11 is not theirs
    "raw_shop.orders__items": 2,
    "raw_shop.carts": 2,
    "raw_shop.carts__items": 2,
    "raw_consent.consent_events": 1,
}


def _raw(con) -> dict[str, Counter]:
    out = {}
    for s, t in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema "
        "LIKE 'raw\\_%' ESCAPE '\\' AND table_schema NOT LIKE '%\\_staging' ESCAPE '\\' "
        "AND table_name NOT LIKE '\\_dlt%' ESCAPE '\\'"
    ).fetchall():
        frame = con.execute(f'SELECT * EXCLUDE (_dlt_load_id, _dlt_id) FROM "{s}"."{t}"').df()
        out[f"{s}.{t}"] = Counter(
            json.dumps(r, default=str, sort_keys=True) for r in frame.to_dict("records")
        )
    return out


def _graph(con) -> None:
    con.execute("CREATE SCHEMA identity; CREATE SCHEMA intermediate")
    rows = [(r, "P1") for r in RECORDS] + [(OTHER, "P2")]
    con.execute("CREATE TABLE identity.identity_graph (record_id VARCHAR, person_id VARCHAR)")
    con.executemany("INSERT INTO identity.identity_graph VALUES (?, ?)", rows)
    con.execute(
        "CREATE TABLE intermediate.int_identity_records_unioned AS SELECT record_id, "
        "NULL::VARCHAR AS email, NULL::VARCHAR AS phone FROM identity.identity_graph"
    )


def test_rows_linked_by_key_are_erased_and_not_reloaded(settings):
    write_landing(settings.landing_dir)
    run_all(settings)
    with duckdb.connect(str(settings.warehouse)) as con:
        _graph(con)
        before = _raw(con)
        done = erase(con, Subject.from_values(person_id="P1"), "r1", settings.data_dir)
        after = _raw(con)
        kinds = dict(
            con.execute(
                "SELECT identifier_kind, count(*) FROM privacy.suppressions GROUP BY 1"
            ).fetchall()
        )
    gone = {t: sum((before[t] - after[t]).values()) for t in before}
    assert {t: n for t, n in gone.items() if n} == THEIRS
    assert all(not (after[t] - before[t]) for t in before)  # nothing else changed
    assert done.persons == ["P1"]
    assert kinds["key:pos_card"] == 1 and kinds["key:web_visitor"] == 1
    assert kinds["key:pos_receipt"] == 2 and kinds["key:shop_order"] == 1

    shutil.rmtree(settings.data_dir / "dlt")
    for path in settings.landing_dir.rglob("*"):  # a full re-load: every file read again
        if path.is_file():
            os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    with sqlite3.connect(settings.landing_dir / "pos/pos.sqlite") as till:  # the till edits
        for table in ("loyalty_cards", "receipts", "receipt_lines"):  # them: read again
            till.execute(f"UPDATE {table} SET updated_at = '2025-02-01T00:00:00Z'")
    ingest_filter.DROPPED.clear()
    report = run_all(settings)
    assert not report["errors"]
    with duckdb.connect(str(settings.warehouse)) as con:
        reloaded = _raw(con)
    assert reloaded == after
    dropped = {t: ingest_filter.DROPPED[t] for t in ("loyalty_cards", "receipts", "receipt_lines")}
    assert dropped == {"loyalty_cards": 1, "receipts": 2, "receipt_lines": 3}
    # a JSON file is parsed once for the table and once per child table: counted each time
    assert ingest_filter.DROPPED["customers"] >= 1 and ingest_filter.DROPPED["carts"] >= 2


def test_keys_compare_alike_in_python_and_duckdb():
    values = ["LC-123", " lc 0000123 ", "3.0", "12", "abc-def.1", "x.csv#3", "", "a b"]
    with duckdb.connect() as con:
        in_sql = [
            con.execute(f"SELECT {links.canonical_sql('v')} FROM (SELECT ? AS v)", [v]).fetchone()[
                0
            ]
            for v in values
        ]
        number = con.execute(f"SELECT {links.canonical_sql('3.0::DOUBLE')}").fetchone()[0]
    assert in_sql == [links.canonical_key(v) for v in values]
    assert links.canonical_key("LC-123") == "LC00000123" == links.canonical_key("lc 0000123")
    assert number == links.canonical_key(3.0) == "3"
    key = next(k for k in links.KEYS if k.entity == "spreadsheet")
    assert links.record_key("salon_2025.csv#2", key) == links.key_of_values(["salon_2025.csv", 2])


def test_every_declared_link_names_a_declared_raw_column():
    from ingestion.sources.specs import SOURCES, raw_tables

    declared = {
        f"raw_{source}.{table}.{column}"
        for source in SOURCES
        for table, schema in raw_tables(source).items()
        for column in schema.names
    }
    wanted = {f"{k.table}.{c}" for k in links.KEYS for c in k.columns}
    wanted |= {f"{r.table}.{r.column}" for r in links.REFERENCES}
    assert wanted <= declared, wanted - declared
