"""A suppressed person's bad row is not quarantined: every source format drops it at ingestion,
before `rejected_rows` (and so `quality.quarantine_rows`) or any file under data/ holds it,
and counts it; other people's bad rows are still quarantined."""

from __future__ import annotations

import json
import sqlite3

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook

from data_quality.config import load_config
from data_quality.quarantine import run_quarantine
from ingestion.pipeline import run_all
from privacy import ingest_filter, links, suppression
from privacy.subjects import Subject, identifier_hash
from tests.demo.erased_scan import leftovers
from tests.ingestion.ingestion_fixtures import (
    CLIENT_HEADER,
    SIGNUP_HEADER,
    client_line,
    customer,
    web_events,
    write_landing,
)

EMAIL, PHONE = "zed.erased@example.com", "+33698765432"
CARD, VISITOR = "LC00000077", "A-ERASED-9"


def _suppress(settings, secret: str) -> None:
    keys = [("pos_card", CARD), ("web_visitor", VISITOR)]
    hashes = Subject.from_values(email=EMAIL, phone=PHONE).hashes + tuple(
        (
            links.KIND_PREFIX + e,
            identifier_hash(links.KIND_PREFIX + e, links.canonical_key(k), secret),
        )
        for e, k in keys
    )
    with duckdb.connect(str(settings.warehouse)) as con:
        suppression.add(con, Subject(hashes), "req-test")


def _plant(landing) -> None:
    """One bad row per format holding one suppressed identifier, and one bad row of someone
    else (a `keep-` marker) beside it."""
    telephone = {**customer(61)["addresses"][0], "telephone": "+33 6 98 76 54 32"}
    (landing / "shop/customers/customers_2025-02.jsonl").write_text(
        '{"entity_id": 60, "email": "Zed.Erased@Example.com", \n'  # truncated JSON
        + json.dumps(customer(61, gender="female", addresses=[telephone]))  # a bad value
        + "\n"
        + json.dumps(customer(62, gender="female", email="keep-62@example.com"))
        + "\n",
        encoding="utf-8",
    )
    erased = client_line(5).replace("j5@example.com", "ZED.Erased@example.com")
    kept = client_line(6).replace("j6@example.com", "keep-6@example.com")
    (landing / "clienteling/clients_2025-02.csv").write_text(
        f"{CLIENT_HEADER}\n{erased},extra\n{kept},extra\n", encoding="utf-8"
    )
    events = web_events(3, start=50, email=pa.array([EMAIL, None, "keep-w@example.com"]))
    events = events.set_column(0, "event_id", pa.array([None, None, None], pa.string()))
    anonymous = pa.array(["A1", VISITOR.lower(), "A1"], pa.string())  # keys compare canonical
    events = events.set_column(events.column_names.index("anonymous_id"), "anonymous_id", anonymous)
    pq.write_table(events, landing / "web/events_2025-02.parquet")
    (landing / "spreadsheets/salon_2025-02.csv").write_bytes(
        (
            ";".join(SIGNUP_HEADER)
            + "\r\nErased;Zed;z@x.fr;06 98 76 54 32;05/06/1990;69001;Lyon;Salon;01/04/2025;x"
            + "\r\nKept;Kim;keep-s@example.com;;05/06/1990;69001;Lyon;Salon;01/04/2025;x\r\n"
        ).encode("latin-1")
    )
    book = Workbook()
    sheet = book.active
    sheet.append(SIGNUP_HEADER)
    sheet.append(["Erased", "Zed", EMAIL, None, None, "69001", "Lyon", "Gala", "01/05/2025"])
    sheet.append(["Kept", "Kim", "keep-x@example.com", None, None, "69001", "Lyon", "Gala", None])
    sheet.merge_cells("F2:G3")  # a merge across two rows: both rows are rejected
    book.save(landing / "spreadsheets/gala_2025.xlsx")
    db = sqlite3.connect(landing / "pos/pos.sqlite")
    db.execute(
        "INSERT INTO loyalty_cards VALUES ('LC00000098','S001','2024-02-01',X'00','Erased',"
        "?,NULL,NULL,NULL,NULL,NULL,'FR','active','2024-02-01T10:00:00Z')",
        [EMAIL.upper()],
    )
    for receipt, card in (("R-S001-0000098", CARD), ("R-S001-0000099", None)):
        db.execute(
            "INSERT INTO receipts VALUES (?,'S001','REG1','ST1',?,'2025-01-08T10:00:00Z',"
            "'keep-total','EUR','card',0,NULL,'2025-01-08T10:00:00Z')",
            [receipt, card],
        )
    db.commit()
    db.close()


def test_suppressed_persons_bad_rows_are_counted_not_quarantined(settings, privacy_salt):
    write_landing(settings.landing_dir)
    _suppress(settings, privacy_salt)
    _plant(settings.landing_dir)
    ingest_filter.DROPPED.clear()
    report = run_all(settings)
    assert not report["errors"]
    with duckdb.connect(str(settings.warehouse)) as con:
        run_quarantine(con, load_config())
        quarantined = con.execute(
            "SELECT table_name, CAST(raw_record AS VARCHAR) FROM quality.quarantine_rows "
            "WHERE rule = 'ingestion_rejected'"
        ).fetchall()
    # someone else's bad row of each format is still quarantined, never vanishes
    kept = {t for t, raw in quarantined if "keep-" in raw}
    assert kept == {"customers", "clients", "events", "event_signups", "receipts"}
    assert any("R-S001-0000099" in raw for _, raw in quarantined)
    ids = {"email": {EMAIL}, "phone": {PHONE}, "person_id": {CARD, VISITOR}}
    assert leftovers(settings.data_dir, settings.landing_dir, settings.warehouse, ids) == []
    dropped = {t: ingest_filter.DROPPED[t] for t in ingest_filter.DROPPED}
    assert dropped == {
        "customers": 2,  # the truncated line and the bad value
        "clients": 1,
        "events": 2,  # by e-mail and by the erased visitor id
        "event_signups": 2,  # the CSV sheet (phone) and the workbook (e-mail)
        "loyalty_cards": 1,
        "receipts": 1,  # by the erased card
    }
