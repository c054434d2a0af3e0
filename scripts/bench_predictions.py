"""Time propensity, lead scoring and recommendations on a built warehouse (benchmark, not a test).

    .venv/bin/python scripts/bench_predictions.py --warehouse WAREHOUSE.duckdb --models DIR \
        [--only classifiers|recommendations]

The warehouse needs the marts (e.g. from `cdp bench --customers N` or `cdp demo`); the ml.*
tables are written into it. The connection is the platform's (`cdp.warehouse.connect`: DuckDB's
`memory_limit` and threads from `CDP_DUCKDB_MEMORY_LIMIT` / `CDP_DUCKDB_THREADS` or the
machine), as the Dagster assets open it. Prints the persons, the wall and CPU time of each step (each
model's training includes its back-test: two trainings) and the peak RSS of the process.
`--only recommendations` runs the recommender's steps alone, on its own inputs
(`ml.recommend_scoring.load_recommendation_data`), as its Dagster assets do.
"""

from __future__ import annotations

import argparse
import resource
import time
from contextlib import ExitStack
from pathlib import Path

from cdp.warehouse import connect
from ml.inputs import scratch_inputs
from ml.prediction_config import load_predictions_config
from ml.prediction_scoring import (
    TASKS,
    score_purchases,
    train_classifier,
    train_recommender,
    write_top,
)
from ml.recommend_scoring import load_recommendation_data, write_recommendations


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _print_backtest(backtest: dict | None) -> None:
    """The back-test figures of a classifier card: model and baseline, and their difference
    with its bootstrap interval."""
    if not backtest:
        return
    print(f"  back-test at {backtest['cutoff']} (chosen {backtest['validation']['chosen']}):")
    for name, m in backtest["metrics"].items():
        print(
            f"    {name:<28} PR AUC {m['pr_auc']:.4f} ROC AUC {m['roc_auc']:.4f} "
            f"Brier {m['brier']:.4f} lift {m['lift_top_decile']:.2f} "
            f"({m['churn_rate']:.1%} of {m['n']:,})"
        )
    d = backtest.get("model_minus_baseline")
    if d:
        print(
            f"    model - baseline: PR AUC {d['pr_auc']:+.4f} [{d['pr_auc_low']:+.4f}, "
            f"{d['pr_auc_high']:+.4f}], ROC AUC {d['roc_auc']:+.4f} [{d['roc_auc_low']:+.4f}, "
            f"{d['roc_auc_high']:+.4f}]"
        )


def _recommender(step, data, con, cfg, models: Path) -> None:
    """Train (+ back-test) the recommender, write the recommendations and the top-3 table."""
    run = step("train recommendations (+ back-test)", lambda: train_recommender(data, cfg, models))
    print(f"  chosen {run.card['chosen']}, interactions {run.card['interactions']:,}")
    for name, m in run.card["backtest"]["metrics"].items():
        print(
            f"  back-test {name:<12} hit rate@5 {m['hit_rate_at_5']:.4f} "
            f"recall@10 {m['recall_at_10']:.4f} ({m['n']:,} buyers, {m['with_history']:,} "
            "with history)"
        )
    data.cache.clear()  # the training's fits and windows: the scoring asset runs in a process of its own
    summary = step("recommend", lambda: write_recommendations(data, models, con))
    step("top-3 table", lambda: write_top(con, cfg.recommendations.sync_top))
    print(
        f"recommendation rows {summary['rows']:,} for {summary['persons']:,} persons "
        f"{summary['reasons']}"
    )


def _classifiers(step, data, con, cfg, models: Path, recommender: bool) -> None:
    """Train (+ back-test) propensity and leads, score both; then the recommender on the same
    inputs when `recommender`."""
    for task in TASKS:
        run = step(
            f"train {task} (+ back-test)",
            lambda task=task: train_classifier(data, task, cfg, models),
        )
        print(f"  chosen {run.card['chosen']}, training rows {run.card['training_rows']:,}")
        _print_backtest(run.card.get("backtest"))
    scores, _ = step("score buyers and leads", lambda: score_purchases(data, models, con))
    print(
        f"buyers scored {scores['purchase_propensity'].notna().sum():,}, leads scored "
        f"{scores['lead_score'].notna().sum():,}"
    )
    if recommender:
        _recommender(step, data, con, cfg, models)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True, type=Path)
    parser.add_argument("--models", required=True, type=Path)
    parser.add_argument("--config", default=None)
    parser.add_argument("--only", choices=("classifiers", "recommendations"), default=None)
    args = parser.parse_args()
    cfg = load_predictions_config(args.config)
    con = connect(args.warehouse)
    limit, threads = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('threads')"
    ).fetchone()
    print(f"DuckDB memory_limit {limit}, threads {threads}")
    persons, identified = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE is_identified) FROM marts.customer_360"
    ).fetchall()[0]
    print(f"persons {persons:,} (identified {identified:,})")
    total, total_cpu = time.perf_counter(), time.process_time()

    def step(name, fn):
        start, cpu = time.perf_counter(), time.process_time()
        out = fn()
        print(
            f"{name:<36} {time.perf_counter() - start:>7.1f} s wall "
            f"{time.process_time() - cpu:>7.1f} s CPU   peak RSS {_peak_mib():,.0f} MiB",
            flush=True,
        )
        return out

    if args.only == "recommendations":
        data = step("load recommendation inputs", lambda: load_recommendation_data(con))
        _recommender(step, data, con, cfg, args.models)
    else:
        with ExitStack() as stack:
            data = step(
                "load inputs (scratch DuckDB file)",
                lambda: stack.enter_context(scratch_inputs(con)),
            )
            _classifiers(step, data, con, cfg, args.models, args.only is None)
    print(
        f"total {time.perf_counter() - total:.1f} s wall, {time.process_time() - total_cpu:.1f} s "
        f"CPU, peak RSS {_peak_mib():,.0f} MiB"
    )


if __name__ == "__main__":
    main()
