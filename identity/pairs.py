"""Helpers the stages share: report rows, pairs inside groups, connected components."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def finding(
    kind: str,
    count: int,
    detail: str,
    *,
    rule: str | None = None,
    id_type: str | None = None,
    value: str | None = None,
) -> dict:
    """One row of the resolution report (`identity.cluster_report`): what was ignored and why."""
    return dict(kind=kind, rule=rule, id_type=id_type, value=value, count=int(count), detail=detail)


def pairs_within_groups(order: np.ndarray, codes_sorted: np.ndarray) -> tuple[np.ndarray, ...]:
    """All pairs (i<j positions) of records sharing a group code, vectorised.

    ``order`` are record indices sorted by group code, ``codes_sorted`` their codes. Returns
    (a, b) record indices. Cost is sum(k*(k-1)/2) over groups: callers cap group sizes.
    """
    n = len(order)
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    boundaries = np.flatnonzero(np.diff(codes_sorted)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [n]))
    group_end = np.repeat(ends, ends - starts)
    pos = np.arange(n)
    cnt = group_end - pos - 1
    total = int(cnt.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    a_pos = np.repeat(pos, cnt)
    offsets = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    b_pos = a_pos + 1 + offsets
    return order[a_pos].astype(np.int64), order[b_pos].astype(np.int64)


def chain_within_groups(order: np.ndarray, codes_sorted: np.ndarray) -> tuple[np.ndarray, ...]:
    """Consecutive links (a spanning path) inside each group: n-1 edges for n records."""
    same = codes_sorted[1:] == codes_sorted[:-1]
    return order[:-1][same].astype(np.int64), order[1:][same].astype(np.int64)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of integers by a sort (numpy 2.4's hash-based unique is 15 times slower
    on millions of pair codes)."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels
