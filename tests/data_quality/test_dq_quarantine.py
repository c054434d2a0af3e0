"""Quarantine rules: set-based, idempotent per load, ingestion rejects surfaced, bad SQL reported."""

from __future__ import annotations

import json

import duckdb

from data_quality import quarantine
from data_quality.config import load_config, parse_config
from tests.data_quality.dq_fixtures import LOAD_ID, NOW, make_raw_shop


def _rows(con):
    return con.execute(
        "SELECT table_name, rule, row_id, severity, source_file, load_id "
        "FROM quality.quarantine_rows ORDER BY table_name, rule, row_id"
    ).fetchall()


def test_rules_quarantine_violating_rows_with_reason_and_record(warehouse):
    with duckdb.connect(str(warehouse)) as con:
        make_raw_shop(con, bad=True)
        report = quarantine.run_quarantine(con, load_config(), now=NOW)
        rows = _rows(con)
        record = con.execute(
            "SELECT reason, raw_record FROM quality.quarantine_rows WHERE rule = 'negative_amount'"
        ).fetchone()
    assert not report.errors
    assert ("orders", "negative_amount", "o13", "error", "orders_2026-10.jsonl", LOAD_ID) in rows
    assert ("orders", "future_date", "o14", "error", "orders_2026-10.jsonl", LOAD_ID) in rows
    assert ("customers", "future_date", "c5", "error", "customers_2026-10.jsonl", LOAD_ID) in rows
    assert ("customers", "missing_email", "c5", "warn", "customers_2026-10.jsonl", LOAD_ID) in rows
    assert ("customers", "invalid_email", "c4", "warn", "customers_2026-10.jsonl", LOAD_ID) in rows
    assert len(rows) == 5  # good rows are not quarantined
    assert "negative" in record[0]
    assert json.loads(record[1])["grand_total"] == -10.0
    assert report.by_table()["raw_shop.orders"] == 2
    assert report.total == 5 and report.new == 5


def test_rerun_is_idempotent_and_replaced_rows_drop_out(warehouse):
    config = load_config()
    with duckdb.connect(str(warehouse)) as con:
        make_raw_shop(con, bad=True)
        quarantine.run_quarantine(con, config, now=NOW)
        first = _rows(con)
        again = quarantine.run_quarantine(con, config, now=NOW)
        assert _rows(con) == first and again.new == 0 and again.total == 5
        # a later load fixes order 13 (merge replaces the row, new _dlt_id)
        con.execute(
            "UPDATE raw_shop.orders SET grand_total = 10, _dlt_id = 'o13b' WHERE entity_id = 13"
        )
        quarantine.run_quarantine(con, config, now=NOW)
        rows = _rows(con)
    assert not [r for r in rows if r[2] in ("o13", "o13b")]
    assert len(rows) == 4


def test_ingestion_rejected_rows_are_listed_with_the_rest(warehouse):
    with duckdb.connect(str(warehouse)) as con:
        make_raw_shop(con, bad=False)
        con.execute(
            "CREATE TABLE raw_shop.rejected_rows AS SELECT * FROM (VALUES "
            "('orders', 'orders_2026-10.jsonl', 7, '{\"entity_id\": 5, \"email\": \"a.b@x.fr\"', "
            "'unparsable JSON line: missing }', '1700000000.1', 'r1'), "
            "('customers', 'customers_2026-11.jsonl', NULL, NULL, 'empty file', '1700000000.1', 'r2'))"
            " t(table_name, source_file, line_number, raw_record, reason, _dlt_load_id, _dlt_id)"
        )
        quarantine.run_quarantine(con, load_config(), now=NOW)
        quarantine.run_quarantine(con, load_config(), now=NOW)
        counts = quarantine.counts(con, source="shop", rule="ingestion_rejected")
        samples = quarantine.samples(con, source="raw_shop", rule="ingestion_rejected")
    assert sorted(zip(counts["table_name"], counts["rows"], strict=True)) == [
        ("customers", 1),
        ("orders", 1),
    ]
    orders = next(s for s in samples if s["table_name"] == "orders")
    assert orders["source_file"] == "orders_2026-10.jsonl"
    assert orders["raw_record"]["line_number"] == 7
    assert "a.b@x.fr" not in json.dumps(orders["raw_record"])  # masked in the listing
    assert "a***@x.fr" in orders["raw_record"]["raw_record"]


def test_broken_rule_is_reported_and_others_still_run(warehouse):
    config = parse_config(
        {
            "quarantine": {
                "raw_shop.orders": [
                    {"rule": "broken", "where": "no_such_column > 0", "reason": "typo"},
                    {"rule": "negative_amount", "where": "grand_total < 0", "reason": "neg"},
                ],
                "raw_pos.receipts": [{"rule": "x", "where": "true", "reason": "not loaded"}],
            }
        }
    )
    with duckdb.connect(str(warehouse)) as con:
        make_raw_shop(con, bad=True)
        report = quarantine.run_quarantine(con, config, now=NOW)
    [err] = report.errors
    assert "'broken' on raw_shop.orders" in err.error and "no_such_column" in err.error
    assert report.by_rule()["raw_shop.orders:negative_amount"] == 1
    assert report.missing_tables == ["raw_pos.receipts"]
