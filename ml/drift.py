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


def _counts(values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    """Values per bin, the missing ones last."""
    values = np.asarray(values, dtype="float64")
    missing = np.isnan(values)
    counts = np.bincount(
        np.searchsorted(inner_edges, values[~missing], side="right"),
        minlength=len(inner_edges) + 1,
    ).astype("float64")
    return np.append(counts, missing.sum())


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts


def _proportions(values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    return _shares(_counts(values, inner_edges))


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
    return _psi(reference, _counts(np.asarray(current, dtype="float64"), inner))


def _psi(reference: dict, counts: np.ndarray) -> float:
    expected = np.maximum(np.asarray(reference["proportions"], dtype="float64"), EPS)
    actual = np.maximum(_shares(counts), EPS)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def bin_counts(
    reference: dict, frame: pd.DataFrame, counts: dict[str, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """The values of `frame` per reference bin, for every column in both, added to `counts`
    (those of earlier parts of the population): PSI of a population scored part by part."""
    out = dict(counts or {})
    for col, ref in reference.items():
        if col in frame:
            got = _counts(frame[col].to_numpy(), np.asarray(ref["edges"], dtype="float64"))
            out[col] = got if col not in out else out[col] + got
    return out


def build_reference(frame: pd.DataFrame, columns: list[str], n_bins: int = 10) -> dict:
    """Reference bins for every column of `frame` listed in `columns`."""
    return {col: reference_bins(frame[col].to_numpy(), n_bins) for col in columns}


def drift_report(
    reference: dict,
    frame: pd.DataFrame | dict[str, np.ndarray],
    threshold: float,
    exclude: Iterable[str] = (),
) -> pd.DataFrame:
    """PSI per column present in both `reference` and `frame` (or its `bin_counts`), sorted
    by PSI descending.

    `drifted` is true past `threshold`, except for the columns of `exclude` (reported with
    `alarm = False`: their shift is expected by construction, e.g. tenure growing with time).
    """
    excluded = set(exclude)
    counts = frame if isinstance(frame, dict) else bin_counts(reference, frame)
    rows = [
        {"column": col, "psi": _psi(ref, counts[col]), "alarm": col not in excluded}
        for col, ref in reference.items()
        if col in counts
    ]
    report = pd.DataFrame(rows, columns=["column", "psi", "alarm"])
    report["drifted"] = (report["psi"] > threshold) & report["alarm"].astype(bool)
    return report.sort_values(["psi", "column"], ascending=[False, True]).reset_index(drop=True)
