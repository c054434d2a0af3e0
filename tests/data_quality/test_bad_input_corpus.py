"""The bad-input corpus, one kind per case, through ingestion and the quarantine.

Every case asserts the three things an operator relies on: the good rows are loaded, every
bad row (or file) is reported with its file, line, column and reason and is quarantined, and
no consent statement vanishes (each line of a consent file is either loaded or reported).
Text cases are stored under tests/fixtures/bad_inputs/<case>/; the xlsx, Parquet and SQLite
ones are written by tests/fixtures/bad_inputs/make_binary.py. The older cases of the corpus
(truncated file, wrong delimiter, ...) are in test_bad_inputs.py.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from cdp.settings import get_settings
from data_quality.config import load_config
from data_quality.quarantine import run_quarantine
from ingestion.pipeline import run_all
from tests.fixtures.bad_inputs.make_generated import write_generated

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad_inputs"

Reject = tuple[str, int | None, str | None, str, str]  # file, line, column, reason part, severity


@dataclass(frozen=True)
class Case:
    name: str
    source_format: str
    loaded: dict[str, int]
    rejects: tuple[Reject, ...] = ()
    quarantined: tuple[tuple[str, str, str], ...] = ()  # (table, rule, severity), besides rejects
    values: tuple[tuple[str, list[tuple]], ...] = field(default=())


CASES = (
    Case(
        "invalid_utf8_json",
        "jsonl",
        {"raw_shop.customers": 2, "raw_shop.customers__addresses": 2},
        (("customers_2026-01.jsonl", 2, None, "invalid UTF-8 byte 0xff", "error"),),
    ),
    Case("bom_json", "jsonl", {"raw_consent.consent_events": 2}),
    Case(
        "control_characters_json",
        "jsonl",
        {"raw_shop.customers": 3},
        (("customers_2026-01.jsonl", None, None, "control characters stripped: 2", "warn"),),
        values=(
            (
                "select firstname, lastname from raw_shop.customers where entity_id < 3 order by 1",
                [("Marie", "Dupont"), ("Marie", "Martin")],
            ),
        ),
    ),
    Case(
        "unclosed_quote_csv",
        "csv",
        {"raw_clienteling.clients": 2},
        (
            (
                "clients_2026-01.csv",
                4,
                None,
                "unclosed quote swallows 5 following line(s)",
                "error",
            ),
            *(
                (
                    "clients_2026-01.csv",
                    n,
                    None,
                    "swallowed by an unclosed quote opened on line 4",
                    "error",
                )
                for n in range(5, 10)
            ),
        ),
    ),
    Case(
        "utf8_bom_resaved_csv",
        "latin-1 csv",
        {"raw_spreadsheets.event_signups": 2},
        values=(
            (
                "select last_name, first_name from raw_spreadsheets.event_signups order by 1",
                [("Léger", "Hélène"), ("Noël", "Zoé")],
            ),
        ),
    ),
    Case(
        "cp1252_csv",
        "csv",
        {"raw_service.tickets": 2},
        values=(
            (
                "select subject from raw_service.tickets where ticket_id = 'T-000001'",
                [("Remboursement de 50 € – l’article",)],
            ),
        ),
    ),
    Case(
        "latin1_declared_utf8_csv",
        "latin-1 csv",
        {"raw_clienteling.clients": 2},
        values=(
            (
                "select first_name from raw_clienteling.clients order by client_id",
                [("Hélène",), ("Zoé",)],
            ),
        ),
    ),
    Case(
        "null_tokens_csv",
        "csv",
        {"raw_clienteling.clients": 2},
        values=(
            (
                "select postcode, city, country from raw_clienteling.clients order by client_id",
                [(None, None, "NA"), (None, None, "FR")],
            ),
        ),
    ),
    Case(
        "header_mojibake_csv",
        "latin-1 csv",
        {},
        (("salon_2026.csv", None, None, "looks like UTF-8 shown as Latin-1", "error"),),
    ),
    Case(
        "invalid_byte_csv",
        "csv",
        {"raw_service.tickets": 2},
        (
            (
                "tickets_2026-01.csv",
                3,
                "requester_name",
                "not valid in the file's encoding",
                "error",
            ),
        ),
    ),
    Case(
        "control_characters_csv",
        "csv",
        {"raw_catalog.products": 2},
        (("products.csv", None, None, "control characters stripped: 2 (name 2)", "warn"),),
        values=(
            ("select name from raw_catalog.products order by sku", [("Sac Cabas",), ("Pochette",)]),
        ),
    ),
    Case(
        "consent_variants",
        "jsonl",
        {"raw_consent.consent_events": 4},
    ),
    Case(
        "consent_unreadable",
        "jsonl",
        {"raw_consent.consent_events": 4},
        quarantined=(("consent_events", "unreadable_consent", "warn"),) * 3,
    ),
    Case(
        "absurd_amount",
        "jsonl",
        {"raw_shop.orders": 3},
        quarantined=(("orders", "absurd_amount", "error"),),
    ),
    Case(
        "xlsx_formulas",
        "xlsx",
        {"raw_spreadsheets.event_signups": 2},
        (("salon.xlsx", None, None, "2 formula cell(s) read as their cached value", "warn"),),
        values=(
            (
                "select event_name, event_date from raw_spreadsheets.event_signups order by 1",
                [("SALON", "01/04/2026"), ("Salon", "01/04/2026")],
            ),
        ),
    ),
    Case(
        "xlsx_formula_without_value",
        "xlsx",
        {"raw_spreadsheets.event_signups": 1},
        (("salon.xlsx", 3, None, "formula in I3 has no cached value", "error"),),
    ),
    Case(
        "xlsx_sheets",
        "xlsx",
        {"raw_spreadsheets.event_signups": 3},
        (("evenements.xlsx", None, None, "sheet Notes: no header row, not read", "warn"),),
        values=(
            (
                "select source_file, source_row, event_name from raw_spreadsheets.event_signups "
                "order by 1, 2",
                [
                    ("evenements.xlsx", 1, "Salon"),
                    ("evenements.xlsx!Vente", 1, "Vente privée"),
                    ("evenements.xlsx!Vente", 2, "Vente privée"),
                ],
            ),
        ),
    ),
    Case(
        "xlsx_merged_cells",
        "xlsx",
        {"raw_spreadsheets.event_signups": 3},
        (
            ("salon.xlsx", None, None, "1 merged range(s) copied to every row", "warn"),
            ("salon.xlsx", 5, None, "merged cells A5:B6", "error"),
            ("salon.xlsx", 6, None, "merged cells A5:B6", "error"),
        ),
        values=(
            (
                "select distinct event_name from raw_spreadsheets.event_signups",
                [("Salon",)],
            ),
        ),
    ),
    Case(
        "parquet_type_change",
        "parquet",
        {"raw_web.events": 4},
        (("events_2026-02.parquet", 2, "visits", "4-character text of letters", "error"),),
        values=(
            (
                "select event_id, visits from raw_web.events order by 1",
                [("W000010", 1), ("W000011", 2), ("W000020", 3), ("W000022", None)],
            ),
        ),
    ),
    Case(
        "parquet_invalid_utf8",
        "parquet",
        {"raw_web.events": 2},
        (("events_2026-01.parquet", 2, "page_url", "not valid in the file's encoding", "error"),),
    ),
    Case(
        "parquet_missing_key",
        "parquet",
        {"raw_web.events": 2},
        (("events_2026-01.parquet", 2, "event_id", "missing primary key event_id", "error"),),
    ),
    Case(
        "sqlite_text_in_real",
        "sqlite",
        {"raw_pos.receipts": 2},
        (("pos.sqlite", 2, "total_amount", "text value '12,50' in a double column", "error"),),
    ),
    Case("sqlite_null_cursor", "sqlite", {"raw_pos.receipts": 3}),
    Case(
        "sqlite_blob_in_text",
        "sqlite",
        {"raw_pos.receipts": 2},
        (("pos.sqlite", 2, "store_id", "blob value", "error"),),
    ),
    Case(
        "sqlite_absurd_receipt",
        "sqlite",
        {"raw_pos.receipts": 4},
        quarantined=(("receipts", "absurd_amount", "error"),),
    ),
    # the first cases of the corpus; test_bad_inputs.py checks their expectations further
    Case(
        "truncated_file",
        "jsonl",
        {"raw_shop.orders": 2, "raw_shop.orders__items": 2, "raw_shop.customers": 3},
        (("orders_2026-01.jsonl", 3, None, "unparsable JSON line", "error"),),
    ),
    Case(
        "not_json",
        "jsonl",
        {"raw_consent.consent_events": 3},
        (
            ("consent_events_2026-01.jsonl", 3, None, "unparsable JSON line", "error"),
            ("consent_events_2026-01.jsonl", 4, None, "unparsable JSON line", "error"),
        ),
    ),
    Case(
        "very_long_line",
        "jsonl",
        {"raw_consent.consent_events": 2},
        (("consent_events_2026-01.jsonl", 2, None, "block", "error"),),
    ),
    Case(
        "empty_file",
        "jsonl",
        {"raw_shop.customers": 2},
        (("customers_2026-02.jsonl", None, None, "unreadable file: empty file", "error"),),
    ),
    Case(
        "future_dates",
        "jsonl",
        {"raw_shop.orders": 2},
        quarantined=(("orders", "future_date", "error"),),
    ),
    Case(
        "negative_amounts",
        "jsonl",
        {"raw_shop.orders": 2},
        quarantined=(("orders", "negative_amount", "error"),),
    ),
    Case(
        "wrong_encoding",
        "latin-1 csv",
        {"raw_clienteling.clients": 4},
        values=(
            (
                "select first_name from raw_clienteling.clients where client_id = 'CL-0000004'",
                [("François",)],
            ),
        ),
    ),
    Case(
        "wrong_delimiter",
        "csv",
        {"raw_clienteling.clients": 2},
        (("clients_2026-02.csv", None, None, "wrong delimiter? (configured ',')", "error"),),
    ),
    Case(
        "missing_columns",
        "csv",
        {"raw_catalog.products": 2},
        (("products.csv", None, "price, cost", "missing column(s) price, cost", "warn"),),
    ),
    Case("extra_columns", "csv", {"raw_catalog.products": 2}),
    Case(
        "wrong_types",
        "csv",
        {"raw_catalog.products": 2},
        (
            ("products.csv", 3, "price", "cannot read a 11-character text of letters", "error"),
            ("products.csv", 4, "stock_qty", "cannot read a 4-character text of letters", "error"),
        ),
    ),
    Case(
        "duplicate_keys",
        "csv",
        {"raw_catalog.products": 3},
        (("products.csv", 3, None, "duplicate primary key sku=HZ-BAG-0002", "error"),),
    ),
    Case(
        "excel_merged_header",
        "xlsx",
        {"raw_spreadsheets.event_signups": 3},
        values=(
            (
                "select last_name from raw_spreadsheets.event_signups order by source_row",
                [("Dupont",), ("Martin",), ("Bernard",)],
            ),
        ),
    ),
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated_bad_inputs")
    write_generated(root)
    return root


def _landing(case: str, generated: Path) -> Path:
    stored = CORPUS / case
    return stored if stored.exists() else generated / case


def _rejects(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    schemas = [
        r[0]
        for r in con.execute(
            "select table_schema from information_schema.tables "
            "where table_name = 'rejected_rows' and table_schema like 'raw_%'"
        ).fetchall()
    ]
    rows: list[tuple] = []
    for schema in schemas:
        rows += con.execute(
            f"select source_file, line_number, column_name, reason, severity "
            f"from {schema}.rejected_rows"
        ).fetchall()
    return sorted(rows, key=lambda r: (r[0], r[1] or 0, r[3]))


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchall()[0][0]


def assert_no_consent_statement_vanished(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    """Every line of every consent file is loaded or reported, never silently dropped."""
    files = sorted((landing / "consent").glob("*.jsonl")) if (landing / "consent").exists() else []
    if not files:
        return
    loaded = {
        r[0] for r in con.execute("select event_id from raw_consent.consent_events").fetchall()
    }
    reported = set(
        con.execute("select source_file, line_number from raw_consent.rejected_rows").fetchall()
        if _exists(con, "raw_consent", "rejected_rows")
        else []
    )
    for path in files:
        for number, line in enumerate(path.read_bytes().split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                event_id = json.loads(line.decode("utf-8-sig"))["event_id"]
            except (ValueError, KeyError, TypeError):
                event_id = None
            assert event_id in loaded or (path.name, number) in reported, (path.name, number)


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input(case: Case, cdp_env: Path, generated: Path) -> None:
    settings = get_settings()
    landing = _landing(case.name, generated)
    shutil.copytree(landing, settings.landing_dir)
    sources = sorted(p.name for p in settings.landing_dir.iterdir())
    report = run_all(settings, sources=sources)
    assert report["errors"] == {}  # a bad value never fails a source

    with duckdb.connect(str(settings.warehouse)) as con:
        run_quarantine(con, load_config())
        for table, rows in case.loaded.items():
            assert _count(con, table) == rows, table
        found = _rejects(con)
        assert len(found) == len(case.rejects), found
        for expected, row in zip(
            sorted(case.rejects, key=lambda r: (r[0], r[1] or 0, r[3])), found, strict=True
        ):
            file, line, column, reason, severity = expected
            assert row[0] == file and row[1] == line and row[4] == severity, row
            assert column is None or row[2] == column, row
            assert reason in row[3], row
        quarantined = con.execute(
            "select table_name, rule, severity, source_file from quality.quarantine_rows "
            "order by all"
        ).fetchall()
        # every rejected row (and note) is in the quarantine with its file and severity
        rejected = [q for q in quarantined if q[1] == "ingestion_rejected"]
        assert sorted(q[2] for q in rejected) == sorted(r[4] for r in case.rejects)
        assert all(q[3] for q in rejected)
        ruled = [q[:3] for q in quarantined if q[1] != "ingestion_rejected"]
        assert sorted(ruled) == sorted(case.quarantined), ruled
        for sql, rows in case.values:
            assert con.execute(sql).fetchall() == rows, sql
        assert_no_consent_statement_vanished(con, settings.landing_dir)


def test_corpus_covers_every_source_format(generated: Path) -> None:
    """At least 30 kinds, every source format, and every stored or generated case run here."""
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)) >= 30
    formats = {c.source_format for c in CASES}
    assert formats == {"jsonl", "csv", "latin-1 csv", "xlsx", "parquet", "sqlite"}
    on_disk = {p.name for root in (CORPUS, generated) for p in root.iterdir() if p.is_dir()}
    assert on_disk - {"__pycache__"} == set(names)
