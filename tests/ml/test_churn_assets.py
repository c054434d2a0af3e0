"""The Dagster churn assets and drift check on small marts in a temporary DuckDB warehouse."""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from ml import inputs
from ml.inputs import CHURN_INPUTS, shared_path
from orchestration.ml import defs
from orchestration.ml.assets import churn_model, churn_scores
from orchestration.ml.checks import churn_drift
from orchestration.ml.inputs import ML_INPUTS, ml_inputs
from orchestration.shared.dbt import dbt_model_key
from orchestration.shared.keys import FULL_REFRESH_TAG
from orchestration.shared.resources import WarehouseResource
from tests.ml.churn_synth import synth_orders

SMALL_CONFIG = """
horizon_days: 180
cutoff_spacing_days: 90
n_training_cutoffs: 4
min_history_days: 180
max_rows_per_cutoff: 5000
model: {max_iter: 60, min_samples_leaf: 50}
purchase_model: {max_fit_rows: 2000}
importance: {max_rows: 2000, n_repeats: 2}
drift: {psi_threshold: 0.2}
"""


def _build_marts(path) -> pd.DataFrame:
    orders, tickets = synth_orders(1500, seed=31, with_tickets=True)
    rng = np.random.default_rng(2)
    marts_orders = pd.DataFrame(
        {
            "order_key": np.where(orders["channel"] == "web", "web:", "store:")
            + orders["order_id"],
            "person_id": orders["customer_id"],
            "channel": orders["channel"],
            "source_order_id": orders["order_id"],
            "store_id": orders["store_id"],
            "ordered_at": orders["ordered_at"].dt.tz_localize("UTC"),
            "status": "complete",
            "is_return": orders["amount"] < 0,
            "item_count": 1,
            "gross_amount": orders["amount"].abs(),
            "discount_amount": 0.0,
            "net_amount": orders["amount"],
            "currency": "EUR",
        }
    )
    # noise the pipeline must leave out: receipts without a known person, cancelled orders
    noise = marts_orders.sample(200, random_state=1).assign(
        order_key=lambda d: d["order_key"] + "-x",
        person_id=lambda d: np.where(rng.uniform(size=200) < 0.5, None, "GHOST" + d["person_id"]),
        status=lambda d: np.where(d["person_id"].isna(), "complete", "canceled"),
    )
    marts_orders = pd.concat([marts_orders, noise], ignore_index=True)
    service = tickets.rename(columns={"customer_id": "person_id"}).assign(
        ticket_id=lambda d: "T-" + pd.Series(range(len(d)), index=d.index).astype(str),
        category="delivery",
    )
    engagement = pd.DataFrame(
        {"person_id": orders["customer_id"].unique(), "email_opens_30d": 0, "web_sessions_90d": 0}
    )
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    for name, frame in {
        "orders": marts_orders,
        "service_tickets": service,
        "engagement": engagement,
    }.items():
        con.register("f", frame)
        con.execute(f"CREATE TABLE marts.{name} AS SELECT * FROM f")
        con.unregister("f")
    con.close()
    return orders


@pytest.fixture
def env(tmp_path, monkeypatch):
    db = tmp_path / "warehouse.duckdb"
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "churn.yaml").write_text(SMALL_CONFIG)
    monkeypatch.setenv("CDP_WAREHOUSE", str(db))
    monkeypatch.setenv("CDP_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("CDP_CONFIG_DIR", str(tmp_path / "config"))
    orders = _build_marts(db)
    return tmp_path, db, orders


def test_defs_declare_the_contract_keys_and_lineage():
    # the domain binds `warehouse` itself: its definitions resolve alone
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"ml/churn_model", "ml/churn_scores"} <= keys
    for asset in (churn_model, churn_scores):
        assert ML_INPUTS in asset.asset_deps[asset.key]
    deps = {k.to_user_string() for k in ml_inputs.asset_deps[ML_INPUTS]}
    assert {"marts/orders", "marts/service_tickets", "marts/customer_timeline"} <= deps
    assert {k.to_user_string() for k in churn_scores.asset_deps[churn_scores.key]} >= {
        "ml/churn_model"
    }


