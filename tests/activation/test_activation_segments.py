from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from activation.config import load_segments
from activation.segments import load_and_validate, materialise, member_counts
from cdp.config import ConfigError
from cdp.settings import PROJECT_ROOT
from tests.activation.act_helpers import insert_persons, person

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "segments.yaml"
    p.write_text(text)
    return p


def one_segment(tmp_path: Path, name: str, condition: str, extra: str = "") -> Path:
    """segments.yaml with one segment `name` on `condition` (and any `extra` YAML lines)."""
    return write(
        tmp_path,
        f"segments:\n  - name: {name}\n    description: x\n    condition: {condition}\n{extra}",
    )


def test_shipped_segments_compile_against_the_contract():
    segs = load_and_validate(PROJECT_ROOT / "config" / "segments.yaml")
    names = {s.name for s in segs.segments}
    assert {
        "high_value_at_risk",
        "lapsed_vips",
        "new_customers",
        "email_engaged_non_buyers",
        "store_only_customers",
        "abandoned_cart_7d",
    } <= names


def test_condition_that_does_not_compile_names_segment_and_file(tmp_path):
    p = one_segment(tmp_path, "broken", "no_such_column > 1")
    with pytest.raises(ConfigError) as exc:
        load_and_validate(p)
    assert "broken" in str(exc.value) and str(p) in str(exc.value)


def test_unknown_key_is_rejected_with_file_and_segment(tmp_path):
    p = one_segment(tmp_path, "s1", "true", "    colour: red\n")
    with pytest.raises(ConfigError) as exc:
        load_segments(p)
    assert str(p) in str(exc.value) and "s1" in str(exc.value) and "colour" in str(exc.value)


def test_membership_history_exit_and_reentry(con, tmp_path):
    p = one_segment(tmp_path, "big", "revenue_total >= 1000")
    segs = load_segments(p)
    insert_persons(con, [person(1, revenue_total=2000), person(2, revenue_total=10)])
    res = materialise(con, segs, p, now=T0)
    assert (res[0].members, res[0].entered, res[0].exited) == (1, 1, 0)

    con.execute("UPDATE marts.customer_360 SET revenue_total = 5 WHERE person_id = 'P0000001'")
    res = materialise(con, segs, p, now=T0 + dt.timedelta(days=1))
    assert (res[0].members, res[0].exited) == (0, 1)

    con.execute("UPDATE marts.customer_360 SET revenue_total = 3000 WHERE person_id = 'P0000001'")
    materialise(con, segs, p, now=T0 + dt.timedelta(days=2))
    rows = con.execute(
        "SELECT entered_at, exited_at FROM activation.segment_membership "
        "WHERE person_id = 'P0000001' ORDER BY entered_at"
    ).fetchall()
    assert len(rows) == 2
    assert rows[0][1] is not None and rows[1][1] is None
    assert member_counts(con) == {"big": 1}
    # unchanged membership: no new rows
    materialise(con, segs, p, now=T0 + dt.timedelta(days=3))
    (n,) = con.execute("SELECT count(*) FROM activation.segment_membership").fetchone()
    assert n == 2


def _scored_segment(con, tmp_path, name: str, condition: str, scores: str):
    """The segments file of one segment `condition` over persons 1 and 2, whose
    ml.churn_scores rows are `scores` (`(columns) VALUES ...`), and its member count."""
    p = one_segment(tmp_path, name, condition)
    segs = load_segments(p)
    insert_persons(con, [person(1), person(2)])
    con.execute(f"INSERT INTO ml.churn_scores (person_id, {scores}")
    return segs, materialise(con, segs, p, now=T0)[0].members


def test_churn_scores_are_joined_when_present(con, tmp_path):
    _, members = _scored_segment(
        con,
        tmp_path,
        "risky",
        "churn_probability >= 0.6",
        "churn_probability, churn_risk_band) VALUES ('P0000001', 0.9, 'high'), "
        "('P0000002', 0.1, 'low')",
    )
    assert members == 1


def test_expected_value_columns_are_segment_and_sync_vocabulary(con, tmp_path):
    """expected_orders / expected_revenue (customer lifetime value over the value horizon)
    reach segment conditions and sync fields."""
    from activation.config import load_syncs
    from activation.engine import validate_sync_sql

    segs, members = _scored_segment(
        con,
        tmp_path,
        "valuable",
        "expected_revenue >= 100 AND expected_orders >= 1",
        "expected_orders, expected_revenue) VALUES ('P0000001', 2.5, 240.0), "
        "('P0000002', 0.2, 15.0)",
    )
    assert members == 1
    syncs_path = tmp_path / "syncs.yaml"
    syncs_path.write_text(
        "syncs:\n  - name: s1\n    source: {segment: valuable}\n"
        "    destination: {type: hubspot, options: {token_env: X}}\n    key: email\n"
        "    fields: {cdp_expected_revenue: expected_revenue, cdp_expected_orders: "
        "expected_orders}\n"
    )
    syncs = load_syncs(syncs_path, segs)
    validate_sync_sql(syncs.syncs, syncs_path)


