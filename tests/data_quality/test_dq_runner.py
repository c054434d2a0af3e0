"""The runner on tiny DuckDB tables: every kind of check detects what it is meant to."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import yaml

from data_quality import history
from data_quality.config import default_config_path, load_config, parse_config
from data_quality.runner import run_suites
from data_quality.suites import get_suite
from tests.data_quality.dq_fixtures import NOW, make_marts, make_raw_shop

SHOP = ["raw_shop.customers", "raw_shop.orders", "raw_shop.orders__items"]


def _by_id(result):
    return {r.check_id: r for r in result.results}


def _run(con, names, tmp_path, **kw):
    return run_suites(
        con,
        [get_suite(n) for n in names],
        config=kw.pop("config", load_config()),
        now=kw.pop("now", NOW),
        gx_root=tmp_path / "quality",
        **kw,
    )


def test_clean_tables_pass(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        make_raw_shop(con, bad=False)
        make_marts(con)
        results = _run(con, [*SHOP, "marts.customer_360"], tmp_path)
    for result in results:
        assert result.status == "pass", [
            (f.check_id, f.observed_value, f.message) for f in result.failures
        ]


def test_planted_problems_are_found_with_masked_samples(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        make_raw_shop(con, bad=True)
        customers, orders, items = _run(con, SHOP, tmp_path)

    c = _by_id(customers)
    assert not c["entity_id_unique"].success and c["entity_id_unique"].severity == "error"
    assert c["entity_id_unique"].unexpected_count == 2
    assert {r["entity_id"] for r in c["entity_id_unique"].failing_rows} == {3}
    assert not c["email_email_format"].success and c["email_email_format"].severity == "warn"
    # the offending value is masked in samples
    assert c["email_email_format"].failing_rows[0]["email"] == "n***"
    assert not c["created_at_not_in_future"].success
    assert c["created_at_not_in_future"].failing_rows[0]["entity_id"] == 5
    assert not c["email_null_share"].success  # 1 of 5 > 5 %
    assert c["email_null_share"].observed_value == 0.2
    assert c["updated_at_not_in_future"].success and c["dob_plausible"].success

    o = _by_id(orders)
    assert not o["grand_total_non_negative"].success
    assert o["grand_total_non_negative"].failing_rows == [{"entity_id": 13, "grand_total": -10.0}]
    assert not o["created_at_not_in_future"].success
    fk = o["customer_id_references_customers"]
    assert not fk.success and fk.unexpected_count == 1 and fk.failing_rows == [{"customer_id": 99}]
    assert fk.severity == "warn"  # overridden in config/quality.yaml
    assert o["entity_id_unique"].success

    i = _by_id(items)
    orphan = i["order_entity_id_references_orders"]
    assert not orphan.success and orphan.severity == "error" and orphan.observed_value == 1.0
    assert orphan.failing_rows == [{"order_entity_id": 777}]
    assert customers.status == orders.status == items.status == "error"


#: broken inputs: what builds the tables, the SQL that breaks them, the relation checked
BROKEN = {
    "dropped_column": (
        lambda con: make_raw_shop(con, bad=False),
        "ALTER TABLE raw_shop.orders DROP COLUMN grand_total",
        "raw_shop.orders",
    ),
    "local_phone_and_duplicate_person": (
        lambda con: make_marts(con, duplicate_person=True),
        "UPDATE marts.customer_360 SET phone = '0612345678' WHERE person_id = 'P2'",
        "marts.customer_360",
    ),
}


def _checks_after(warehouse, tmp_path, broken: str) -> dict:
    """The check results by id of the suite run on the BROKEN input `broken`."""
    make, change, relation = BROKEN[broken]
    with duckdb.connect(str(warehouse)) as con:
        make(con)
        con.execute(change)
        [result] = _run(con, [relation], tmp_path)
    return _by_id(result)


def test_missing_column_is_reported_not_crashed(warehouse, tmp_path):
    r = _checks_after(warehouse, tmp_path, "dropped_column")
    assert not r["grand_total_non_negative"].success
    assert "missing column(s) grand_total" in r["grand_total_non_negative"].message
    assert not r["required_columns_present"].success
    assert r["required_columns_present"].observed_value == ["grand_total"]
    assert r["subtotal_non_negative"].success  # the rest still ran


def test_optional_checks_skip_when_column_absent(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        make_marts(con)
        [c360] = _run(con, ["marts.customer_360"], tmp_path)
    ids = _by_id(c360)
    assert "churn_probability_range" not in ids  # ML not landed: skipped, not failed
    assert ids["phone_e164"].success and ids["merged_person_share"].success
    assert ids["merged_person_share"].observed_value == 2 / 3


def test_e164_and_duplicate_person_fail_as_errors(warehouse, tmp_path):
    ids = _checks_after(warehouse, tmp_path, "local_phone_and_duplicate_person")
    assert not ids["person_id_unique"].success
    assert not ids["phone_e164"].success and ids["phone_e164"].severity == "error"
    assert ids["phone_e164"].failing_rows == [{"person_id": "P2", "phone": "********78"}]


def test_volume_compares_with_previous_successful_run(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        make_raw_shop(con, bad=False)
        [first] = _run(con, ["raw_shop.customers"], tmp_path)
        assert _by_id(first)["row_count_within_tolerance"].success
        assert history.previous_row_count(con, "raw_shop.customers") == 3
        con.execute("DELETE FROM raw_shop.customers WHERE entity_id > 1")  # 3 -> 1 row
        [second] = _run(con, ["raw_shop.customers"], tmp_path)
    vol = _by_id(second)["row_count_within_tolerance"]
    assert not vol.success and vol.observed_value == 1.0
    assert vol.details["min_value"] == 1.5 and vol.details["max_value"] == 4.5


def test_freshness_uses_load_id_and_event_time(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        make_raw_shop(con, bad=False)
        later = NOW + dt.timedelta(days=3)
        [fresh] = _run(con, ["raw_shop.customers"], tmp_path)
        [stale] = _run(con, ["raw_shop.customers"], tmp_path, now=later)
    assert _by_id(fresh)["load_freshness_hours"].success
    assert round(_by_id(fresh)["load_freshness_hours"].observed_value) == 1
    assert not _by_id(stale)["load_freshness_hours"].success  # 73 h > 36 h


def test_thresholds_and_severities_come_from_config(warehouse, tmp_path):
    config = parse_config(
        {
            "tables": {
                "raw_shop.customers": {
                    "checks": {
                        "email_null_share": {"max_value": 0.5, "severity": "error"},
                        "entity_id_unique": {"enabled": False},
                    }
                }
            }
        }
    )
    with duckdb.connect(str(warehouse)) as con:
        make_raw_shop(con, bad=True)
        [customers] = _run(con, ["raw_shop.customers"], tmp_path, config=config)
    ids = _by_id(customers)
    assert "entity_id_unique" not in ids
    assert ids["email_null_share"].success and ids["email_null_share"].severity == "error"


def test_history_and_data_docs(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        make_raw_shop(con, bad=False)
        _run(con, ["raw_shop.orders"], tmp_path, run_id="run-1")
        con.execute("UPDATE raw_shop.orders SET grand_total = -1 WHERE entity_id = 10")
        _run(con, ["raw_shop.orders"], tmp_path, run_id="run-2", now=NOW + dt.timedelta(hours=1))
        _run(con, ["raw_shop.orders"], tmp_path, run_id="run-3", now=NOW + dt.timedelta(hours=2))
        rows = con.execute(
            "SELECT run_id, severity, success, unexpected_count, details "
            "FROM quality.validation_results WHERE expectation = 'grand_total_non_negative' "
            "ORDER BY validated_at"
        ).fetchall()
        failing = history.failing_since(con)
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("run-1", True, 0),
        ("run-2", False, 1),
        ("run-3", False, 1),
    ]
    assert json.loads(rows[1][4])["failing_rows"] == [{"entity_id": 10, "grand_total": -1.0}]
    row = failing[failing["expectation"] == "grand_total_non_negative"].iloc[0]
    assert row["failing_since"] == NOW + dt.timedelta(hours=1)
    assert row["failing_runs"] == 2
    docs = tmp_path / "quality" / "data_docs"
    assert (docs / "index.html").exists()
    assert any((docs / "validations").rglob("*.html"))


def test_missing_table_is_skipped(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        [result] = _run(con, ["marts.orders"], tmp_path)
    assert result.skipped and result.status == "skipped"


def test_compound_key_duplicates_are_found(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        make_marts(con)
        con.execute(
            "CREATE TABLE marts.customer_consent AS SELECT * FROM (VALUES "
            "('P1', 'email', 'marketing', true, TIMESTAMPTZ '2026-01-01 00:00:00+00', 'shop'), "
            "('P1', 'sms', 'marketing', false, TIMESTAMPTZ '2026-01-01 00:00:00+00', 'shop'), "
            "('P1', 'email', 'marketing', false, TIMESTAMPTZ '2026-02-01 00:00:00+00', 'store')) "
            "t(person_id, channel, purpose, is_granted, status_at, source)"
        )
        [consent] = _run(con, ["marts.customer_consent"], tmp_path)
    key = _by_id(consent)["key_unique"]
    assert not key.success and key.unexpected_count == 2
    assert key.failing_rows[0] == {"person_id": "P1", "channel": "email", "purpose": "marketing"}
    assert _by_id(consent)["person_id_references_customer_360"].success


def test_volume_baseline_prefers_runs_without_errors(warehouse):
    with duckdb.connect(str(warehouse)) as con:
        history.ensure_table(con)

        def add(run, hour, rows, ok):
            for exp, sev, success, value in (
                ("row_count_within_tolerance", "warn", True, rows),
                ("entity_id_unique", "error", ok, 0),
            ):
                con.execute(
                    "INSERT INTO quality.validation_results (run_id, validated_at, asset, suite, "
                    "expectation, severity, success, observed_value) VALUES "
                    "(?, ?, 'raw_shop.orders', 'raw_shop.orders', ?, ?, ?, ?)",
                    [run, NOW + dt.timedelta(hours=hour), exp, sev, success, json.dumps(value)],
                )

        add("r1", 1, 100.0, False)
        assert history.previous_row_count(con, "raw_shop.orders") == 100  # fallback
        add("r2", 2, 120.0, True)
        add("r3", 3, 500.0, False)
        assert history.previous_row_count(con, "raw_shop.orders") == 120  # last error-free run


def test_large_table_mode_gives_the_same_verdicts(warehouse, tmp_path):
    """Above `large_table_rows` column checks run as DuckDB aggregates: same results."""
    data = yaml.safe_load(default_config_path().read_text())
    data["defaults"]["large_table_rows"] = 0  # everything counts as "very large"
    pushed = parse_config(data)
    with duckdb.connect(str(warehouse)) as con:
        make_raw_shop(con, bad=True)
        make_marts(con, duplicate_person=True)
        con.execute("UPDATE marts.customer_360 SET phone = '0612345678' WHERE person_id = 'P2'")
        names = [*SHOP, "marts.customer_360"]
        framed = _run(con, names, tmp_path, record=False, data_docs=False)
        aggregated = _run(con, names, tmp_path, record=False, data_docs=False, config=pushed)
    for a, b in zip(framed, aggregated, strict=True):
        left = {r.check_id: (r.success, r.unexpected_count, r.severity) for r in a.results}
        right = {r.check_id: (r.success, r.unexpected_count, r.severity) for r in b.results}
        assert left == right, a.asset
        pushed_results = [r for r in b.results if r.details.get("computed_in") == "duckdb"]
        assert pushed_results  # the column checks really ran in DuckDB
    c360 = _by_id(aggregated[-1])
    assert c360["phone_e164"].failing_rows == [{"person_id": "P2", "phone": "********78"}]
    assert {r["person_id"] for r in c360["person_id_unique"].failing_rows} == {"P1"}
    orders = _by_id(aggregated[1])
    assert orders["grand_total_non_negative"].failing_rows == [
        {"entity_id": 13, "grand_total": -10.0}
    ]


def test_order_amounts_negative_only_on_returns(warehouse, tmp_path):
    """Returns carry negative amounts (not a failure); a negative purchase or a positive
    return fails gross_amount_sign / net_amount_sign with the order key."""
    with duckdb.connect(str(warehouse)) as con:
        make_marts(con)
        con.execute(
            "CREATE TABLE marts.orders AS SELECT * FROM (VALUES "
            "('web:1', 'P1', 'web', TIMESTAMP '2026-10-01 10:00:00', false, 120.00, 113.90), "
            "('store:R1', 'P1', 'store', TIMESTAMP '2026-10-02 10:00:00', true, -60.00, -60.00), "
            "('store:R2', 'P3', 'store', TIMESTAMP '2026-10-03 10:00:00', false, -10.00, 5.00), "
            "('store:R3', 'P3', 'store', TIMESTAMP '2026-10-04 10:00:00', true, 20.00, -20.00)) "
            "AS t(order_key, person_id, channel, ordered_at, is_return, gross_amount, net_amount)"
        )
        [result] = _run(con, ["marts.orders"], tmp_path, data_docs=False, record=False)
    checks = _by_id(result)
    gross, net = checks["gross_amount_sign"], checks["net_amount_sign"]
    assert not gross.success and gross.severity == "error" and gross.unexpected_count == 2
    assert sorted(r["order_key"] for r in gross.failing_rows) == ["store:R2", "store:R3"]
    assert net.success