def test_materialise_model_scores_and_drift_check(env):
    tmp_path, db, orders = env
    result = dg.materialize(
        [churn_model, churn_scores, churn_drift],
        resources={"warehouse": WarehouseResource(path=str(db))},
    )
    assert result.success

    # model artifact + card
    latest = json.loads((tmp_path / "models" / "churn" / "LATEST").read_text())["version"]
    card = json.loads((tmp_path / "models" / "churn" / latest / "model_card.json").read_text())
    assert (tmp_path / "models" / "churn" / latest / "model.joblib").exists()
    assert card["version"] == latest
    assert card["as_of"] == orders["ordered_at"].max().date().isoformat()
    assert (
        card["backtest"]["evaluation_cutoff"]
        == (orders["ordered_at"].max().normalize() - pd.Timedelta(days=180)).date().isoformat()
    )
    assert set(card["backtest"]["metrics"]) == {
        "model",
        "recency_baseline",
        "rfm_logistic",
        "bgnbd",
        "pnbd",
    }
    assert set(card["backtest"]["value_metrics"]) == {
        "model",
        "recent_revenue_baseline",
        "bgnbd_gamma_gamma",
        "pnbd_gamma_gamma",
    }
    assert card["training_rows"] > 0 and card["sklearn_version"]
    assert card["chosen"] == card["validation"]["chosen"]
    assert card["validation"]["cutoff"] == card["training_cutoffs"][-1]
    assert {"bgnbd", "pnbd", "spend"} <= set(card["purchase_models"])
    assert card["data_window"]["as_of"] == card["as_of"]
    booster = card["backtest"]["chosen"] == "model"
    assert bool(card["feature_importance"]) == booster

    mats = {
        m.asset_key.to_user_string(): m.metadata
        for m in result.asset_materializations_for_node("ml__churn_model")
    }
    meta = mats["ml/churn_model"]
    assert "| model |" in meta["metrics"].value and "recency_baseline" in meta["metrics"].value
    assert "| pnbd |" in meta["metrics"].value and "calibration" in meta
    assert ("feature_importance" in meta) == booster
    assert "bgnbd_gamma_gamma" in meta["value_metrics"].value
    assert meta["chosen"].value == card["chosen"] and "validation" in meta

    # scores: one per person with a purchase, nobody else
    con = duckdb.connect(str(db), read_only=True)
    scores = con.execute("SELECT * FROM ml.churn_scores").df()
    features = con.execute("SELECT * FROM ml.churn_features").df()
    con.close()
    buyers = set(orders.loc[orders["amount"] >= 0, "customer_id"])
    assert set(scores["person_id"]) == buyers and scores["person_id"].is_unique
    assert list(scores.columns) == [
        "person_id",
        "churn_probability",
        "churn_risk_band",
        "expected_orders",
        "expected_revenue",
        "value_horizon_days",
        "model_version",
        "scored_at",
    ]
    assert (scores["expected_orders"] >= 0).all() and (scores["expected_revenue"] >= 0).all()
    assert set(scores["churn_risk_band"]) <= {"low", "medium", "high"}
    assert (scores["model_version"] == latest).all()
    assert set(features["person_id"]) == buyers

    (check,) = result.get_asset_check_evaluations()
    assert check.severity == dg.AssetCheckSeverity.WARN
    psi = check.metadata["psi"].value
    assert "churn_probability" in psi and "recency_days" in psi
    # tenure_days is reported but excluded from the alarm (drift.exclude default)
    assert "tenure_days" in psi
    assert check.passed == all(v <= 0.2 for k, v in psi.items() if k != "tenure_days")


class TrainingCalled(RuntimeError):
    """Raised by the stand-in for the training step: the asset chose to train."""


def _refuse_training(*_args, **_kwargs):
    raise TrainingCalled("the model was trained")


def _materialise_model(db, **kwargs):
    return dg.materialize(
        [churn_model],
        resources={"warehouse": WarehouseResource(path=str(db))},
        raise_on_error=False,
        **kwargs,
    )


def _trained(result) -> bool:
    """Whether the run tried to train (the stand-in raised), else it must have reused."""
    if result.success:
        return False
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "TrainingCalled" in str(failure.step_failure_data.error), failure
    return True


