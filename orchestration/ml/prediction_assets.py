"""Propensity, lead-scoring and recommendation assets (`ml/prediction_scoring.py`).

`ml/propensity_model`, `ml/lead_model`, `ml/recommendation_model`: back-test + versioned
artifact with its model card, metrics as metadata; trained only when due (`retrain_after_days`
of their section in predictions.yaml, a changed section, a full-refresh run), otherwise the
newest artefact is reused (`orchestration/ml/cadence.py`). `ml/purchase_scores`,
`ml/product_recommendations`, `ml/product_recommendations_top`: the `ml.*` tables.
"""

import dagster as dg

from orchestration.ml.cadence import model_result
from orchestration.ml.inputs import ML_INPUTS, ml_asset, model_inputs
from orchestration.shared.dbt import dbt_model_key
from orchestration.shared.keys import PURCHASE_SCORES
from orchestration.shared.resources import WarehouseResource

PROPENSITY_MODEL = dg.AssetKey(["ml", "propensity_model"])
LEAD_MODEL = dg.AssetKey(["ml", "lead_model"])
RECOMMENDATION_MODEL = dg.AssetKey(["ml", "recommendation_model"])
PRODUCT_RECOMMENDATIONS = dg.AssetKey(["ml", "product_recommendations"])
PRODUCT_RECOMMENDATIONS_TOP = dg.AssetKey(["ml", "product_recommendations_top"])
CATALOG = dbt_model_key("stg_catalog__products")


