"""Requests recorded with hashed identifiers (CLI and landing drop), processed by the
Dagster asset, overdue ones failing the check; the access export equals the warehouse."""

from __future__ import annotations

import datetime as dt
import json
import stat

import dagster as dg
import duckdb
import pytest

from cli.main import main
from orchestration.privacy.assets import privacy_requests
from orchestration.privacy.checks import privacy_requests_on_time
from orchestration.shared.resources import WarehouseResource
from privacy import export, requests, suppression
from privacy.subjects import Subject
from tests.privacy.person_warehouse import JEAN, MARIE, build


@pytest.fixture
def warehouse(settings):
    with duckdb.connect(str(settings.warehouse)) as con:
        build(con)
    return settings.warehouse


def _all_text(con) -> str:
    """Every value of every table, as one text (to look for identifiers)."""
    out = []
    for schema, table in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables"
    ).fetchall():
        out.append(con.execute(f'SELECT * FROM "{schema}"."{table}"').df().to_csv())
    return "\n".join(out)


def _materialize(db):
    return dg.materialize(
        [privacy_requests, privacy_requests_on_time],
        resources={"warehouse": WarehouseResource(path=str(db))},
    )


def test_landing_drop_recorded_hashed_processed_and_deleted(settings, warehouse):
    folder = settings.landing_dir / "privacy_requests"
    folder.mkdir(parents=True)
    (folder / "desk_2026-11-02.csv").write_text(
        "kind,email,phone,person_id,received_at\n"
        f"access,{MARIE['email'].upper()},,,2026-11-01T09:00:00Z\n"
        f"suppress,,06 98 76 54 32,,\n"
        "erase-everything,not-an-email,,,\n"
    )
    result = _materialize(warehouse)
    assert result.success
    assert not (folder / "desk_2026-11-02.csv").exists()  # identifiers in clear: gone
    with duckdb.connect(str(warehouse)) as con:
        rows = con.execute(
            "SELECT kind, status, received_at, due_at, steps, note FROM privacy.requests "
            "ORDER BY source"
        ).fetchall()
        held = con.execute("SELECT identifier_kind FROM privacy.suppressions").fetchall()
        privacy_text = con.execute("SELECT * FROM privacy.requests").df().to_csv()
    (access, a_status, received, due, steps, _), (suppress, s_status, *_), bad = rows
    assert (access, a_status, suppress, s_status) == ("access", "done", "suppress", "done")
    assert due - received == dt.timedelta(days=30)
    assert received == dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
    assert "1 person(s)" in json.loads(steps)["export"]["detail"]
    assert bad[1] == "rejected" and "kind must be one of" in bad[5]
    assert held == [("phone",)]
    for value in ("marie", "dupont", "98 76", "+33698765432", "not-an-email"):
        assert value not in privacy_text.lower()
    [export_file] = (settings.data_dir / "privacy" / "exports").glob("*.json")
    assert stat.S_IMODE(export_file.stat().st_mode) == 0o600
    assert json.loads(export_file.read_text())["persons"] == ["P1"]


def test_overdue_request_fails_the_check(settings, warehouse):
    with duckdb.connect(str(warehouse)) as con:
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=31)
        requests.record(con, "access", Subject.from_values(email=JEAN["email"]), "cli", old)
        con.execute("UPDATE privacy.requests SET status = 'failed'")  # still open
        assert len(requests.overdue(con)) == 1
    ctx_result = privacy_requests_on_time(WarehouseResource(path=str(warehouse)))
    assert not ctx_result.passed and ctx_result.metadata["overdue"].value == 1


def test_access_export_holds_what_the_warehouse_holds(settings, warehouse, tmp_path):
    out = tmp_path / "marie.json"
    assert main(["privacy", "export", "--phone", "06 12 34 56 78", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["persons"] == ["P1"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in export.person_tables(con):
            expected = con.execute(
                f"SELECT * FROM {table} WHERE person_id = 'P1' ORDER BY ALL"
            ).df()
            got = sorted(data["tables"][table], key=lambda r: json.dumps(r, sort_keys=True))
            want = sorted(
                json.loads(expected.to_json(orient="records")),
                key=lambda r: json.dumps(r, sort_keys=True),
            )
            assert got == want, table
        assert {r["record_id"] for r in data["source_records"]} == {
            "shop_customer:1",
            "pos_card:9",
        }
        assert [r["key"] for r in data["deliveries"]["activation.sync_state"]] == [MARIE["email"]]
        assert data["tables"]["ml.churn_scores"][0]["model_version"] == "churn-20260101-abc"
        status = con.execute("SELECT kind, status FROM privacy.requests").fetchall()
    assert status == [("access", "done")]
    assert "jean" not in out.read_text().lower()


def test_suppress_then_unsuppress(settings, warehouse):
    with duckdb.connect(str(warehouse)) as con:
        subject = Subject.from_values(email=MARIE["email"], phone=MARIE["phone"])
        assert suppression.add(con, subject, "r1") == 2
        assert suppression.add(con, subject, "r2") == 0
        assert suppression.remove(con, Subject.from_values(phone="0612345678")) == 1
        assert suppression.count(con) == 1


def test_salt_is_required(monkeypatch):
    monkeypatch.delenv("CDP_PRIVACY_SALT")
    with pytest.raises(RuntimeError, match="CDP_PRIVACY_SALT"):
        Subject.from_values(email=MARIE["email"])
