"""Warehouse side of propensity, lead scoring and recommendations: read, train, back-test,
save versioned artifacts with model cards, score and write `ml.*` tables.

Scoring cutoff `T` = the latest purchase date. Classifier back-test: trained as of
`E = T - horizon`, graded at `E` on the purchases of the horizon after it. Recommendation
back-test: trained as of `E = T - test_days`, graded on the purchases of `(E, T]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ml import propensity as clf
from ml import propensity_features as pf
from ml import recommend as rec
from ml.artifact import load_named, save_named, versioned
from ml.behaviour import BehaviourData
from ml.drift import bin_counts, drift_report
from ml.model import InsufficientHistoryError
from ml.prediction_config import PredictionsConfig

PURCHASE_SCORES = "ml.purchase_scores"
PURCHASE_DRIFT = "ml.purchase_score_drift"
RECOMMENDATIONS = "ml.product_recommendations"
RECOMMENDATIONS_TOP = "ml.product_recommendations_top"
TASKS = (clf.PROPENSITY, clf.LEADS)
RECOMMENDER = "recommendations"


def load_products(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """`sku, product_name, category, price, stock_quantity, is_active, product_url` (the page
    most often seen with the product in the web events)."""
    return con.execute(
        """WITH u AS (SELECT product_sku AS sku, page_url, count(*) AS n
                      FROM staging.stg_web__events
                      WHERE event_type = 'product_view' AND page_url IS NOT NULL
                      GROUP BY ALL),
                best AS (SELECT sku, arg_max(page_url, n) AS product_url FROM u GROUP BY sku)
           SELECT p.sku, p.product_name, p.category, CAST(p.price AS DOUBLE) AS price,
                  p.stock_quantity, coalesce(p.is_active, false) AS is_active, best.product_url
           FROM staging.stg_catalog__products p LEFT JOIN best USING (sku)
           ORDER BY p.sku"""
    ).df()


def in_stock(products: pd.DataFrame, min_stock: int) -> set[str]:
    ok = products["is_active"].astype(bool) & (products["stock_quantity"].fillna(0) >= min_stock)
    return set(products.loc[ok, "sku"])


@dataclass
class ModelRun:
    name: str
    version: str
    path: Path
    card: dict
    model: object


def _card(name: str, version: str, as_of: date, data: BehaviourData, cfg, extra: dict) -> dict:
    first, _ = data.base.date_range()
    return {
        "version": version,
        "model": name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_window": {"first_purchase": first.isoformat(), "as_of": as_of.isoformat()},
        "data_hash": data.base.data_hash(),
        "config": cfg.model_dump(mode="json"),
        **extra,
    }


def train_classifier(
    data: BehaviourData, task: str, cfg: PredictionsConfig, models_dir: Path
) -> ModelRun:
    """Back-test as of `T - horizon`, then train as of `T` and save model + card."""
    task_cfg = getattr(cfg, task)
    _first, scoring_cutoff = data.base.date_range()
    if scoring_cutoff is None:
        raise InsufficientHistoryError("no purchases with a known person in the orders")
    eval_cutoff = scoring_cutoff - timedelta(days=task_cfg.horizon_days)
    backtest, note = None, None
    try:
        bt_model = clf.train(data, task, eval_cutoff, task_cfg, cfg.seed, cfg.threads)
        backtest = clf.evaluate(bt_model, data, eval_cutoff, task_cfg.backtest_max_rows, cfg.seed)
        backtest["training_cutoffs"] = [c.isoformat() for c in bt_model.cutoffs]
        backtest["chosen"] = bt_model.chosen
        backtest["validation"] = bt_model.validation
    except InsufficientHistoryError as exc:
        note = f"no back-test at {eval_cutoff}: {exc}"
    trained = clf.train(data, task, scoring_cutoff, task_cfg, cfg.seed, cfg.threads)
    version = versioned(task, scoring_cutoff, data.base.data_hash(), cfg.model_dump(mode="json"))
    label = {
        clf.PROPENSITY: "a purchase within {h} days after the cutoff (persons who bought before)",
        clf.LEADS: "a first purchase within {h} days (identified persons who never bought)",
    }[task].format(h=task_cfg.horizon_days)
    card = _card(
        task,
        version,
        scoring_cutoff,
        data,
        task_cfg,
        {
            "label": label,
            "horizon_days": task_cfg.horizon_days,
            "training_cutoffs": [c.isoformat() for c in trained.cutoffs],
            "training_rows": trained.n_training_rows,
            "training_positive_rate": trained.positive_rate,
            "chosen": trained.chosen,
            "chosen_params": trained.chosen_params,
            "validation": trained.validation,
            "features": trained.feature_names,
            "baseline": {
                "name": clf.BASELINE,
                "features": list(clf.BASELINE_FEATURES[task]),
                "model": "logistic regression on log1p of the features",
            },
            "drift_reference_cutoff": trained.reference_cutoff.isoformat(),
            "backtest": backtest,
            "backtest_note": note,
        },
    )
    path = save_named(models_dir, task, version, trained, card)
    return ModelRun(task, version, path, card, trained)


def train_recommender(data: BehaviourData, cfg: PredictionsConfig, models_dir: Path) -> ModelRun:
    rcfg = cfg.recommendations
    _first, scoring_cutoff = data.base.date_range()
    eval_cutoff = scoring_cutoff - timedelta(days=rcfg.test_days)
    # the back-test's validation, its training (= the final validation) and the final fit
    cutoffs = [eval_cutoff - timedelta(days=rcfg.test_days), eval_cutoff, scoring_cutoff]
    with rec.interactions_of(data, cutoffs, rcfg):
        backtest = rec.backtest(data, eval_cutoff, scoring_cutoff, rcfg, cfg.seed, cfg.threads)
        rec.release(data, eval_cutoff)  # the back-test's validation cutoff is not used again
        trained = rec.train(data, scoring_cutoff, rcfg, cfg.seed, cfg.threads)
    backtest["note"] = (
        "graded without the stock filter: stock is known today only, not as of the cutoff"
    )
    version = versioned(
        RECOMMENDER, scoring_cutoff, data.base.data_hash(), cfg.model_dump(mode="json")
    )
    card = _card(
        RECOMMENDER,
        version,
        scoring_cutoff,
        data,
        rcfg,
        {
            "library": "implicit (alternating least squares, item-item cosine / BM25)",
            "chosen": trained.kind,
            "chosen_params": trained.params,
            "validation": trained.validation,
            "users": len(trained.interactions.users),
            "items": len(trained.interactions.items),
            "interactions": int(trained.interactions.matrix.nnz),
            "backtest": backtest,
        },
    )
    path = save_named(models_dir, RECOMMENDER, version, trained, card)
    return ModelRun(RECOMMENDER, version, path, card, trained)


def score_purchases(
    data: BehaviourData, models_dir: Path, warehouse: duckdb.DuckDBPyConnection
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score buyers (propensity) and leads (lead score) at `T` with the latest artifacts; write
    `ml.purchase_scores` and `ml.purchase_score_drift`. Returns both frames."""
    _first, cutoff = data.base.date_range()
    scored_at = pd.Timestamp(datetime.now(UTC))
    parts, drifts = [], []
    for task, column in ((clf.PROPENSITY, "purchase_propensity"), (clf.LEADS, "lead_score")):
        trained, card = load_named(models_dir, task)
        ids, probabilities, counts = [], [], None
        for where in pf.id_ranges(data, task, cutoff):  # the features of a range at a time
            frame = pf.features_at(data, task, cutoff, trained.horizon_days, where=where)
            p = trained.predict(frame)
            ids.append(frame["customer_id"].astype(str).to_numpy())
            probabilities.append(p)
            counts = bin_counts(trained.reference, frame.assign(score=p), counts)
        p = np.concatenate(probabilities)
        part = pd.DataFrame({"person_id": np.concatenate(ids), column: p})
        part[f"{task}_decile"] = (
            (pd.Series(p).rank(method="first", pct=True) * 10)
            .apply(np.ceil)
            .clip(1, 10)
            .astype("int64")
            .to_numpy()
        )
        part[f"{task}_model_version"] = card["version"]
        parts.append(part)
        report = drift_report(
            trained.reference,
            counts or {},
            card["config"]["drift"]["psi_threshold"],
            exclude=card["config"]["drift"]["exclude"],
        )
        drifts.append(report.assign(model=task, model_version=card["version"]))
    scores = parts[0].merge(parts[1], on="person_id", how="outer")
    scores["is_lead"] = scores["lead_score"].notna()
    scores["scored_at"] = scored_at
    scores = scores.sort_values("person_id").reset_index(drop=True)
    drift = pd.concat(drifts, ignore_index=True)
    _replace(warehouse, PURCHASE_SCORES, scores)
    _replace(warehouse, PURCHASE_DRIFT, drift)
    return scores, drift


def write_top(warehouse: duckdb.DuckDBPyConnection, top: int) -> int:
    """One row per person with the first `top` product names and URLs, for syncs."""
    cols = ", ".join(
        f"max(product_name) FILTER (WHERE rank = {k}) AS product_{k}_name, "
        f"max(product_url) FILTER (WHERE rank = {k}) AS product_{k}_url"
        for k in range(1, top + 1)
    )
    warehouse.execute(
        f"""CREATE OR REPLACE TABLE {RECOMMENDATIONS_TOP} AS
        SELECT person_id, {cols}, any_value(model_version) AS model_version
        FROM {RECOMMENDATIONS} WHERE rank <= {int(top)} GROUP BY person_id ORDER BY person_id"""
    )
    return warehouse.execute(f"SELECT count(*) FROM {RECOMMENDATIONS_TOP}").fetchone()[0]


def _replace(warehouse: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    warehouse.execute("CREATE SCHEMA IF NOT EXISTS ml")
    warehouse.register("_ml_frame", frame)
    try:
        warehouse.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _ml_frame")
    finally:
        warehouse.unregister("_ml_frame")
