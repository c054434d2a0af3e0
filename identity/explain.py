"""Why two records were (or were not) linked: each comparison's level and weight for a pair.

Used by ``cdp resolve --explain-pair`` and by whoever reviews ``identity.possible_matches``;
the fitted model itself as a table (``cdp resolve --explain``) or Markdown (Dagster metadata).
The pair is scored with the model a run fitted (``stats["model"]`` or a row of
``identity.match_models``), on the same normalised values and term frequencies as the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from identity import compare as cmp
from identity import fellegi_sunter as fs
from identity.config import IdentityConfig
from identity.records import prepare


def model_table(model: dict) -> pd.DataFrame:
    """A fitted model (:meth:`FittedModel.as_dict`) as rows: field, level, m, u, weight, review."""
    return pd.DataFrame(
        [
            {"field": f, "level": lv["name"], "m": lv["m"], "u": lv["u"],
             "weight": lv["weight"], "review": lv["review"]}
            for f, levels in model["comparisons"].items()
            for lv in levels
        ]
    )  # fmt: skip


def model_markdown(model: dict) -> str:
    """The fitted model as a Markdown table (Dagster metadata, docs)."""
    lines = [
        f"prior {model['prior']:.4f} over {model['candidate_pairs']} candidate pairs",
        "",
        "| field | level | m | u | weight (bits) | review |",
        "|---|---|---|---|---|---|",
    ]
    for row in model_table(model).itertuples(index=False):
        lines.append(
            f"| {row.field} | {row.level} | {row.m:.5f} | {row.u:.6f} | {row.weight:.2f} "
            f"| {row.review} |"
        )
    return "\n".join(lines)


def _fitted(model: dict) -> fs.FittedModel:
    comps = {
        f: [
            fs.LevelParams(lv["name"], lv["m"], lv["u"], lv["review"], lv["fixed"]) for lv in levels
        ]
        for f, levels in model["comparisons"].items()
    }
    return fs.FittedModel(
        model["prior"],
        comps,
        model["candidate_pairs"],
        model["u_sample_pairs"],
        model["iterations"],
        model["converged"],
        model["estimated"],
    )


def explain_pair(
    records: pd.DataFrame, config: IdentityConfig, model: dict, record_a: str, record_b: str
) -> tuple[pd.DataFrame, dict]:
    """(one row per comparison: field, value_a, value_b, level, weight; totals) for a pair."""
    norm = prepare(records.reset_index(drop=True), config)
    pos = pd.Series(np.arange(len(norm)), index=norm["record_id"])
    missing = [r for r in (record_a, record_b) if r not in pos.index]
    if missing:
        raise KeyError(f"no record with id {missing}")
    a = np.array([pos[record_a]], dtype=np.int64)
    b = np.array([pos[record_b]], dtype=np.int64)
    coded = cmp.encode_fields(norm)
    fitted = _fitted(model)
    g = fs.levels(coded, a, b, config, fitted)
    tf_u = fs.term_frequency_u(coded, a, g, config, fitted)
    weight, probability, held = fs.score(g, fitted, config, tf_u)
    rows = []
    for i, comp in enumerate(config.probabilistic.comparisons):
        j = int(g[0, i])
        level = comp.levels[j].name if j >= 0 else "missing"
        params = fitted.comparisons[comp.field]
        w = 0.0 if j < 0 else params[j].weight
        if j >= 0 and i in tf_u and comp.levels[j].term_frequency:
            w = float(np.log2(params[j].m / tf_u[i][0]))
        rows.append(
            {
                "field": comp.field,
                "value_a": norm.at[int(a[0]), comp.field],
                "value_b": norm.at[int(b[0]), comp.field],
                "level": level,
                "weight": round(w, 3),
            }
        )
    totals = {
        "weight": round(float(weight[0]), 3),
        "prior": fitted.prior,
        "probability": float(probability[0]),
        "held_for_review": fs.HELD[int(held[0])] or None,
    }
    return pd.DataFrame(rows), totals
