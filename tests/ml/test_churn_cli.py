"""`cdp churn backtest` on small CSV files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdp.cli import main
from tests.ml.churn_synth import synth_orders

CUTOFF = "2025-03-31"


SMALL_CONFIG = "max_rows_per_cutoff: 3000\nmodel: {max_iter: 40, min_samples_leaf: 50}\n"


@pytest.fixture(scope="module")
def orders():
    frame, _ = synth_orders(1500, seed=21)
    return frame


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "churn.yaml"
    path.write_text(SMALL_CONFIG)
    return str(path)


def _clean_csv(orders: pd.DataFrame, path) -> None:
    out = orders.assign(ordered_at=orders["ordered_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    out.to_csv(path, index=False)


def _messy_csv(orders: pd.DataFrame, path) -> None:
    """Same orders: `;` delimiter, comma decimals, mixed date formats, odd headers, an extra
    column, no optional columns dropped; one unreadable row appended."""
    ts = orders["ordered_at"]
    fmt = np.arange(len(orders)) % 3
    dates = np.where(
        fmt == 0,
        ts.dt.strftime("%d/%m/%Y %H:%M:%S"),
        np.where(
            fmt == 1, ts.dt.strftime("%Y-%m-%d %H:%M:%S"), ts.dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        ),
    )
    messy = pd.DataFrame(
        {
            "note": "x",
            " Customer_ID ": orders["customer_id"],
            "ORDER_ID": orders["order_id"],
            "Ordered_At": dates,
            "Amount": orders["amount"].map(lambda v: f"{v:.2f}".replace(".", ",")),
            "channel": orders["channel"].str.upper(),
            "store_id": orders["store_id"],
        }
    )
    bad = pd.DataFrame(
        [
            {
                " Customer_ID ": "C1",
                "ORDER_ID": "bad",
                "Ordered_At": "yesterday",
                "Amount": "12,00",
                "note": "y",
            }
        ]
    )
    pd.concat([messy, bad]).to_csv(path, index=False, sep=";")


def _eligible(orders: pd.DataFrame) -> set[str]:
    cut = pd.Timestamp(CUTOFF) + pd.Timedelta(days=1)
    ok = orders[(orders["ordered_at"] < cut) & (orders["amount"] >= 0)]
    return set(ok["customer_id"])


def test_backtest_writes_one_score_per_eligible_customer_and_prints_metrics(
    orders, config, tmp_path, capsys
):
    src, out = tmp_path / "orders.csv", tmp_path / "scores.csv"
    _clean_csv(orders, src)
    assert (
        main(
            [
                "churn",
                "backtest",
                "--config",
                config,
                "--orders",
                str(src),
                "--cutoff",
                CUTOFF,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    scores = pd.read_csv(out)
    assert list(scores.columns) == ["customer_id", "churn_probability"]
    assert set(scores["customer_id"]) == _eligible(orders)
    assert scores["customer_id"].is_unique
    assert scores["churn_probability"].between(0, 1).all()
    for word in ("ROC AUC", "Brier", "model", "recency_baseline", "rfm_logistic", "calibration"):
        assert word in printed


def test_messy_file_gives_the_same_scores_and_reports_rejects(orders, config, tmp_path, capsys):
    clean, messy = tmp_path / "clean.csv", tmp_path / "messy.csv"
    _clean_csv(orders, clean)
    _messy_csv(orders, messy)
    args = ["churn", "backtest", "--config", config, "--cutoff", CUTOFF, "--horizon-days", "120"]
    assert main([*args, "--orders", str(clean), "--out", str(tmp_path / "a.csv")]) == 0
    assert main([*args, "--orders", str(messy), "--out", str(tmp_path / "b.csv")]) == 0
    printed = capsys.readouterr().out
    assert "1 row(s) rejected" in printed and "unreadable ordered_at" in printed
    rejected = pd.read_csv(tmp_path / "b.rejected.csv")
    assert rejected["reason"].tolist() == ["unreadable ordered_at"]
    a = pd.read_csv(tmp_path / "a.csv")
    b = pd.read_csv(tmp_path / "b.csv")
    pd.testing.assert_frame_equal(a, b)


def test_missing_required_column_is_named(orders, config, tmp_path, capsys):
    src = tmp_path / "orders.csv"
    orders.drop(columns="ordered_at").to_csv(src, index=False)
    code = main(
        [
            "churn",
            "backtest",
            "--orders",
            str(src),
            "--cutoff",
            CUTOFF,
            "--out",
            str(tmp_path / "s.csv"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "missing required column(s) ordered_at" in err and str(src) in err
    assert not (tmp_path / "s.csv").exists()


def test_too_little_history_is_a_clear_message(orders, config, tmp_path, capsys):
    src, out = tmp_path / "orders.csv", tmp_path / "s.csv"
    _clean_csv(orders, src)
    code = main(
        ["churn", "backtest", "--orders", str(src), "--cutoff", "2022-06-30", "--out", str(out)]
    )
    assert code == 2
    assert "too little history" in capsys.readouterr().err
    assert not out.exists()


def test_no_metrics_when_the_outcome_is_not_observable(orders, config, tmp_path, capsys):
    src, out = tmp_path / "orders.csv", tmp_path / "s.csv"
    _clean_csv(orders, src)
    code = main(
        ["churn", "backtest", "--orders", str(src), "--cutoff", "2025-10-31", "--out", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "outcome not observable" in printed and "ROC AUC" not in printed
    assert len(pd.read_csv(out)) > 0
