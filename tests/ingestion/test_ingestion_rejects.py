"""Bad rows go to `<dataset>.rejected_rows` with a reason; unreadable files are reported by name
and do not stop the other files."""

from __future__ import annotations

import json
import logging

import pyarrow.parquet as pq

from ingestion.pipeline import run_all
from tests.ingestion.ingestion_fixtures import (
    CLIENT_HEADER,
    client_line,
    count,
    customer,
    query,
    web_events,
)


def rejected(settings, dataset):
    return query(
        settings,
        "select table_name, source_file, line_number, raw_record, reason, _dlt_load_id "
        f"from {dataset}.rejected_rows order by source_file, line_number",
    )


def test_corrupt_json_lines_are_rejected_good_lines_loaded(settings, landing):
    path = settings.landing_dir / "shop/customers/customers_2025-02.jsonl"
    lines = [
        json.dumps(customer(5)),
        '{"entity_id": 6, "email": "broken@example.com", ',  # truncated JSON
        json.dumps(customer(7, gender="female")),  # unparsable value for an integer column
        "",  # blank line: skipped, still counted in line numbers
        json.dumps(customer(8)),
        json.dumps({**customer(9), "entity_id": None}),  # no primary key
        # an address without its key: the customer loads, the address is rejected
        json.dumps(customer(10, addresses=[{**customer(10)["addresses"][0], "id": None}])),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run_all(settings, sources=["shop"])
    assert report["errors"] == {}
    assert count(settings, "raw_shop.customers") == 3 + 3
    assert query(
        settings, "select entity_id from raw_shop.customers where entity_id >= 5 order by 1"
    ) == [(5,), (8,), (10,)]
    # the children of rejected rows are not loaded either
    assert query(
        settings,
        "select count(*) from raw_shop.customers__addresses where customer_entity_id >= 5",
    ) == [(2,)]
    rows = rejected(settings, "raw_shop")
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("customers", "customers_2025-02.jsonl", 2),
        ("customers", "customers_2025-02.jsonl", 3),
        ("customers", "customers_2025-02.jsonl", 6),
        ("customers__addresses", "customers_2025-02.jsonl", 7),
    ]
    assert rows[0][3] == lines[1]
    assert "JSON" in rows[0][4]
    assert ("female" in rows[1][3] and "gender" in rows[1][4]) or "changed" in rows[1][4]
    assert rows[2][4] == "missing primary key entity_id"
    assert rows[3][4] == "missing primary key id" and '"customer_entity_id": 10' in rows[3][3]
    assert all(r[5] for r in rows)  # _dlt_load_id set

    # a re-run neither re-rejects nor re-loads
    again = run_all(settings, sources=["shop"])
    assert again["rows"] == {}
    assert len(rejected(settings, "raw_shop")) == 4


def test_csv_wrong_column_count_and_bad_values(settings, landing):
    (settings.landing_dir / "catalog/products.csv").write_text(
        "sku,name,category,subcategory,collection,price,cost,currency,stock_qty,is_active,"
        "launched_at,updated_at\n"
        "HZ-1,A,bags,tote,SS25,10.00,5.00,EUR,1,true,2025-01-01,2025-01-01T00:00:00Z\n"
        "HZ-2,B,bags,tote,SS25,abc,5.00,EUR,1,true,2025-01-01,2025-01-01T00:00:00Z\n"
        "HZ-3,C,bags,tote\n"
        "HZ-4,D,bags,tote,SS25,12.50,5.00,EUR,many,maybe,2025-01-01,2025-01-01T00:00:00Z\n"
        "HZ-5,E,bags,tote,SS25,12.50,5.00,EUR,3,false,2025-01-01,2025-01-01T00:00:00Z\n",
        encoding="utf-8",
    )
    clients = settings.landing_dir / "clienteling/clients_2025-01.csv"
    clients.write_text(
        f"{CLIENT_HEADER}\n{client_line(1)}\n{client_line(2)},extra,cells\n{client_line(3)}\n",
        encoding="utf-8",
    )
    report = run_all(settings, sources=["catalog", "clienteling"])
    assert report["errors"] == {}
    assert query(settings, "select sku from raw_catalog.products order by 1") == [
        ("HZ-1",),
        ("HZ-5",),
    ]
    rows = rejected(settings, "raw_catalog")
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("products", "products.csv", 3),
        ("products", "products.csv", 4),
        ("products", "products.csv", 5),
    ]
    assert "column price" in rows[0][4] and "3-character text" in rows[0][4]
    assert rows[0][3].startswith("HZ-2,B,bags")
    assert rows[1][4] == "wrong column count: expected 12, got 4"
    assert rows[1][3] == "HZ-3,C,bags,tote"
    assert "column stock_qty" in rows[2][4] and "column is_active" in rows[2][4]
    assert count(settings, "raw_clienteling.clients") == 2
    assert [(r[2], r[4]) for r in rejected(settings, "raw_clienteling")] == [
        (3, "wrong column count: expected 22, got 24")
    ]


