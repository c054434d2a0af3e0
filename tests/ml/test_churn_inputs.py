"""`churn_inputs` feeds e-mail, web and cart events from marts.customer_timeline."""

from __future__ import annotations

from datetime import date

import duckdb

from ml.scoring import churn_inputs


def _warehouse(with_timeline: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(
        """CREATE TABLE marts.orders AS SELECT * FROM (VALUES
           ('p1', 'web:1', TIMESTAMP '2025-01-10 10:00', 50.0, 'web', NULL, false, 'complete'),
           ('p1', 'web:2', TIMESTAMP '2025-03-10 10:00', 30.0, 'web', NULL, false, 'complete'),
           ('p2', 'store:3', TIMESTAMP '2025-02-01 12:00', 20.0, 'store', 'S1', false,
            'complete'))
           t(person_id, order_key, ordered_at, net_amount, channel, store_id, is_return, status)"""
    )
    con.execute(
        """CREATE TABLE marts.service_tickets AS SELECT * FROM (VALUES
           ('p2', TIMESTAMP '2025-02-05 09:00', 2)) t(person_id, created_at, satisfaction)"""
    )
    if with_timeline:
        con.execute(
            """CREATE TABLE marts.customer_timeline AS SELECT * FROM (VALUES
            ('p1', TIMESTAMP '2025-03-01 08:00', 'email', 'campaign_delivered', 'e1', NULL),
            ('p1', TIMESTAMP '2025-03-01 09:00', 'email', 'campaign_open', 'e2', NULL),
            ('p1', TIMESTAMP '2025-03-02 09:00', 'sms', 'campaign_click', 'e3', NULL),
            ('p1', TIMESTAMP '2025-03-20 09:00', 'email', 'campaign_open', 'e4', NULL),
            ('p2', TIMESTAMP '2025-03-03 18:00', 'web', 'web_session', 's1', NULL),
            ('p2', TIMESTAMP '2025-03-04 18:00', 'web', 'cart_abandoned', 'c1', 80.0),
            ('p2', TIMESTAMP '2025-03-05 18:00', 'web', 'web_order', 'w1', 10.0))
            t(person_id, occurred_at, channel, event_type, reference, amount)"""
        )
    return con


def test_timeline_events_reach_the_features_as_of_the_cutoff():
    with churn_inputs(_warehouse(with_timeline=True)) as data:
        assert set(data.extras) == {"tickets", "email", "web", "carts"}
        f = data.features_at(date(2025, 3, 10)).set_index("customer_id")
    # the sms click is not an e-mail event; the open of 2025-03-20 is after the cutoff
    assert f.loc["p1", "email_opens_30d"] == 1 and f.loc["p1", "email_clicks_90d"] == 0
    assert f.loc["p1", "email_open_rate_90d"] == 1.0
    assert f.loc["p2", "web_sessions_30d"] == 1 and f.loc["p2", "abandoned_carts_90d"] == 1
    assert f.loc["p2", "abandoned_cart_value_90d"] == 80.0
    assert f.loc["p2", "tickets_90d"] == 1


def test_without_timeline_only_orders_and_tickets():
    with churn_inputs(_warehouse(with_timeline=False)) as data:
        assert data.extras == ("tickets",)
        assert "email_opens_30d" not in data.feature_names()
