"""Time propensity, lead scoring and recommendations on a built warehouse (benchmark, not a test).

    .venv/bin/python scripts/bench_predictions.py --warehouse WAREHOUSE.duckdb --models DIR

The warehouse needs the marts (e.g. from `cdp bench --customers N` or `cdp demo`); the ml.*
tables are written into it. Prints the persons, the wall time of each step (each model's
training includes its back-test: two trainings) and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import duckdb

from ml.prediction_config import load_predictions_config
from ml.prediction_scoring import (
    TASKS,
    load_behaviour,
    recommend_all,
    score_purchases,
    train_classifier,
    train_recommender,
    write_top,
)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True, type=Path)
    parser.add_argument("--models", required=True, type=Path)
    parser.add_argument("--config", default=None)
    args = parser.parse_args()
    cfg = load_predictions_config(args.config)
    con = duckdb.connect(str(args.warehouse))
    persons, identified = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE is_identified) FROM marts.customer_360"
    ).fetchall()[0]
    print(f"persons {persons:,} (identified {identified:,})")
    timings: list[tuple[str, float]] = []
    total = time.perf_counter()

    def step(name, fn):
        start = time.perf_counter()
        out = fn()
        timings.append((name, time.perf_counter() - start))
        print(f"{name:<36} {timings[-1][1]:>7.1f} s   peak RSS {_peak_mib():,.0f} MiB", flush=True)
        return out

    data = step("load marts", lambda: load_behaviour(con))
    for task in TASKS:
        run = step(
            f"train {task} (+ back-test)",
            lambda task=task: train_classifier(data, task, cfg, args.models),
        )
        print(f"  chosen {run.card['chosen']}, training rows {run.card['training_rows']:,}")
    run = step(
        "train recommendations (+ back-test)", lambda: train_recommender(data, cfg, args.models)
    )
    print(f"  chosen {run.card['chosen']}, interactions {run.card['interactions']:,}")
    scores, _ = step("score buyers and leads", lambda: score_purchases(data, args.models, con))
    recs = step("recommend", lambda: recommend_all(data, args.models, con))
    step("top-3 table", lambda: write_top(con, cfg.recommendations.sync_top))
    print(
        f"buyers scored {scores['purchase_propensity'].notna().sum():,}, leads scored "
        f"{scores['lead_score'].notna().sum():,}, recommendation rows {len(recs):,} for "
        f"{recs['person_id'].nunique():,} persons"
    )
    print(f"total {time.perf_counter() - total:.1f} s, peak RSS {_peak_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
