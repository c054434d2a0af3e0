"""Pairwise metrics and the trap check on a hand-computed example."""

from __future__ import annotations

import pandas as pd
import pytest

from identity import evaluate


def test_pairwise_metrics_hand_computed():
    # truth: T1 = {a, b, c}, T2 = {d, e}, T3 = {f}
    truth = pd.DataFrame(
        {
            "source_system": ["shop_customer"] * 6,
            "source_key": ["a", "b", "c", "d", "e", "f"],
            "person_id": ["T1", "T1", "T1", "T2", "T2", "T3"],
            "is_test": [False] * 6,
        }
    )
    # predicted: P1 = {a, b}, P2 = {c, d, e}, P3 = {f}
    graph = pd.DataFrame(
        {
            "record_id": [f"shop_customer:{k}" for k in "abcdef"],
            "person_id": ["P1", "P1", "P2", "P2", "P2", "P3"],
        }
    )
    m = evaluate(graph, truth)
    # predicted pairs: ab, cd, ce, de = 4; true pairs: ab, ac, bc, de = 4; common: ab, de = 2
    assert m["predicted_pairs"] == 4
    assert m["true_pairs"] == 4
    assert m["true_positive_pairs"] == 2
    assert m["precision"] == pytest.approx(0.5)
    assert m["recall"] == pytest.approx(0.5)
    assert m["f1"] == pytest.approx(0.5)
    assert m["over_merged"] == 1  # P2 spans T1 and T2
    assert m["under_merged"] == 1  # T1 split over P1 and P2
    assert m["records_scored"] == 6


def test_trap_check_counts_merged_trap_pairs():
    graph = pd.DataFrame(
        {
            "record_id": ["pos_card:1", "pos_card:2", "pos_card:3", "esp_contact:4"],
            "person_id": ["P", "P", "Q", "P"],
        }
    )
    traps = pd.DataFrame(
        {
            "trap_type": ["shared_household_phone"] * 3 + ["homonym"],
            "source_system": ["pos_card", "pos_card", "pos_card", "esp_contact"],
            "source_key": ["1", "2", "3", "4"],
            "person_id": ["T1", "T2", "T3", "T9"],
        }
    )
    truth = graph.rename(columns={"person_id": "x"}).assign(person_id=["T1", "T2", "T3", "T9"])
    m = evaluate(graph, truth[["record_id", "person_id"]], traps)
    assert m["trap_pairs_merged"] == 1  # 1-2 merged; the homonym is alone in its trap type
    assert m["trap_pairs_by_type"] == {"homonym": 0, "shared_household_phone": 1}
    assert m["precision"] == pytest.approx(0.0)


def test_perfect_graph():
    truth = pd.DataFrame({"record_id": ["a", "b", "c"], "person_id": ["1", "1", "2"]})
    m = evaluate(
        truth.rename(columns={"person_id": "pid"}).rename(columns={"pid": "person_id"}), truth
    )
    assert (m["precision"], m["recall"], m["f1"]) == (1.0, 1.0, 1.0)
    assert m["over_merged"] == m["under_merged"] == 0