TICKET_HEADER = (
    "ticket_id,created_at,channel,requester_name,requester_email,requester_phone,category,"
    "subject,order_reference,status,satisfaction,solved_at\n"
)


def test_unreadable_files_are_named_and_others_still_load(settings, landing, caplog):
    service = settings.landing_dir / "service"
    (service / "tickets_2025-02.csv").write_bytes(
        (
            TICKET_HEADER
            + "T-000009,2025-02-05T10:00:00Z,email,Hélène,h@example.com,,other,Été,,open,,\n"
        ).encode("latin-1")
    )  # declared UTF-8, written Latin-1: detected, loaded
    (service / "tickets_2025-03.csv").write_bytes(b"")  # empty
    utf16 = TICKET_HEADER + "T-000010,2025-02-06T10:00:00Z,email,Zoé,,,other,Hi,,open,,\n"
    (service / "tickets_2025-04.csv").write_bytes(utf16.encode("utf-16"))  # not a known encoding
    web = settings.landing_dir / "web"
    pq.write_table(web_events(3, start=100), web / "events_2025-02.parquet")
    data = (web / "events_2025-02.parquet").read_bytes()
    (web / "events_2025-03.parquet").write_bytes(data[: len(data) // 2])  # truncated
    sheets = settings.landing_dir / "spreadsheets"
    (sheets / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")

    with caplog.at_level(logging.WARNING, logger="ingestion"):
        report = run_all(settings, sources=["service", "web", "spreadsheets"])
    assert report["errors"] == {}
    assert count(settings, "raw_service.tickets") == 3
    assert query(
        settings, "select subject from raw_service.tickets where ticket_id = 'T-000009'"
    ) == [("Été",)]
    assert count(settings, "raw_web.events") == 4 + 3
    assert count(settings, "raw_spreadsheets.event_signups") == 3

    problems = {
        (r[1], r[2]): r[4]
        for dataset in ("raw_service", "raw_web", "raw_spreadsheets")
        for r in rejected(settings, dataset)
    }
    assert set(problems) == {
        ("tickets_2025-03.csv", None),
        ("tickets_2025-04.csv", None),
        ("events_2025-03.parquet", None),
        ("broken.xlsx", None),
    }
    assert "header is not readable" in problems[("tickets_2025-04.csv", None)]
    assert "empty file" in problems[("tickets_2025-03.csv", None)]
    assert "Parquet" in problems[("events_2025-03.parquet", None)]
    assert "xlsx" in problems[("broken.xlsx", None)]
    logged = caplog.text
    for name in (
        "tickets_2025-04.csv",
        "tickets_2025-03.csv",
        "events_2025-03.parquet",
        "broken.xlsx",
    ):
        assert name in logged

    # fixing a file (new fingerprint) loads it on the next run
    (service / "tickets_2025-04.csv").write_text(utf16, encoding="utf-8")
    report = run_all(settings, sources=["service"])
    assert report["rows"] == {"raw_service.tickets": 1}
    assert query(
        settings, "select requester_name from raw_service.tickets where ticket_id = 'T-000010'"
    ) == [("Zoé",)]


def test_key_repeated_in_one_file_newest_wins_ties_are_recorded(settings, landing):
    """An in-file edit (newer updated_at) replaces the older line without a reject; two lines
    with the same key and the same updated_at keep the later one and record the other."""
    clients = settings.landing_dir / "clienteling/clients_2025-01.csv"
    clients.write_text(
        f"{CLIENT_HEADER}\n"
        f"{client_line(1, '2025-01-09T10:00:00Z', first='Newest')}\n"
        f"{client_line(1, '2025-01-05T10:00:00Z', first='Older')}\n"
        f"{client_line(2, first='First')}\n"
        f"{client_line(2, first='Second')}\n",
        encoding="utf-8",
    )
    report = run_all(settings, sources=["clienteling"])
    assert report["errors"] == {}
    assert query(
        settings, "select client_id, first_name from raw_clienteling.clients order by 1"
    ) == [("CL-0000001", "Newest"), ("CL-0000002", "Second")]
    rows = rejected(settings, "raw_clienteling")
    assert [(r[1], r[2], r[4]) for r in rows] == [
        (
            "clients_2025-01.csv",
            4,
            "duplicate primary key client_id=CL-0000002, superseded by line 5",
        )
    ]
    assert rows[0][3].startswith("CL-0000002,S001,A01,M.,First")


def test_missing_declared_columns_are_recorded_rows_still_load(settings, landing):
    (settings.landing_dir / "catalog/products.csv").write_text(
        "sku,name,category,subcategory,collection,currency,stock_qty,is_active,"
        "launched_at,updated_at\n"
        "HZ-1,A,bags,tote,SS25,EUR,1,true,2025-01-01,2025-01-01T00:00:00Z\n",
        encoding="utf-8",
    )
    report = run_all(settings, sources=["catalog"])
    assert report["errors"] == {}
    assert count(settings, "raw_catalog.products") == 1
    assert [(r[1], r[2], r[4]) for r in rejected(settings, "raw_catalog")] == [
        ("products.csv", None, "missing column(s) price, cost: rows loaded without them")
    ]


def test_failed_load_is_aborted_and_named_by_source_file(settings, landing, monkeypatch):
    """A load that fails in the destination names the source file, not dlt's job file, and
    leaves no package behind: the next run (the reader fixed) loads the file."""
    import pyarrow as pa

    from ingestion.pipeline import make_pipeline
    from ingestion.sources import _text

    web = settings.landing_dir / "web"
    table = web_events(2, start=50)
    raw = pa.array([b"/", b"/caf\xe9"], pa.binary()).view(pa.string())  # invalid UTF-8
    table = table.set_column(table.column_names.index("page_url"), "page_url", raw)
    pq.write_table(table, web / "events_2025-02.parquet")
    # simulate a reader that misses the bad byte: DuckDB refuses the Parquet job
    monkeypatch.setattr(_text, "invalid_text_rows", lambda t, encoding: (t, {}))
    monkeypatch.setattr(_text, "apply_null_tokens", lambda t, tokens: t)
    monkeypatch.setattr(_text, "strip_control_characters", lambda t: (t, {}))
    report = run_all(settings, sources=["web", "catalog"])
    error = report["errors"]["web"]
    assert "events_2025-02.parquet" in error and "events_2025-01.parquet" in error
    assert "/load/" not in error and "started_jobs" not in error
    assert "caf" not in error  # the offending value is not echoed (it could be a name)
    assert report["rows"]["raw_catalog.products"] == 2  # the other source loaded
    pipeline = make_pipeline("web", settings)
    assert not pipeline.has_pending_data  # aborted, nothing left to retry for ever

    monkeypatch.undo()
    report = run_all(settings, sources=["web"])
    assert report["errors"] == {}
    assert count(settings, "raw_web.events") == 4 + 1
    [(line, column)] = query(settings, "select line_number, column_name from raw_web.rejected_rows")
    assert (line, column) == (2, "page_url")


def test_till_look_back_window_loads_late_receipts_once(settings, landing):
    """A receipt uploaded after newer ones, with an older and differently written timestamp,
    is loaded; a second run with nothing new loads nothing; a NULL cursor never fails."""
    import sqlite3

    run_all(settings, sources=["pos"])
    db = sqlite3.connect(settings.landing_dir / "pos/pos.sqlite")
    db.execute(
        "insert into receipts values ('R-S001-0000009','S001','REG1','ST1',NULL,"
        "'2025-01-03 09:00:00',40.0,'EUR','card',0,NULL,'2025-01-03 09:00:00')"
    )  # late, older than the newest cursor, space instead of T and no Z
    db.execute(
        "insert into receipts values ('R-S001-0000010','S001','REG1','ST1',NULL,"
        "'2025-01-07T09:00:00Z',15.0,'EUR','card',0,NULL,NULL)"
    )
    db.commit()
    db.close()
    report = run_all(settings, sources=["pos"])
    assert report["errors"] == {}
    assert report["rows"] == {"raw_pos.receipts": 2}
    assert count(settings, "raw_pos.receipts") == 4
    again = run_all(settings, sources=["pos"])
    assert again["errors"] == {} and again["rows"] == {}
    assert count(settings, "raw_pos.receipts") == 4