def _table(metrics: dict) -> str:
    names = sorted({k for m in metrics.values() for k in m})
    lines = ["| scorer | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for scorer, m in metrics.items():
        cells = [f"{m[k]:.4f}" if isinstance(m.get(k), float) else str(m.get(k)) for k in names]
        lines.append(f"| {scorer} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _model_metadata(run) -> dict:
    card = run.card
    meta = {
        "model_version": dg.MetadataValue.text(run.version),
        "artifact_path": dg.MetadataValue.path(str(run.path)),
        "chosen": dg.MetadataValue.text(str(card["chosen"])),
        "validation": dg.MetadataValue.json(card["validation"]),
    }
    backtest = card.get("backtest")
    if backtest:
        meta["backtest_cutoff"] = dg.MetadataValue.text(backtest["cutoff"])
        meta["metrics"] = dg.MetadataValue.md(_table(backtest["metrics"]))
        meta["metrics_json"] = dg.MetadataValue.json(backtest["metrics"])
    else:
        meta["backtest_note"] = dg.MetadataValue.text(str(card.get("backtest_note")))
    return meta


def _behaviour(context: dg.AssetExecutionContext, warehouse: WarehouseResource, step):
    """`step(data, models_dir, con)` on every input (`orchestration.ml.inputs.model_inputs`)
    and the warehouse connection (the scoring writes its tables there)."""
    from cdp.settings import get_settings
    from ml.inputs import BEHAVIOUR_INPUTS, CHURN_INPUTS

    with model_inputs(context, warehouse, (*CHURN_INPUTS, *BEHAVIOUR_INPUTS)) as (con, data):
        return step(data, get_settings().models_dir, con)


def _classifier_metadata(run) -> dict:
    meta = _model_metadata(run)
    meta["training_rows"] = dg.MetadataValue.int(run.card["training_rows"])
    meta["features"] = dg.MetadataValue.json(run.card["features"])
    if run.card.get("backtest"):
        model = run.card["backtest"]["metrics"]["model"]
        meta["pr_auc"] = dg.MetadataValue.float(model["pr_auc"])
        meta["roc_auc"] = dg.MetadataValue.float(model["roc_auc"])
    return meta


def _classifier_asset(key: dg.AssetKey, task: str, description: str):
    @ml_asset(
        key=key,
        deps=[ML_INPUTS],
        description=description,
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        from ml.prediction_config import load_predictions_config
        from ml.prediction_scoring import train_classifier

        cfg = load_predictions_config()
        return model_result(
            context,
            task,
            getattr(cfg, task),
            lambda: _behaviour(
                context,
                warehouse,
                lambda data, models, _con: train_classifier(data, task, cfg, models),
            ),
            _classifier_metadata,
        )

    return _asset


propensity_model = _classifier_asset(
    PROPENSITY_MODEL,
    "propensity",
    "Purchase propensity: P(an order within horizon_days) for persons who bought before, "
    "gradient boosting on order, web (product views, add-to-carts, sessions), cart and e-mail "
    "features; back-test next to a recency-frequency logistic baseline; artifact + card under "
    "<models_dir>/propensity/<version>/.",
)
lead_model = _classifier_asset(
    LEAD_MODEL,
    "leads",
    "Lead scoring: P(a first order within horizon_days) for identified persons who never "
    "bought; back-test next to a recency-frequency baseline of their touches; artifact + card "
    "under <models_dir>/leads/<version>/.",
)


@ml_asset(
    key=RECOMMENDATION_MODEL,
    deps=[ML_INPUTS],
    description=(
        "Product recommender (category affinity, item co-occurrence or implicit ALS blended "
        "with popularity, chosen inside the training window; popularity fallback); back-test "
        "hit rate@5 and recall@10 next to popularity."
    ),
)
def recommendation_model(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from cdp.settings import get_settings
    from ml.inputs import RECOMMENDER_INPUTS
    from ml.prediction_config import load_predictions_config
    from ml.prediction_scoring import RECOMMENDER, train_recommender

    cfg = load_predictions_config()

    def train():
        with model_inputs(context, warehouse, RECOMMENDER_INPUTS, views=True) as (_con, data):
            return train_recommender(data, cfg, get_settings().models_dir)

    return model_result(context, RECOMMENDER, cfg.recommendations, train, _recommender_metadata)


def _recommender_metadata(run) -> dict:
    meta = _model_metadata(run)
    model = run.card["backtest"]["metrics"]["model"]
    meta["hit_rate_at_5"] = dg.MetadataValue.float(model["hit_rate_at_5"])
    meta["recall_at_10"] = dg.MetadataValue.float(model["recall_at_10"])
    meta["interactions"] = dg.MetadataValue.int(run.card["interactions"])
    return meta


@ml_asset(
    key=PURCHASE_SCORES,
    deps=[ML_INPUTS, PROPENSITY_MODEL, LEAD_MODEL],
    description=(
        "ml.purchase_scores: purchase_propensity and propensity_decile (buyers), lead_score "
        "and leads_decile (identified persons who never bought), with both model versions; "
        "ml.purchase_score_drift: PSI per feature and score."
    ),
)
def purchase_scores(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from ml.prediction_scoring import score_purchases

    scores, drift = _behaviour(context, warehouse, score_purchases)
    drifted = drift[drift["drifted"]]
    if len(drifted):
        context.log.warning(
            "PSI above threshold: "
            + ", ".join(f"{r.model}.{r.column}={r.psi:.3f}" for r in drifted.itertuples())
        )
    return dg.MaterializeResult(
        metadata={
            "buyers_scored": dg.MetadataValue.int(int(scores["purchase_propensity"].notna().sum())),
            "leads_scored": dg.MetadataValue.int(int(scores["lead_score"].notna().sum())),
            "mean_purchase_propensity": dg.MetadataValue.float(
                float(scores["purchase_propensity"].mean())
            ),
            "mean_lead_score": dg.MetadataValue.float(float(scores["lead_score"].mean())),
            "max_psi": dg.MetadataValue.float(
                float(drift.loc[drift["alarm"], "psi"].max()) if drift["alarm"].any() else 0.0
            ),
        }
    )


@ml_asset(
    key=PRODUCT_RECOMMENDATIONS,
    deps=[ML_INPUTS, CATALOG, RECOMMENDATION_MODEL],
    description=(
        "ml.product_recommendations (person_id, rank, sku, product_name, product_url, score, "
        "reason, model_version): in-stock products only, nothing bought in the last "
        "exclude_bought_days, popular products for persons without history."
    ),
)
def product_recommendations(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from cdp.settings import get_settings
    from ml.inputs import RECOMMENDER_INPUTS
    from ml.recommend_scoring import write_recommendations

    with model_inputs(context, warehouse, RECOMMENDER_INPUTS, views=True) as (con, data):
        summary = write_recommendations(data, get_settings().models_dir, con)
    return dg.MaterializeResult(
        metadata={
            "persons": dg.MetadataValue.int(summary["persons"]),
            "rows": dg.MetadataValue.int(summary["rows"]),
            "reasons": dg.MetadataValue.json(summary["reasons"]),
        }
    )


@ml_asset(
    key=PRODUCT_RECOMMENDATIONS_TOP,
    deps=[PRODUCT_RECOMMENDATIONS],
    description=(
        "ml.product_recommendations_top: one row per person with product_<k>_name and "
        "product_<k>_url for k = 1..sync_top, for syncs (e.g. an e-mail tool)."
    ),
)
def product_recommendations_top(warehouse: WarehouseResource):
    from ml.prediction_config import load_predictions_config
    from ml.prediction_scoring import write_top

    top = load_predictions_config().recommendations.sync_top
    with warehouse.connect() as con:
        persons = write_top(con, top)
    return dg.MaterializeResult(metadata={"persons": dg.MetadataValue.int(persons)})


ASSETS = [
    propensity_model,
    lead_model,
    recommendation_model,
    purchase_scores,
    product_recommendations,
    product_recommendations_top,
]
