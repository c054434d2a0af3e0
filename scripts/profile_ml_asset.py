"""Run the body of one ML asset on a warehouse copy and print where its CPU goes (benchmark).

    .venv/bin/python scripts/profile_ml_asset.py ASSET --warehouse W --models DIR [--no-profile]

ASSET: churn_model, churn_scores, propensity, leads or purchase_scores: the same calls as the
Dagster assets of `orchestration/ml/` (the warehouse connection with the platform's memory limit
and threads). Prints the back-test metrics of a trained model, the `cProfile` table by
cumulative CPU time (`time.process_time`, every thread of the process), then the wall time,
CPU time, peak RSS and load average. Run it under `/usr/bin/time -v` for the whole process.
The scoring assets read the artifacts a training run wrote to `--models`.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import time
from pathlib import Path

import duckdb

from cdp.warehouse import connect

CHURN = ("churn_model", "churn_scores")
ASSETS = (*CHURN, "propensity", "leads", "purchase_scores")


def _churn(asset: str, con: duckdb.DuckDBPyConnection, models: Path) -> None:
    from ml.artifact import load_artifact
    from ml.config import load_churn_config
    from ml.scoring import churn_inputs, score_and_write, train_and_save

    cfg = load_churn_config()
    with churn_inputs(con) as data:
        if asset == "churn_scores":
            trained, card = load_artifact(models)
            scores, _, _ = score_and_write(data, trained, card["version"], cfg, con)
            print(f"scored {len(scores):,}")
            return
        run = train_and_save(data, cfg, models)
    print(f"chosen {run.card['chosen']}, training rows {run.card['training_rows']:,}")
    if run.backtest.evaluation is not None:
        for name, m in run.backtest.evaluation.metrics.items():
            print(
                f"  {name:<20} ROC AUC {m['roc_auc']:.4f} PR AUC {m['pr_auc']:.4f} "
                f"Brier {m['brier']:.4f}"
            )


def _predictions(asset: str, con: duckdb.DuckDBPyConnection, models: Path) -> None:
    from ml.inputs import scratch_inputs
    from ml.prediction_config import load_predictions_config

    cfg = load_predictions_config()
    with scratch_inputs(con) as data:
        _prediction_body(asset, data, con, models, cfg)


def _prediction_body(asset: str, data, con: duckdb.DuckDBPyConnection, models: Path, cfg) -> None:
    from ml.prediction_scoring import score_purchases, train_classifier

    if asset == "purchase_scores":
        scores, _ = score_purchases(data, models, con)
        print(
            f"scored {scores['purchase_propensity'].notna().sum():,} buyers, "
            f"{scores['lead_score'].notna().sum():,} leads"
        )
        return
    run = train_classifier(data, asset, cfg, models)
    print(f"chosen {run.card['chosen']}, training rows {run.card['training_rows']:,}")
    for name, m in (run.card.get("backtest") or {}).get("metrics", {}).items():
        print(f"  {name:<28} PR AUC {m['pr_auc']:.4f} ROC AUC {m['roc_auc']:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("asset", choices=ASSETS)
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--models", required=True, type=Path)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--top", type=int, default=40, help="rows of the profile table")
    args = parser.parse_args()
    body = _churn if args.asset in CHURN else _predictions
    start, cpu = time.perf_counter(), time.process_time()
    with connect(args.warehouse) as con:  # one warehouse connection, closed on the way out
        if args.no_profile:
            body(args.asset, con, args.models)
        else:
            profile = cProfile.Profile(time.process_time)
            profile.runcall(body, args.asset, con, args.models)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"wall {time.perf_counter() - start:.1f} s, CPU {time.process_time() - cpu:.1f} s, "
        f"peak RSS {peak:,.0f} MiB, load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
