"""The bad-input corpus, one kind per case, through ingestion and the quarantine.

Every case asserts the three things an operator relies on: the good rows are loaded, every
bad row (or file) is reported with its file, line, column and reason and is quarantined, and
no consent statement vanishes (each line of a consent file is either loaded or reported).
Text cases are stored under tests/fixtures/bad_inputs/<case>/, the xlsx, Parquet and SQLite
ones are written by tests/fixtures/bad_inputs/make_binary.py, and what each case must give is
declared in tests/fixtures/bad_inputs/cases.yaml. The older cases of the corpus
(truncated file, wrong delimiter, ...) are in test_bad_inputs.py.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
import yaml

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


def _case(entry: dict) -> Case:
    return Case(
        entry["name"],
        entry["format"],
        entry["loaded"],
        tuple(tuple(r) for r in entry.get("rejects", ())),
        tuple(tuple(q) for q in entry.get("quarantined", ())),
        tuple((v["sql"], [tuple(r) for r in v["rows"]]) for v in entry.get("values", ())),
    )


#: the cases and what each must load, report and quarantine, declared in cases.yaml
CASES = tuple(_case(e) for e in yaml.safe_load((CORPUS / "cases.yaml").read_text("utf-8")))


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
