"""`cdp predict backtest` (and its alias `cdp churn backtest`) on small CSV files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cli.main import main
from tests.ml.churn_synth import synth_orders

CUTOFF = "2025-03-31"


SMALL_CONFIG = (
    "max_rows_per_cutoff: 3000\nmodel: {max_iter: 40, min_samples_leaf: 50}\n"
    "purchase_model: {max_fit_rows: 2000}\n"
)
COLUMNS = ["customer_id", "churn_probability", "expected_orders", "expected_revenue"]


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
    args = ["--config", config, "--orders", str(src), "--cutoff", CUTOFF, "--value-days", "180"]
    args += ["--out", str(out)]
    assert main(["predict", "backtest", *args]) == 0
    printed = capsys.readouterr().out
    scores = pd.read_csv(out)
    assert list(scores.columns) == COLUMNS
    assert set(scores["customer_id"]) == _eligible(orders)
    assert scores["customer_id"].is_unique
    assert scores["churn_probability"].between(0, 1).all()
    assert (scores["expected_orders"] >= 0).all() and (scores["expected_revenue"] >= 0).all()
    churn_table = _table(printed, "| scorer |")
    assert set(churn_table.index) == {"model", *BASELINES}
    assert churn_table.loc["model", "ROC AUC"] > 0.7
    assert churn_table["Brier"].between(0, 1).all()
    value_table = _table(printed, "| value model |")
    assert set(value_table.index) == {"model", *VALUE_BASELINES}
    assert value_table.loc["model", "Spearman"] > 0.3
    assert value_table["top-decile revenue share"].between(0.1, 1).all()
    assert "calibration by decile" in printed and "validation at" in printed
    # every candidate is validated, the logistic one included, and the value model too
    validation = next(line for line in printed.splitlines() if line.startswith("validation at"))
    assert all(name in validation for name in ("bgnbd", "pnbd", "glm", "model"))
    assert "value validation (Spearman over the label horizon): bgnbd" in printed
    # the alias writes the same file
    again = tmp_path / "again.csv"
    assert main(["churn", "backtest", *args[:-1], str(again)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(again), scores)


BASELINES = ("recency_baseline", "rfm_logistic", "bgnbd", "pnbd")
VALUE_BASELINES = ("recent_revenue_baseline", "bgnbd_gamma_gamma", "pnbd_gamma_gamma")


def _table(printed: str, header: str) -> pd.DataFrame:
    """The markdown table starting with `header` in the printed output, by first column."""
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    frame = pd.DataFrame(rows[2:], columns=rows[0]).set_index(rows[0][0])
    return frame.apply(pd.to_numeric)


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


def test_short_history_scores_everyone_no_refusal(orders, config, tmp_path, capsys):
    """Six months of orders before the cutoff: no refusal, a score for every customer."""
    src, out = tmp_path / "orders.csv", tmp_path / "s.csv"
    _clean_csv(orders, src)
    cutoff = "2022-06-30"
    args = ["--config", config, "--orders", str(src), "--cutoff", cutoff, "--out", str(out)]
    code = main(["predict", "backtest", *args])
    assert code == 0
    printed = capsys.readouterr().out
    assert "training plan:" in printed and "chosen:" in printed
    scores = pd.read_csv(out)
    cut = pd.Timestamp(cutoff) + pd.Timedelta(days=1)
    ok = orders[(orders["ordered_at"] < cut) & (orders["amount"] >= 0)]
    assert set(scores["customer_id"]) == set(ok["customer_id"])
    assert scores[COLUMNS[1:]].notna().all().all()


def test_orders_after_the_cutoff_change_no_score(orders, config, tmp_path):
    """Leak-freedom end to end: the file cut at the cutoff gives the very same scores."""
    full, cut = tmp_path / "full.csv", tmp_path / "cut.csv"
    _clean_csv(orders, full)
    _clean_csv(orders[orders["ordered_at"] < pd.Timestamp("2023-07-01")], cut)
    args = ["predict", "backtest", "--config", config, "--cutoff", "2023-06-30"]
    assert main([*args, "--orders", str(full), "--out", str(tmp_path / "a.csv")]) == 0
    assert main([*args, "--orders", str(cut), "--out", str(tmp_path / "b.csv")]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))


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
