"""Time the training of the churn and value models on an orders file (benchmark, not a test).

    .venv/bin/python scripts/bench_predict.py --orders ORDERS.csv --as-of YYYY-MM-DD

Prints the customers, the training plan, the chosen scorer, the wall and CPU time of `train`
(with the purchase-model fits inside it) and of scoring every customer, and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import date

import duckdb

from ml.config import load_churn_config
from ml.features import ChurnData
from ml.io import read_orders_csv
from ml.model import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", required=True)
    parser.add_argument("--as-of", required=True, type=date.fromisoformat)
    parser.add_argument("--config", default=None)
    args = parser.parse_args()
    cfg = load_churn_config(args.config)
    con = duckdb.connect()
    parsed = read_orders_csv(args.orders, con)
    data = ChurnData.from_connection(con, orders=parsed.table, until=args.as_of)
    start, cpu = time.perf_counter(), time.process_time()
    trained = train(data, args.as_of, cfg)
    trained_s, trained_cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    frame = trained.frame(data, args.as_of, cfg)
    trained.predict(frame)
    trained.predict_value(frame)
    scored_s = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"customers {len(frame):,}; {trained.plan.describe(cfg.horizon_days)}")
    print(f"chosen {trained.chosen}; training rows {trained.n_training_rows:,}")
    print(
        f"train {trained_s:.1f} s ({trained_cpu:.1f} s of CPU, all threads), "
        f"score {scored_s:.1f} s, peak RSS {peak:,.0f} MiB, load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
