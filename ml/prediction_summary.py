"""The `cdp demo` / `cdp bench` section on propensity, leads and recommendations, from the
metadata of the Dagster assets (`orchestration/ml/prediction_assets.py`)."""

from __future__ import annotations

CLASSIFIERS = (("ml/propensity_model", "propensity (30 d)"), ("ml/lead_model", "leads (90 d)"))


def format_predictions(materializations: dict[str, dict]) -> str:
    """Back-test metrics next to the baselines, and what was written."""
    lines = []
    for key, label in CLASSIFIERS:
        meta = materializations.get(key)
        if meta is None:
            lines.append(f"{label}: not trained")
            continue
        metrics = meta.get("metrics_json")
        if not metrics:
            lines.append(f"{label}: {meta.get('backtest_note', 'no back-test')}")
            continue
        lines.append(
            f"{label} back-test at {meta.get('backtest_cutoff')} (chosen {meta['chosen']}):"
        )
        for name, m in metrics.items():
            lines.append(
                f"  {name:<28} PR AUC {m['pr_auc']:.3f}  ROC AUC {m['roc_auc']:.3f}  "
                f"Brier {m['brier']:.4f}  positives {m['churn_rate']:.3f} of {m['n']:,}"
            )
    meta = materializations.get("ml/recommendation_model")
    if meta and meta.get("metrics_json"):
        lines.append(
            f"recommendations back-test from {meta.get('backtest_cutoff')} (chosen {meta['chosen']}):"
        )
        for name, m in meta["metrics_json"].items():
            lines.append(
                f"  {name:<28} hit rate@5 {m['hit_rate_at_5']:.3f}  recall@10 "
                f"{m['recall_at_10']:.3f}  buyers {m['n']:,}"
            )
    scores = materializations.get("ml/purchase_scores", {})
    recs = materializations.get("ml/product_recommendations", {})
    if scores:
        lines.append(
            f"scored: {scores.get('buyers_scored', 0):,} buyers, {scores.get('leads_scored', 0):,} "
            f"leads; recommendations for {recs.get('persons', 0):,} persons {recs.get('reasons')}"
        )
    return "\n".join(lines)