def test_segment_on_churn_columns_compiles_without_scores_table(con, tmp_path):
    # ML has never run: dbt has not built customer_profiles (it reads the score tables)
    con.execute("DROP VIEW marts.customer_profiles")
    con.execute("DROP TABLE ml.churn_scores")
    p = one_segment(tmp_path, "risky", "churn_risk_band = 'high'")
    segs = load_segments(p)
    insert_persons(con, [person(1)])
    assert materialise(con, segs, p, now=T0)[0].members == 0


def test_shipped_syncs_are_valid_and_compile():
    from activation.config import load_syncs
    from activation.engine import validate_sync_sql

    segs = load_and_validate(PROJECT_ROOT / "config" / "segments.yaml")
    path = PROJECT_ROOT / "config" / "syncs.yaml"
    syncs = load_syncs(path, segs)
    validate_sync_sql(syncs.syncs, path)
    types = {s.destination.type for s in syncs.syncs}
    assert types == {"hubspot", "klaviyo", "webhook", "sftp", "sql_table", "audience_file"}


def test_sync_config_errors_name_the_sync_and_file(tmp_path):
    from activation.config import load_syncs
    from activation.engine import validate_sync_sql

    base = (
        "syncs:\n  - name: s1\n    source: {sql: 'SELECT * FROM marts.customer_360'}\n"
        "    destination: {type: hubspot, options: {token_env: X}}\n    key: email\n"
    )
    p = tmp_path / "syncs.yaml"
    p.write_text(base + "    fields: {firstname: no_such_col}\n")
    with pytest.raises(ConfigError, match=r"sync 's1'.*do not compile"):
        validate_sync_sql(load_syncs(p).syncs, p)
    p.write_text(base + "    mode: mirror\n")
    with pytest.raises(ConfigError, match=r"s1.*supports"):
        load_syncs(p)
    p.write_text(base + "    colour: red\n")
    with pytest.raises(ConfigError, match=r"s1.*colour"):
        load_syncs(p)
    p.write_text(base.replace("{token_env: X}", "{token_env: X, batch_size: 500}"))
    with pytest.raises(ConfigError, match=r"batch_size"):
        load_syncs(p)
    p.write_text(
        base.replace(
            "type: hubspot, options: {token_env: X}",
            "type: webhook, options: {url: u, secret_env: S}",
        )
    )
    with pytest.raises(ConfigError, match=r"channel"):
        load_syncs(p)


def test_shipped_segments_skip_anonymous_visitors_and_use_the_data_as_of_date(con):
    """An anonymous web visitor (is_identified false) is in no shipped segment, even with the
    behaviour a segment looks for; windows end on the marts' as_of_date, not today."""
    segs = load_and_validate(PROJECT_ROOT / "config" / "segments.yaml", con)
    as_of = dt.date(2025, 6, 30)
    behaviour = {
        "orders_count": 0,
        "revenue_total": 0,
        "revenue_12m": 0,
        "first_order_at": None,
        "last_order_at": None,
        "favourite_channel": None,
        "email_opens_90d": 2,
        "web_sessions_90d": 3,
        "as_of_date": as_of,
    }
    cart = {
        "has_open_abandoned_cart": True,
        "abandoned_cart_at": dt.datetime(2025, 6, 28, 10, 0),
        "as_of_date": as_of,
    }
    insert_persons(
        con,
        [
            person(1, is_identified=False, email=None, phone=None, **behaviour),
            person(2, **behaviour),
            person(3, **cart),
        ],
    )
    materialise(con, segs, PROJECT_ROOT / "config" / "segments.yaml", now=T0)
    members = con.execute(
        "SELECT segment_name, list(person_id ORDER BY person_id) "
        "FROM activation.segment_membership_current GROUP BY ALL"
    ).fetchall()
    members = dict(members)
    assert all("P0000001" not in m for m in members.values())
    assert members["email_engaged_non_buyers"] == ["P0000002"]
    assert members["web_browsers_non_buyers"] == ["P0000002"]
    # a cart two days before the data's as_of_date (long before today) is recent
    assert "P0000003" in members["abandoned_cart_7d"]
