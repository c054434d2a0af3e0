"""Bad rows and unreadable consent, from the landing files to the marts.

One small warehouse for the module: the hand-written landing extracts plus planted problems
(a negative order, an order of 99,999,999.99, consent statements in other words and formats,
an unreadable one), then ingestion, quarantine, dbt staging, identity resolution and the
orders and consent marts, as the pipeline runs them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from cdp.settings import get_settings
from data_quality.config import load_config
from data_quality.outliers import AMOUNTS, staging_outliers
from data_quality.quarantine import run_quarantine
from data_quality.runner import run_suites
from data_quality.suites import get_suite
from ingestion.pipeline import run_all
from tests.dbt.test_marts import _dbt, write_identity_graph
from tests.fixtures.bad_inputs.make_generated import consent_event
from tests.ingestion.ingestion_fixtures import customer, order, write_landing


def _jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    work = tmp_path_factory.mktemp("failsafe_marts")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CDP_DATA_DIR", str(work / "data"))
        for var in ("CDP_LANDING_DIR", "CDP_WAREHOUSE", "CDP_MODELS_DIR"):
            mp.delenv(var, raising=False)
        settings = get_settings()
        mp.setenv("CDP_WAREHOUSE", str(settings.warehouse))  # read by the dbt profile
        write_landing(settings.landing_dir)
        # customer 2 is another person (the fixture's three Marie Duponts born the same day,
        # with nothing that tells them apart, are one person to the identity engine): the
        # consent statements of the two customers below must not meet
        other = customer(
            2,
            "2025-01-06T10:00:00Z",
            addresses=[],
            firstname="Paul",
            lastname="Martin",
            dob="1970-06-01",
        )
        _jsonl(settings.landing_dir / "shop/customers/customers_2025-01b.jsonl", [other])
        _jsonl(
            settings.landing_dir / "shop/orders/orders_2025-02.jsonl",
            [
                order(20, 1, grand_total=-50.0, subtotal=-50.0),
                order(21, 1, grand_total=99_999_999.99, subtotal=99_999_999.99),
                order(22, 1),
            ],
        )
        feb = "2025-02-01T10:00:00Z"
        _jsonl(
            settings.landing_dir / "consent/consent_events_2025-02.jsonl",
            [
                # customer 1 granted e-mail in January (fixture CE1); withdrawn here in other
                # words and another date format
                consent_event(
                    11,
                    email=None,
                    shop_customer_id=1,
                    status="unsubscribed",
                    channel="E-mail",
                    occurred_at="10/02/2025 10:00",
                ),
                consent_event(
                    12,
                    email=None,
                    shop_customer_id=1,
                    status="opt-in",
                    channel="texto",
                    occurred_at=feb,
                ),
                # customer 2: an sms grant, then an older statement with unreadable status
                # and channel holds the person at "no consent" on every channel
                consent_event(13, email=None, shop_customer_id=2, channel="sms", occurred_at=feb),
                consent_event(
                    14,
                    email=None,
                    shop_customer_id=2,
                    status="peut-être",
                    channel="pigeon",
                    occurred_at="2025-01-20T10:00:00Z",
                ),
            ],
        )
        report = run_all(settings)
        assert report["errors"] == {}
        with duckdb.connect(str(settings.warehouse)) as con:
            run_quarantine(con, load_config())
        _dbt(["run", "--select", "staging intermediate.identity"], work)
        write_identity_graph(settings.warehouse)
        _dbt(["run", "--select", "+order_lines", "+customer_consent", "+consent_history"], work)
        with duckdb.connect(str(settings.warehouse)) as con:
            yield con


def _consent(con: duckdb.DuckDBPyConnection, record_id: str, channel: str) -> tuple:
    """(is_granted, has_unreadable_statement) of the person of a source record."""
    return con.execute(
        "select is_granted, has_unreadable_statement from marts.customer_consent "
        "join identity.identity_graph using (person_id) "
        "where record_id = ? and channel = ? and purpose = 'marketing'",
        [record_id, channel],
    ).fetchall()[0]


def test_quarantined_orders_do_not_reach_the_marts(warehouse) -> None:
    keys = {r[0] for r in warehouse.execute("select order_key from marts.orders").fetchall()}
    assert "web:100000022" in keys and "web:100000010" in keys
    assert "web:100000020" not in keys  # negative amount: quarantined, error
    assert "web:100000021" not in keys  # absurd amount: quarantined, error
    lines = warehouse.execute(
        "select count(*) from marts.order_lines where order_key in ('web:100000020', "
        "'web:100000021')"
    ).fetchall()
    assert lines == [(0,)]  # their lines went with them
    rules = warehouse.execute(
        "select json_extract(raw_record, '$.entity_id')::int, rule from quality.quarantine_rows "
        "where table_name = 'orders' and severity = 'error' order by 1"
    ).fetchall()
    assert rules == [(20, "negative_amount"), (21, "absurd_amount")]


def test_absurd_amount_guard_before_the_marts(warehouse) -> None:
    settings = load_config().amount_outliers
    assert staging_outliers(warehouse, AMOUNTS[0], settings) == 0
    # without the quarantine the blocking staging check would count the order
    raw = warehouse.execute(
        "select count(*) from raw_shop.orders where grand_total > 1000000"
    ).fetchall()
    assert raw == [(1,)]


def test_consent_variants_are_read_and_withdrawals_kept(warehouse) -> None:
    # "unsubscribed" on "E-mail" dated 10/02/2025; "opt-in" on "texto"
    assert _consent(warehouse, "shop_customer:1", "email") == (False, False)
    assert _consent(warehouse, "shop_customer:1", "sms") == (True, False)
    statuses = warehouse.execute(
        "select reference, status, channel, occurred_at from marts.consent_history "
        "where reference in ('CE-000011', 'CE-000012') order by 1"
    ).fetchall()
    assert [(r[0], r[1], r[2], str(r[3])) for r in statuses] == [
        ("CE-000011", "withdrawn", "email", "2025-02-10 10:00:00"),
        ("CE-000012", "granted", "sms", "2025-02-01 10:00:00"),
    ]


def test_unreadable_consent_withholds_every_channel_and_blocks(warehouse) -> None:
    # the readable sms grant is newer, but the unreadable statement wins until corrected
    for channel in ("email", "sms", "phone", "ads"):
        assert _consent(warehouse, "shop_customer:2", channel) == (False, True), channel
    quarantined = warehouse.execute(
        "select rule, severity from quality.quarantine_rows "
        "where table_name = 'consent_events' order by 1"
    ).fetchall()
    assert quarantined == [("unreadable_consent", "warn")]
    [result] = run_suites(warehouse, [get_suite("marts.customer_consent")], data_docs=False)
    failed = {r.check_id: r for r in result.error_failures}
    check = failed["unreadable_consent_persons"]
    assert check.observed_value == 1
    assert load_config().is_blocking("marts.customer_consent")
