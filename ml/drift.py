"""Population stability index between a reference (training) and a current distribution.

Bins are the reference deciles (configurable count); ties collapse bins, so discrete features
get one bin per distinct value range. Missing values form their own bin. Proportions are
floored at `EPS` so that an empty bin gives a large but finite PSI.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

EPS = 1e-4


def _proportions(values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype="float64")
    missing = np.isnan(values)
    counts = np.bincount(
        np.searchsorted(inner_edges, values[~missing], side="right"),
        minlength=len(inner_edges) + 1,
    ).astype("float64")
    counts = np.append(counts, missing.sum())
    total = counts.sum()
    return counts / total if total else counts


def reference_bins(values: Iterable[float], n_bins: int = 10) -> dict:
    """Bin edges (inner, from reference quantiles) and reference proportions for one column."""
    values = np.asarray(values, dtype="float64")
    finite = values[~np.isnan(values)]
    if finite.size:
        qs = np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1])
        inner = np.unique(qs)
    else:
        inner = np.array([], dtype="float64")
    return {"edges": inner.tolist(), "proportions": _proportions(values, inner).tolist()}


def psi(reference: dict, current: Iterable[float]) -> float:
    """PSI of `current` against a `reference_bins` result: sum((a - e) * ln(a / e))."""
    inner = np.asarray(reference["edges"], dtype="float64")
    expected = np.maximum(np.asarray(reference["proportions"], dtype="float64"), EPS)
    actual = np.maximum(_proportions(np.asarray(current, dtype="float64"), inner), EPS)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def build_reference(frame: pd.DataFrame, columns: list[str], n_bins: int = 10) -> dict:
    """Reference bins for every column of `frame` listed in `columns`."""
    return {col: reference_bins(frame[col].to_numpy(), n_bins) for col in columns}


def drift_report(
    reference: dict, frame: pd.DataFrame, threshold: float, exclude: Iterable[str] = ()
) -> pd.DataFrame:
    """PSI per column present in both `reference` and `frame`, sorted by PSI descending.

    `drifted` is true past `threshold`, except for the columns of `exclude` (reported with
    `alarm = False`: their shift is expected by construction, e.g. tenure growing with time).
    """
    excluded = set(exclude)
    rows = [
        {"column": col, "psi": psi(ref, frame[col].to_numpy()), "alarm": col not in excluded}
        for col, ref in reference.items()
        if col in frame
    ]
    report = pd.DataFrame(rows, columns=["column", "psi", "alarm"])
    report["drifted"] = (report["psi"] > threshold) & report["alarm"].astype(bool)
    return report.sort_values(["psi", "column"], ascending=[False, True]).reset_index(drop=True)
