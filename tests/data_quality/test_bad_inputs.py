"""The corpus of bad inputs (tests/fixtures/bad_inputs) through ingestion, quarantine and checks.

For every case: the problem is reported with the file name and what is wrong (a rejected row,
a quarantine row or a failed expectation), the good rows are loaded, and bad rows never pass
silently. The last test materialises a tiny graph in-process: a blocking check that fails
stops the downstream asset.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from cdp.settings import get_settings
from data_quality.config import load_config
from data_quality.quarantine import counts, run_quarantine, samples
from data_quality.runner import SuiteResult, run_suites
from data_quality.suites import all_suites
from ingestion.pipeline import run_all, run_source
from orchestration.quality.checks import QualityGXResource, build_suite_check
from orchestration.shared.resources import WarehouseResource
from tests.fixtures.bad_inputs.make_generated import write_generated

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad_inputs"
SUITES = {s.name: s for s in all_suites()}


@dataclass
class Loaded:
    con: duckdb.DuckDBPyConnection
    report: dict
    results: dict[str, SuiteResult]

    def count(self, table: str) -> int:
        return self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]

    def rejected(self, schema: str) -> list[tuple]:
        return self.con.execute(
            f"SELECT table_name, source_file, line_number, reason FROM {schema}.rejected_rows "
            "ORDER BY source_file, line_number"
        ).fetchall()

    def quarantined(self, rule: str | None = None) -> list[tuple]:
        return self.con.execute(
            "SELECT schema_name, table_name, rule, severity, source_file, "
            "json_extract(raw_record, '$.entity_id')::VARCHAR, reason "
            "FROM quality.quarantine_rows WHERE $rule IS NULL OR rule = $rule ORDER BY ALL",
            {"rule": rule},
        ).fetchall()

    def expectation(self, asset: str, check_id: str):
        return next(r for r in self.results[asset].results if r.check_id == check_id)

    def errors(self, asset: str) -> list[str]:
        return [r.check_id for r in self.results[asset].error_failures]


@pytest.fixture
def load_case(cdp_env, tmp_path):
    opened = []

    def _load(case: str) -> Loaded:
        source_dir = CORPUS / case
        if not source_dir.exists():
            write_generated(tmp_path / "generated")
            source_dir = tmp_path / "generated" / case
        settings = get_settings()
        shutil.copytree(source_dir, settings.landing_dir)
        sources = sorted(p.name for p in settings.landing_dir.iterdir())
        report = run_all(settings, sources=sources)
        con = duckdb.connect(str(settings.warehouse))
        opened.append(con)
        run_quarantine(con, load_config())
        tables = {
            f"{s}.{t}"
            for s, t in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
            ).fetchall()
        }
        results = run_suites(
            con, [SUITES[t] for t in sorted(tables) if t in SUITES], data_docs=False
        )
        return Loaded(con, report, {r.asset: r for r in results})

    yield _load
    for con in opened:
        con.close()


def test_truncated_file(load_case):
    case = load_case("truncated_file")
    assert case.count("raw_shop.orders") == 2 and case.count("raw_shop.orders__items") == 2
    [(table, file, line, reason)] = case.rejected("raw_shop")
    assert (table, file, line) == ("orders", "orders_2026-01.jsonl", 3)
    assert "unparsable JSON line" in reason
    assert [(q[1], q[2], q[4]) for q in case.quarantined()] == [
        ("orders", "ingestion_rejected", "orders_2026-01.jsonl")
    ]
    rejected = case.expectation("raw_shop.orders", "rejected_rows")
    assert not rejected.success and rejected.severity == "warn"
    assert rejected.failing_rows[0]["source_file"] == "orders_2026-01.jsonl"
    assert case.errors("raw_shop.orders") == []  # the good rows pass every error check


def test_wrong_encoding(load_case):
    """A Latin-1 file where UTF-8 is declared: the encoding is detected and the file loads."""
    case = load_case("wrong_encoding")
    assert case.count("raw_clienteling.clients") == 4
    assert not case.con.execute(
        "SELECT 1 FROM information_schema.tables "
        "WHERE table_schema = 'raw_clienteling' AND table_name = 'rejected_rows'"
    ).fetchall()
    names = case.con.execute(
        "SELECT first_name FROM raw_clienteling.clients WHERE client_id = 'CL-0000004'"
    ).fetchall()
    assert names == [("François",)]
    assert counts(case.con, source="clienteling").empty


def test_wrong_delimiter(load_case):
    case = load_case("wrong_delimiter")
    assert case.count("raw_clienteling.clients") == 2
    [(table, file, _line, reason)] = case.rejected("raw_clienteling")
    assert (table, file) == ("clients", "clients_2026-02.csv")
    assert "client_id" in reason and "not found" in reason


def test_wrong_delimiter_message_names_the_delimiter(load_case):
    case = load_case("wrong_delimiter")
    [(_, _, _, reason)] = case.rejected("raw_clienteling")
    assert "delimiter" in reason


def test_missing_columns(load_case):
    case = load_case("missing_columns")
    assert case.count("raw_catalog.products") == 2
    schema = case.expectation("raw_catalog.products", "required_columns_present")
    assert not schema.success and schema.severity == "error"
    assert schema.observed_value == ["cost", "price"]
    price = case.expectation("raw_catalog.products", "price_non_negative")
    assert not price.success and "missing column(s) price" in price.message


def test_missing_columns_reported_by_ingestion(load_case):
    case = load_case("missing_columns")
    reasons = [r[3] for r in case.rejected("raw_catalog")]
    assert any(
        "price" in r and "products.csv" in str(case.rejected("raw_catalog")) for r in reasons
    )


def test_extra_columns(load_case):
    case = load_case("extra_columns")
    assert case.count("raw_catalog.products") == 2
    columns = [
        r[0]
        for r in case.con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'raw_catalog' AND table_name = 'products'"
        ).fetchall()
    ]
    assert "loyalty_tier" in columns  # schema evolution keeps the new column
    assert case.expectation("raw_catalog.products", "required_columns_present").success
    assert case.errors("raw_catalog.products") == []


def test_wrong_types(load_case):
    case = load_case("wrong_types")
    loaded = case.con.execute("SELECT sku FROM raw_catalog.products ORDER BY sku").fetchall()
    assert loaded == [("HZ-BAG-0001",), ("HZ-BAG-0004",)]
    rows = case.rejected("raw_catalog")
    assert [(r[1], r[2]) for r in rows] == [("products.csv", 3), ("products.csv", 4)]
    # the reason names the column and the shape of the value, never the value (personal data)
    assert "column price: cannot read a 11-character text of letters as" in rows[0][3]
    assert "column stock_qty: cannot read a 4-character text of letters as" in rows[1][3]
    assert "douze" not in rows[0][3] and "many" not in rows[1][3]
    assert len(case.quarantined("ingestion_rejected")) == 2


def test_duplicate_keys(load_case):
    case = load_case("duplicate_keys")
    assert case.count("raw_catalog.products") == 3  # merged on the primary key
    assert case.expectation("raw_catalog.products", "sku_unique").success


def test_duplicate_keys_superseded_row_is_recorded(load_case):
    case = load_case("duplicate_keys")
    assert any("duplicate" in r[3] for r in case.rejected("raw_catalog"))


def test_dates_in_the_future(load_case):
    case = load_case("future_dates")
    assert case.count("raw_shop.orders") == 2
    assert case.quarantined("future_date") == [
        (
            "raw_shop",
            "orders",
            "future_date",
            "error",
            "orders_2026-01.jsonl",
            "2",
            "created_at is in the future",
        )
    ]
    future = case.expectation("raw_shop.orders", "created_at_not_in_future")
    assert not future.success and future.severity == "error"
    assert future.failing_rows[0]["entity_id"] == 2


def test_negative_amounts(load_case):
    case = load_case("negative_amounts")
    assert case.count("raw_shop.orders") == 2
    [row] = case.quarantined("negative_amount")
    assert row[:6] == (
        "raw_shop",
        "orders",
        "negative_amount",
        "error",
        "orders_2026-01.jsonl",
        "2",
    )
    total = case.expectation("raw_shop.orders", "grand_total_non_negative")
    assert not total.success and total.failing_rows == [{"entity_id": 2, "grand_total": -50.0}]
    [sample] = samples(case.con, source="shop", rule="negative_amount")
    assert sample["raw_record"]["customer_email"] == "c***@example.com"  # masked listing


def test_empty_file(load_case):
    case = load_case("empty_file")
    assert case.count("raw_shop.customers") == 2
    assert case.rejected("raw_shop") == [
        ("customers", "customers_2026-02.jsonl", None, "unreadable file: empty file")
    ]
    assert not case.expectation("raw_shop.customers", "rejected_rows").success


def test_very_long_line(load_case):
    case = load_case("very_long_line")
    loaded = case.con.execute(
        "SELECT event_id FROM raw_consent.consent_events ORDER BY 1"
    ).fetchall()
    assert loaded == [("CE-000001",), ("CE-000003",)]
    [(table, file, line, reason)] = case.rejected("raw_consent")
    assert (table, file, line) == ("consent_events", "consent_events_2026-01.jsonl", 2)
    assert "block" in reason


def test_json_lines_that_are_not_json(load_case):
    case = load_case("not_json")
    assert case.count("raw_consent.consent_events") == 3
    rows = case.rejected("raw_consent")
    assert [(r[1], r[2]) for r in rows] == [
        ("consent_events_2026-01.jsonl", 3),
        ("consent_events_2026-01.jsonl", 4),
    ]
    assert all("unparsable JSON line" in r[3] for r in rows)
    assert case.errors("raw_consent.consent_events") == []


def test_excel_with_merged_header_cells(load_case):
    case = load_case("excel_merged_header")
    rows = case.con.execute(
        "SELECT last_name, email, event_name, event_date FROM raw_spreadsheets.event_signups "
        "ORDER BY source_row"
    ).fetchall()
    assert [r[0] for r in rows] == ["Dupont", "Martin", "Bernard"]
    assert all(r[2] == "Vente privée" and r[3] for r in rows)
    assert case.errors("raw_spreadsheets.event_signups") == []
    # the sign-up without e-mail is flagged (warn) but kept
    [row] = case.quarantined("no_contact") or [None]
    assert row is None  # Bernard has a phone: no quarantine


def test_blocking_check_on_bad_load_stops_downstream(cdp_env, tmp_path):
    """Ingest the negative-amount orders in-process; the blocking check stops staging."""
    settings = get_settings()
    shutil.copytree(CORPUS / "negative_amounts", settings.landing_dir)
    orders_key = dg.AssetKey(["raw_shop", "orders"])
    staging_key = dg.AssetKey(["staging", "stg_shop__orders"])
    marker = tmp_path / "staging_ran"

    @dg.asset(key=orders_key)
    def raw_orders() -> None:
        run_source("shop", settings)

    @dg.asset(key=staging_key, deps=[orders_key])
    def stg_orders() -> None:
        marker.write_text("ran")

    check = build_suite_check(SUITES["raw_shop.orders"], blocking=True)
    result = dg.materialize(
        [raw_orders, stg_orders, check],
        resources={
            "warehouse": WarehouseResource(path=str(settings.warehouse)),
            "quality_gx": QualityGXResource(),
        },
        raise_on_error=False,
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "grand_total_non_negative" in evaluation.metadata["failing_expectations"].value
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert orders_key in materialized and staging_key not in materialized
    assert not marker.exists()