def test_cadence_reuses_the_artefact_until_due_changed_or_full_refresh(env, monkeypatch):
    tmp_path, db, _orders = env
    first = _materialise_model(db)
    assert first.success
    (trained_meta,) = [m.metadata for m in first.asset_materializations_for_node("ml__churn_model")]
    assert trained_meta["reused"].value is False
    assert trained_meta["retrain_reason"].value == "no churn artefact yet"

    # within the cadence (7 days by default), config unchanged: no training, the card shown
    monkeypatch.setattr("ml.scoring.train_and_save", _refuse_training)
    second = _materialise_model(db)
    assert not _trained(second)
    (meta,) = [m.metadata for m in second.asset_materializations_for_node("ml__churn_model")]
    assert meta["reused"].value is True and "config unchanged" in meta["reuse_reason"].value
    assert meta["model_version"].value == trained_meta["model_version"].value
    assert meta["trained_at"].value == trained_meta["trained_at"].value
    for key in ("metrics", "calibration", "roc_auc", "brier", "value_metrics", "chosen"):
        assert meta[key] == trained_meta[key], key
    assert len([p for p in (tmp_path / "models" / "churn").iterdir() if p.is_dir()]) == 1
    # the scores are computed with the reused artefact
    scored = dg.materialize(
        [churn_scores], resources={"warehouse": WarehouseResource(path=str(db))}
    )
    assert scored.success

    # the run asks for it: the full-refresh tag of `cdp run --full-refresh`
    assert _trained(_materialise_model(db, tags={FULL_REFRESH_TAG: "true"}))

    # a changed config section
    config = tmp_path / "config" / "churn.yaml"
    config.write_text(SMALL_CONFIG + "risk_bands: {medium: 0.5, high: 0.8}\n")
    assert _trained(_materialise_model(db))
    # the cadence key alone is not a model setting; 0 turns the cadence off
    config.write_text(SMALL_CONFIG + "retrain_after_days: 30\n")
    assert not _trained(_materialise_model(db))
    config.write_text(SMALL_CONFIG + "retrain_after_days: 0\n")
    assert _trained(_materialise_model(db))

    # an artefact older than the cadence
    config.write_text(SMALL_CONFIG)
    root = tmp_path / "models" / "churn"
    card_file = root / json.loads((root / "LATEST").read_text())["version"] / "model_card.json"
    card = json.loads(card_file.read_text())
    card["created_at"] = (pd.Timestamp.now("UTC") - pd.Timedelta(days=8)).isoformat()
    card_file.write_text(json.dumps(card))
    assert _trained(_materialise_model(db))


def _scores(db) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT * EXCLUDE (scored_at) FROM ml.churn_scores ORDER BY person_id"
        ).df()


def test_model_steps_read_the_runs_shared_inputs_while_they_are_current(env, monkeypatch):
    """`ml/inputs` writes the inputs once beside the warehouse and the churn steps of the run
    read that file; once a mart they are built from is materialised again, a step writes its
    own inputs from the marts, with the same scores."""
    _tmp_path, db, _orders = env
    written = []
    scratch = inputs.scratch_inputs
    monkeypatch.setattr(
        inputs, "scratch_inputs", lambda con, names: written.append(names) or scratch(con, names)
    )
    instance = dg.DagsterInstance.ephemeral()
    resources = {"warehouse": WarehouseResource(path=str(db))}
    run = dg.materialize(
        [ml_inputs, churn_model, churn_scores], instance=instance, resources=resources
    )
    assert run.success and written == []
    assert shared_path(db).exists()
    (meta,) = [m.metadata for m in run.asset_materializations_for_node("ml__inputs")]
    assert meta["rows"].data["orders"] == meta["dagster/row_count"].value > 0
    shared = _scores(db)

    instance.report_runless_asset_event(dg.AssetMaterialization(dbt_model_key("orders")))
    assert dg.materialize([churn_scores], instance=instance, resources=resources).success
    assert written == [CHURN_INPUTS]
    pd.testing.assert_frame_equal(_scores(db), shared)
