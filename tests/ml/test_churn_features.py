"""Churn features and labels: no leakage, the label definition, eligibility."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from ml.features import ChurnData
from tests.ml.churn_synth import synth_orders

CUTOFF = date(2024, 6, 30)


def _orders(rows):
    return pd.DataFrame(
        rows, columns=["customer_id", "order_id", "ordered_at", "amount", "channel", "store_id"]
    ).assign(ordered_at=lambda d: pd.to_datetime(d["ordered_at"], format="ISO8601"))


def test_features_do_not_change_when_later_events_are_added():
    orders, tickets = synth_orders(800, seed=3, with_tickets=True)
    cut = pd.Timestamp(CUTOFF) + pd.Timedelta(days=1)
    before = orders[orders["ordered_at"] < cut]
    t_before = tickets[tickets["created_at"] < cut]
    rng = np.random.default_rng(0)
    # Extra events after the cutoff, including for customers with no history at all.
    later = before.sample(300, random_state=1).assign(
        order_id=lambda d: "LATE" + d["order_id"],
        ordered_at=cut + pd.to_timedelta(rng.integers(0, 400 * 86400, 300), unit="s"),
        amount=lambda d: -d["amount"] * rng.choice([1, -1], 300),
    )
    newcomers = later.head(50).assign(customer_id=lambda d: "NEW" + d["customer_id"])
    late_tickets = t_before.head(40).assign(created_at=cut, satisfaction=1.0)

    small = ChurnData.from_frames(before, tickets=t_before)
    big = ChurnData.from_frames(
        pd.concat([orders, later, newcomers]),
        tickets=pd.concat([tickets, late_tickets]),
    )
    a = small.features_at(CUTOFF)
    b = big.features_at(CUTOFF)
    assert len(a) > 300
    pd.testing.assert_frame_equal(a, b)
    # and the same with labels computed: features identical, only the label may differ
    c = big.features_at(CUTOFF, horizon_days=180)
    pd.testing.assert_frame_equal(a, c.drop(columns="churned"))


def test_until_drops_everything_after_the_cutoff():
    orders, _ = synth_orders(300, seed=5)
    data = ChurnData.from_frames(orders, until=CUTOFF)
    _first, last = data.date_range()
    assert last <= CUTOFF
    assert data.date_range()[0] == orders["ordered_at"].min().date()


def test_label_definition_and_exclusions_on_hand_built_cases():
    rows = [
        # A: bought before, buys again inside the horizon -> not churned
        ("A", "a1", "2024-01-10 10:00", 50.0, "web", None),
        ("A", "a2", "2024-09-01 10:00", 70.0, "web", None),
        # B: bought before, next purchase only after the horizon -> churned
        ("B", "b1", "2024-03-01 10:00", 20.0, "store", "S1"),
        ("B", "b2", "2025-02-01 10:00", 20.0, "store", "S1"),
        # C: bought on the cutoff day itself (inside the history), nothing after -> churned
        ("C", "c1", "2024-06-30 23:59", 10.0, "web", None),
        # D: first purchase after the cutoff -> excluded
        ("D", "d1", "2024-07-02 09:00", 10.0, "web", None),
        # E: only a return after the cutoff -> still churned (a return is not a purchase)
        ("E", "e1", "2024-05-01 09:00", 80.0, "store", "S2"),
        ("E", "e2", "2024-07-05 09:00", -80.0, "store", "S2"),
        # F: only a return before the cutoff -> no purchase -> excluded
        ("F", "f1", "2024-05-01 09:00", -30.0, "store", "S2"),
        # G: last second inside the horizon counts; H: first second after it does not
        ("G", "g1", "2024-01-01 09:00", 10.0, "web", None),
        ("G", "g2", "2024-12-27 23:59:59", 10.0, "web", None),
        ("H", "h1", "2024-01-01 09:00", 10.0, "web", None),
        ("H", "h2", "2024-12-28 00:00:00", 10.0, "web", None),
    ]
    data = ChurnData.from_frames(_orders(rows))
    f = data.features_at(CUTOFF, horizon_days=180).set_index("customer_id")
    assert sorted(f.index) == ["A", "B", "C", "E", "G", "H"]
    assert f["churned"].to_dict() == {"A": 0, "B": 1, "C": 1, "E": 1, "G": 0, "H": 1}
    outcome = data.outcome_at(CUTOFF, 180, 180).set_index("customer_id")
    assert outcome["churned"].to_dict() == f["churned"].to_dict()
    assert outcome.loc["G", "orders"] == 1 and outcome.loc["G", "revenue"] == 10.0
    assert outcome.loc["H", "orders"] == 0 and outcome.loc["H", "revenue"] == 0.0


def test_purchase_summary_on_a_hand_built_history():
    """x, t_x, T (weeks) and m as of the cutoff: returns and later orders are not read."""
    from ml.purchase import summary_at

    rows = [
        ("A", "1", "2023-06-30 00:00", 100.0, "web", None),
        ("A", "2", "2024-03-02 00:00", 50.0, "store", "S1"),
        ("A", "2b", "2024-03-02 18:00", 20.0, "web", None),  # same purchase day
        ("A", "3", "2024-06-10 00:00", 30.0, "store", "S2"),
        ("A", "4", "2024-06-20 00:00", -30.0, "store", "S2"),  # a return
        ("A", "5", "2024-08-01 00:00", 999.0, "web", None),  # after the cutoff
        ("B", "6", "2024-06-30 23:59", 10.0, "web", None),  # first purchase on the cutoff day
    ]
    s = summary_at(ChurnData.from_frames(_orders(rows)), CUTOFF).set_index("customer_id")
    a, b = s.loc["A"], s.loc["B"]
    first = date(2023, 6, 30)
    assert a["x"] == 2 and a["m"] == pytest.approx((70.0 + 30.0) / 2)
    assert a["t_x"] == pytest.approx((date(2024, 6, 10) - first).days / 7)
    assert a["T"] == pytest.approx((CUTOFF - first).days / 7)
    assert a["revenue_365d"] == pytest.approx(70.0 + 30.0)  # 2023-06-30 is 366 days back
    assert b["x"] == 0 and b["T"] == 0 and np.isnan(b["m"])


def test_feature_values_on_a_hand_built_history():
    rows = [
        ("A", "1", "2023-06-30 00:00", 100.0, "web", None),
        ("A", "2", "2024-03-02 00:00", 50.0, "store", "S1"),
        ("A", "3", "2024-06-10 00:00", 30.0, "store", "S2"),
        ("A", "4", "2024-06-20 00:00", -30.0, "store", "S2"),  # a return
        ("A", "5", "2024-08-01 00:00", 999.0, "web", None),  # after the cutoff
    ]
    f = ChurnData.from_frames(_orders(rows)).features_at(CUTOFF).set_index("customer_id")
    a = f.loc["A"]
    assert a["recency_days"] == pytest.approx(21.0)  # 2024-06-10 -> end of 2024-06-30
    assert a["tenure_days"] == pytest.approx(367.0)
    assert (a["orders_all"], a["amount_all"]) == (3, 180.0)
    assert (a["orders_30d"], a["amount_30d"]) == (1, 30.0)
    assert (a["orders_180d"], a["orders_365d"]) == (2, 2)
    assert a["avg_amount"] == pytest.approx(60.0)
    gaps = [246, 100]  # 2023-06-30 -> 2024-03-02 -> 2024-06-10
    assert a["gap_mean_days"] == pytest.approx(np.mean(gaps))
    assert a["gap_std_days"] == pytest.approx(np.std(gaps, ddof=1))
    assert a["recency_over_gap_mean"] == pytest.approx(21.0 / 173.0)
    assert (a["returns_all"], a["return_amount_all"]) == (1, 30.0)
    assert a["share_web"] == pytest.approx(1 / 3)
    assert a["share_store"] == pytest.approx(2 / 3)
    assert a["distinct_stores"] == 2


def test_optional_event_tables_add_as_of_features():
    orders = _orders([("A", "1", "2024-01-01", 10.0, "web", None)])
    email = pd.DataFrame(
        {
            "customer_id": ["A"] * 4,
            "occurred_at": pd.to_datetime(["2024-06-20", "2024-04-15", "2024-06-25", "2024-07-15"]),
            "event_type": ["open", "open", "click", "open"],
        }
    )
    web = pd.DataFrame(
        {
            "customer_id": ["A"] * 3,
            "occurred_at": pd.to_datetime(["2024-06-29", "2024-06-29", "2024-07-29"]),
            "session_id": ["s1", "s1", "s2"],
        }
    )
    carts = pd.DataFrame(
        {
            "customer_id": ["A", "A"],
            "abandoned_at": pd.to_datetime(["2024-06-01", "2024-07-02"]),
            "value": [40.0, 99.0],
        }
    )
    data = ChurnData.from_frames(orders, email_events=email, web_events=web, carts=carts)
    a = data.features_at(CUTOFF).set_index("customer_id").loc["A"]
    assert (a["email_opens_30d"], a["email_opens_90d"], a["email_clicks_90d"]) == (1, 2, 1)
    assert a["days_since_last_email_open"] == pytest.approx(11.0)
    assert (a["web_sessions_30d"], a["web_sessions_90d"]) == (1, 1)
    assert (a["abandoned_carts_90d"], a["abandoned_cart_value_90d"]) == (1, 40.0)


def test_plain_orders_without_optional_columns():
    orders = _orders([("A", "1", "2024-01-01", 10.0, "web", None)]).drop(
        columns=["channel", "store_id"]
    )
    data = ChurnData.from_frames(orders)
    assert "share_web" not in data.feature_names()
    assert "distinct_stores" not in data.feature_names()
    assert len(data.features_at(CUTOFF)) == 1


def test_missing_required_column_is_named():
    orders = _orders([("A", "1", "2024-01-01", 10.0, "web", None)]).drop(columns="amount")
    with pytest.raises(ValueError, match="amount"):
        ChurnData.from_frames(orders)


def test_training_sample_is_a_deterministic_hash_cut_with_the_full_features():
    """`max_rows` draws the customers before the features are computed: the same customers on
    every call and whatever the row order, each with exactly the features of the full frame,
    and the sample reads nothing after the cutoff either."""
    orders, tickets = synth_orders(800, seed=3, with_tickets=True)
    data = ChurnData.from_frames(orders, tickets=tickets)
    shuffled = ChurnData.from_frames(
        orders.sample(frac=1.0, random_state=7), tickets=tickets.sample(frac=1.0, random_state=7)
    )
    full = data.features_at(CUTOFF, horizon_days=180)
    a = data.features_at(CUTOFF, horizon_days=180, max_rows=200, seed=42)
    b = shuffled.features_at(CUTOFF, horizon_days=180, max_rows=200, seed=42)
    assert len(full) > 400 and len(a) == 200
    pd.testing.assert_frame_equal(a, b)
    expected = full[full["customer_id"].isin(a["customer_id"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, expected)
    other = data.features_at(CUTOFF, horizon_days=180, max_rows=200, seed=1)
    assert set(other["customer_id"]) != set(a["customer_id"])
    # a cap above the population keeps everyone
    assert len(data.features_at(CUTOFF, max_rows=10_000, seed=42)) == len(full)
    # the draw is stratified by the label: it reads the label window and nothing after it
    cut = pd.Timestamp(CUTOFF) + pd.Timedelta(days=1)
    end = cut + pd.Timedelta(days=180)
    mid = ChurnData.from_frames(
        orders[orders["ordered_at"] < end], tickets=tickets[tickets["created_at"] < end]
    )
    pd.testing.assert_frame_equal(
        mid.features_at(CUTOFF, horizon_days=180, max_rows=200, seed=42), a
    )
    # and the features of the drawn customers read nothing after the cutoff
    small = ChurnData.from_frames(
        orders[orders["ordered_at"] < cut], tickets=tickets[tickets["created_at"] < cut]
    )
    small.con.register("drawn", a[["customer_id"]])
    pd.testing.assert_frame_equal(
        small.features_at(CUTOFF, population="SELECT customer_id FROM drawn"),
        a.drop(columns="churned"),
    )


def test_training_sample_keeps_the_share_of_each_label():
    """With a label horizon the cap is stratified: the customers who buy again keep their
    share of the eligible customers exactly (rounded); without one it is a plain hash cut."""
    orders, _ = synth_orders(800, seed=3)
    data = ChurnData.from_frames(orders)
    full = data.features_at(CUTOFF, horizon_days=180)
    stay = int((full["churned"] == 0).sum())
    assert 0 < stay < len(full)
    for n, seed in ((200, 42), (150, 1), (333, 5)):
        a = data.features_at(CUTOFF, horizon_days=180, max_rows=n, seed=seed)
        assert len(a) == n
        assert int((a["churned"] == 0).sum()) == max(1, round(n * stay / len(full)))
    plain = data.features_at(CUTOFF, max_rows=200, seed=42)
    assert len(plain) == 200
