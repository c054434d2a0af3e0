"""Quality of a person graph against the generator's ground truth.

Pairwise metrics are computed combinatorially from cluster sizes (a cluster of k records holds
k*(k-1)/2 pairs), never by enumerating pairs, so they run on millions of records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _pairs(sizes: pd.Series | np.ndarray) -> int:
    s = np.asarray(sizes, dtype=np.int64)
    return int((s * (s - 1) // 2).sum())


def truth_record_ids(truth: pd.DataFrame) -> pd.Series:
    """``"<source_system>:<source_key>"`` for ground-truth rows (the engine's record_id)."""
    return truth["source_system"].astype("str") + ":" + truth["source_key"].astype("str")


def evaluate(graph: pd.DataFrame, truth: pd.DataFrame, traps: pd.DataFrame | None = None) -> dict:
    """Pairwise precision / recall / F1 of ``graph`` (``record_id, person_id``) vs ``truth``.

    ``truth`` is ``identity.parquet`` (``source_system, source_key, person_id, is_test``) or any
    frame with ``record_id, person_id``. Only records present in both are scored (coverage is
    reported). ``over_merged``: predicted persons spanning more than one true person;
    ``under_merged``: true persons split over more than one predicted person. With ``traps``
    (``traps.parquet``: records that share a value but belong to different persons), counts the
    trap record pairs of different true persons that were put in the same predicted person
    (``trap_pairs_merged``, target 0), per trap type.
    """
    if "record_id" not in truth.columns:
        truth = truth.assign(record_id=truth_record_ids(truth))
    t = truth[["record_id", "person_id"]].rename(columns={"person_id": "true_id"})
    g = graph[["record_id", "person_id"]].rename(columns={"person_id": "pred_id"})
    t = t.assign(record_id=t["record_id"].astype("str")).drop_duplicates("record_id")
    g = g.assign(record_id=g["record_id"].astype("str")).drop_duplicates("record_id")
    both = t.merge(g, on="record_id", how="inner")
    tp = _pairs(both.groupby(["true_id", "pred_id"]).size())
    pred_pairs = _pairs(both.groupby("pred_id").size())
    true_pairs = _pairs(both.groupby("true_id").size())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    over = int((both.groupby("pred_id")["true_id"].nunique() > 1).sum())
    under = int((both.groupby("true_id")["pred_id"].nunique() > 1).sum())
    result = {
        "records_scored": len(both),
        "records_in_truth": len(t),
        "records_in_graph": len(g),
        "true_persons": int(both["true_id"].nunique()),
        "predicted_persons": int(both["pred_id"].nunique()),
        "true_pairs": true_pairs,
        "predicted_pairs": pred_pairs,
        "true_positive_pairs": tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "over_merged": over,
        "under_merged": under,
    }
    if traps is not None:
        result.update(_trap_check(traps, g))
    return result


def _trap_check(traps: pd.DataFrame, g: pd.DataFrame) -> dict:
    """Pairs of trap records (same trap type, different true persons) merged by the graph.

    For each trap type, counted combinatorially: pairs sharing a predicted person minus those
    that also share a true person.
    """
    if "record_id" not in traps.columns:
        traps = traps.assign(record_id=truth_record_ids(traps))
    tr = traps[["trap_type", "record_id", "person_id"]].drop_duplicates()
    tr = tr.assign(record_id=tr["record_id"].astype("str")).merge(g, on="record_id", how="inner")
    per_type = {}
    total = 0
    for trap_type, grp in tr.groupby("trap_type"):
        merged = _pairs(grp.groupby("pred_id").size()) - _pairs(
            grp.groupby(["pred_id", "person_id"]).size()
        )
        per_type[str(trap_type)] = merged
        total += merged
    return {"trap_records": len(tr), "trap_pairs_merged": total, "trap_pairs_by_type": per_type}
