"""Back-test metrics: churn (ROC AUC, PR AUC, Brier, lift, calibration by decile) and value
(Spearman correlation, mean absolute error, share of revenue in the predicted top decile)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


def lift_top_decile(y: np.ndarray, p: np.ndarray) -> float:
    """Churn rate among the 10 % highest scores divided by the overall churn rate."""
    y = np.asarray(y, dtype="float64")
    base = y.mean()
    if base == 0:
        return float("nan")
    k = max(1, math.ceil(len(y) / 10))
    top = np.argsort(-np.asarray(p), kind="stable")[:k]
    return float(y[top].mean() / base)


def calibration_table(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Deciles of the predicted probability: count, mean predicted, observed churn rate."""
    order = np.argsort(np.asarray(p), kind="stable")
    bins = np.empty(len(p), dtype="int64")
    bins[order] = np.arange(len(p)) * n_bins // max(len(p), 1)
    frame = pd.DataFrame({"decile": bins + 1, "p": p, "y": y})
    out = frame.groupby("decile").agg(
        n=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean")
    )
    return out.reset_index()


def metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    y = np.asarray(y)
    both = len(np.unique(y)) == 2
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "lift_top_decile": lift_top_decile(y, p),
        "churn_rate": float(np.mean(y)),
        "mean_predicted": float(np.mean(p)),
        "n": len(y),
    }


def paired_bootstrap(
    y: np.ndarray, p_a: np.ndarray, p_b: np.ndarray, n_boot: int = 200, seed: int = 0
) -> dict[str, float]:
    """PR AUC and ROC AUC of scorer a minus scorer b on the same rows, with the 2.5 and 97.5
    percentiles of that difference over `n_boot` resamples of the rows (both scorers on the
    same resample): whether a margin on one back-test is more than the luck of who bought."""
    y, p_a, p_b = np.asarray(y), np.asarray(p_a), np.asarray(p_b)
    rng = np.random.default_rng(seed)
    ranked = (_Ranked(y, p_a), _Ranked(y, p_b))
    out: dict[str, float] = {}
    for name, fn in (("pr_auc", average_precision_score), ("roc_auc", roc_auc_score)):
        if len(np.unique(y)) < 2:
            out.update(
                {name: float("nan"), f"{name}_low": float("nan"), f"{name}_high": float("nan")}
            )
            continue
        diffs = []
        for _ in range(n_boot):
            idx = rng.integers(0, len(y), len(y))
            if 0 < y[idx].sum() < len(idx):
                w = np.bincount(idx, minlength=len(y)).astype("float64")
                a, b = (getattr(r, name)(w) for r in ranked)
                diffs.append(a - b)
        out[name] = float(fn(y, p_a) - fn(y, p_b))
        out[f"{name}_low"], out[f"{name}_high"] = (
            float(q) for q in np.percentile(diffs, [2.5, 97.5])
        )
    return out


class _Ranked:
    """Rows sorted once by descending score, grouped by tied score: the PR AUC and ROC AUC of
    a bootstrap resample are then weighted sums over the groups (a row drawn k times weighs
    k), the values scikit-learn gives on the resampled rows, without sorting again."""

    def __init__(self, y: np.ndarray, p: np.ndarray) -> None:
        order = np.argsort(-np.asarray(p, dtype="float64"), kind="stable")
        sorted_p = np.asarray(p, dtype="float64")[order]
        self.order = order
        self.y = np.asarray(y, dtype="float64")[order]
        self.starts = np.flatnonzero(np.r_[True, sorted_p[1:] != sorted_p[:-1]])

    def _groups(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = w[self.order]
        pos = np.add.reduceat(w * self.y, self.starts)
        neg = np.add.reduceat(w * (1.0 - self.y), self.starts)
        return pos, neg

    def pr_auc(self, w: np.ndarray) -> float:
        """Average precision: precision at each threshold weighted by the recall it adds."""
        pos, neg = self._groups(w)
        tp, fp = np.cumsum(pos), np.cumsum(neg)
        seen = (tp + fp) > 0
        precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=seen)
        return float(np.sum(pos * precision) / tp[-1])

    def roc_auc(self, w: np.ndarray) -> float:
        """P(a positive scores above a negative), ties counted half."""
        pos, neg = self._groups(w)
        neg_below = neg.sum() - np.cumsum(neg)  # negatives with a lower score
        return float(np.sum(pos * (neg_below + 0.5 * neg)) / (pos.sum() * neg.sum()))


def top_decile_share(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Share of the actual revenue made by the 10 % of customers with the highest prediction."""
    actual = np.asarray(actual, dtype="float64")
    total = actual.sum()
    if total <= 0:
        return float("nan")
    k = max(1, math.ceil(len(actual) / 10))
    top = np.argsort(-np.asarray(predicted), kind="stable")[:k]
    return float(actual[top].sum() / total)


def value_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    actual = np.asarray(actual, dtype="float64")
    predicted = np.asarray(predicted, dtype="float64")
    rho = spearmanr(actual, predicted).statistic if len(actual) > 1 else float("nan")
    return {
        "spearman": float(rho),
        "mae": float(np.mean(np.abs(actual - predicted))),
        "top_decile_share": top_decile_share(actual, predicted),
        "actual_mean": float(actual.mean()),
        "predicted_mean": float(predicted.mean()),
        "n": len(actual),
    }


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def _metric_table(first: str, columns: list[tuple[str, str, str]], table) -> str:
    """A markdown table, a row per scorer: `columns` are (title, metric key, format)."""
    header = [first, *(title for title, _, _ in columns), "n"]
    rows = [
        [name, *(format(m[key], spec) for _, key, spec in columns), str(m["n"])]
        for name, m in table.items()
    ]
    return _markdown(header, rows)


def metrics_markdown(table: dict[str, dict[str, float]]) -> str:
    columns = [
        ("ROC AUC", "roc_auc", ".4f"),
        ("PR AUC", "pr_auc", ".4f"),
        ("Brier", "brier", ".4f"),
        ("lift top decile", "lift_top_decile", ".2f"),
        ("churn rate", "churn_rate", ".3f"),
    ]
    return _metric_table("scorer", columns, table)


def value_markdown(table: dict[str, dict[str, float]]) -> str:
    columns = [
        ("Spearman", "spearman", ".4f"),
        ("MAE", "mae", ".2f"),
        ("top-decile revenue share", "top_decile_share", ".3f"),
        ("actual mean", "actual_mean", ".2f"),
        ("predicted mean", "predicted_mean", ".2f"),
    ]
    return _metric_table("value model", columns, table)


def calibration_markdown(calibration: dict[str, pd.DataFrame]) -> str:
    names = list(calibration)
    header = ["decile"] + [f"{n} {kind}" for n in names for kind in ("predicted", "observed")]
    tables = [calibration[n].set_index("decile") for n in names]
    rows = []
    for decile in tables[0].index:
        cells = [str(decile)]
        for t in tables:
            cells += [
                f"{t.loc[decile, 'mean_predicted']:.3f}",
                f"{t.loc[decile, 'observed_rate']:.3f}",
            ]
        rows.append(cells)
    return _markdown(header, rows)
