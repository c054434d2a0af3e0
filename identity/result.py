"""The output of the identity engine: the result frames (record ids instead of positions) and
the run statistics."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from identity import fellegi_sunter as fs

REPORT_COLUMNS = ["kind", "rule", "id_type", "value", "count", "detail"]


@dataclass
class ResolutionResult:
    """What :func:`resolve` returns.

    ``graph``: ``record_id, person_id, match_rule`` (one row per input record).
    ``edges``: ``record_id_a, record_id_b, rule, score`` (the links that formed the persons).
    ``merges``: ``merged_person_id, into_person_id, merged_at`` (previous persons absorbed).
    ``cluster_report``: ``kind, rule, id_type, value, count, detail`` (values dropped by
    blocklists or frequency caps, oversized blocks and clusters, input problems).
    ``possible_matches``: ``record_id_a, record_id_b, score, reason`` (pairs for review).
    ``stats``: counts and seconds per stage.
    """

    graph: pd.DataFrame
    edges: pd.DataFrame
    merges: pd.DataFrame
    cluster_report: pd.DataFrame
    possible_matches: pd.DataFrame
    stats: dict = field(default_factory=dict)
    #: ``split_person_id, into_person_id, records, split_at``: parts that left a previous person
    splits: pd.DataFrame | None = None
    #: what the next run needs to be incremental (``identity.incremental.PriorState``)
    state: Any = None


def _empty_result(report: list[dict], seconds: float) -> ResolutionResult:
    text = pd.Series([], dtype="str")
    result = ResolutionResult(
        graph=pd.DataFrame({"record_id": text, "person_id": text, "match_rule": text}),
        edges=pd.DataFrame(
            {
                "record_id_a": text,
                "record_id_b": text,
                "rule": text,
                "score": pd.Series([], dtype=float),
            }
        ),
        merges=pd.DataFrame(
            {
                "merged_person_id": text,
                "into_person_id": text,
                "merged_at": pd.Series([], dtype="datetime64[us, UTC]"),
            }
        ),
        cluster_report=pd.DataFrame(report, columns=REPORT_COLUMNS),
        possible_matches=pd.DataFrame(
            {
                "record_id_a": text,
                "record_id_b": text,
                "score": pd.Series([], dtype=float),
                "reason": text,
            }
        ),
    )
    result.stats = run_stats(result, np.zeros(0, int), 0, {"total": seconds})
    return result


def run_stats(
    result: ResolutionResult,
    labels: np.ndarray,
    n_candidates: int,
    timings: dict[str, float],
    model: fs.FittedModel | None = None,
) -> dict:
    """The counts of a run, read from its result frames, and the seconds of each stage."""
    n = len(result.graph)
    sizes = np.bincount(labels) if n else np.zeros(0, int)
    stats = {
        "records": n,
        "persons": len(sizes),
        "largest_person": int(sizes.max()) if n else 0,
        "edges_per_rule": {k: int(v) for k, v in result.edges["rule"].value_counts().items()},
        "records_per_rule": {
            k: int(v) for k, v in result.graph["match_rule"].value_counts().items()
        },
        "candidate_pairs": int(n_candidates),
        "possible_matches": len(result.possible_matches),
        "merges": len(result.merges),
        "seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    if model is not None:
        stats["model"] = model.as_dict()
    return stats


def build_result(
    record_ids: pd.Series,
    person_ids: np.ndarray,
    match_rule: np.ndarray,
    edges: pd.DataFrame,
    possible: pd.DataFrame,
    merges: pd.DataFrame,
    report: list[dict],
    labels: np.ndarray,
    model: fs.FittedModel,
    n_candidates: int,
    timings: dict[str, float],
    started: float,
) -> ResolutionResult:
    """The result of a run over ``len(record_ids)`` records (positions mapped to record ids)."""
    # record ids stay Arrow strings (``take`` gathers them): a Python string per id and per
    # link end took gigabytes at 1.4M customers
    rid = record_ids.astype("str").array
    graph = pd.DataFrame({"record_id": rid, "person_id": person_ids, "match_rule": match_rule})
    edges_out = pd.DataFrame(
        {
            "record_id_a": rid.take(edges["a"].to_numpy(dtype=np.int64)),
            "record_id_b": rid.take(edges["b"].to_numpy(dtype=np.int64)),
            "rule": edges["rule"].to_numpy(),
            "score": edges["score"].to_numpy(dtype=float),
        }
    )
    possible_out = pd.DataFrame(
        {
            "record_id_a": rid.take(possible["a"].to_numpy(dtype=np.int64)),
            "record_id_b": rid.take(possible["b"].to_numpy(dtype=np.int64)),
            "score": possible["score"].to_numpy(dtype=float),
            "reason": possible["reason"].to_numpy(),
        }
    )
    cluster_report = pd.DataFrame(report, columns=REPORT_COLUMNS)
    if len(cluster_report):
        cluster_report = cluster_report.sort_values(
            ["kind", "count"], ascending=[True, False], ignore_index=True
        )
    result = ResolutionResult(
        graph=graph,
        edges=edges_out,
        merges=merges,
        cluster_report=cluster_report,
        possible_matches=possible_out,
    )
    timings["total"] = time.perf_counter() - started
    result.stats = run_stats(result, labels, n_candidates, timings, model)
    return result
