"""Scale measurement of the sync diff: `python -m cdp_demo.sync_bench --persons 1400000`.

Builds a synthetic contract-shaped customer_360 of N persons in a temporary DuckDB file, runs
a full-population sync once to an audience-file destination (establishing the state), then,
in a fresh process, a second run with no change and reports its wall time and the peak RSS
of that process. Tests never time; this module does.

`python -m cdp_demo.sync_bench --webhook-persons 12500` measures the cost of one batch instead:
a sync of the e-mail-consenting persons (about 80%) to a local webhook receiver in batches of
100, each journalled, sent, answered and recorded (milliseconds per batch).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from activation.config import Destination, Source, Sync


def bench_sync(out_dir: Path) -> Sync:
    return Sync(
        name="bench_all_customers",
        source=Source(sql="SELECT * FROM marts.customer_360"),
        destination=Destination(
            type="audience_file",
            options={"platform": "google", "directory": str(out_dir), "rows_per_file": 500_000},
        ),
        mode="mirror",
        key="lower(email)",
        fields={
            "email": "email",
            "phone": "phone",
            "first_name": "first_name",
            "revenue_12m": "revenue_12m",
            "rfm_segment": "rfm_segment",
        },
    )


def _run(db: str, out_dir: str, dry_run: bool) -> dict:
    from activation.engine import run_sync
    from cdp.warehouse import connect as duckdb_connect

    con = duckdb_connect(db)
    t0 = time.perf_counter()
    run = run_sync(con, bench_sync(Path(out_dir)), dry_run=dry_run, echo=lambda _s: None)
    seconds = time.perf_counter() - t0
    con.close()
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "planned": [run.planned_added, run.planned_changed, run.planned_removed],
        "sent": [run.added, run.changed, run.removed],
        "skipped_consent": run.skipped_consent,
        "dry_run": dry_run,
        "status": run.status,
    }


def bench_batches(work: Path, persons: int) -> dict:
    """Per-batch cost of a webhook sync in batches of 100 against the local receiver."""
    import os

    from activation.engine import run_sync
    from cdp.warehouse import connect as duckdb_connect
    from cdp_demo.fakes.synthetic import create_synthetic_marts
    from cdp_demo.fakes.webhook_receiver import WebhookReceiver

    os.environ.setdefault("CDP_BENCH_WEBHOOK_SECRET", "bench")
    with duckdb_connect(str(work / "wh.duckdb")) as con, WebhookReceiver("bench") as rx:
        create_synthetic_marts(con, persons)
        options = {"url": rx.url, "secret_env": "CDP_BENCH_WEBHOOK_SECRET", "channel": "email"}
        sync = Sync(
            name="bench_webhook",
            source=Source(sql="SELECT * FROM marts.customer_360"),
            destination=Destination(type="webhook", options={**options, "batch_size": 100}),
            key="lower(email)",
            fields={"first_name": "first_name", "revenue_12m": "revenue_12m"},
        )
        t0 = time.perf_counter()
        run = run_sync(con, sync)
        seconds = time.perf_counter() - t0
    return {
        "records": run.added,
        "batches": len(rx.batches),
        "seconds": round(seconds, 2),
        "ms_per_batch": round(1000 * seconds / max(1, len(rx.batches)), 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--persons", type=int, default=1_400_000)
    p.add_argument("--webhook-persons", type=int, help="measure the per-batch cost instead")
    p.add_argument("--child", nargs=3, metavar=("DB", "OUT", "DRY"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        db, out, dry = args.child
        print(json.dumps(_run(db, out, dry == "1")))
        return 0
    from cdp.warehouse import connect as duckdb_connect
    from cdp_demo.fakes.synthetic import create_synthetic_marts

    work = Path(tempfile.mkdtemp(prefix="cdp-bench-"))
    if args.webhook_persons:
        print("webhook sync in batches of 100:", bench_batches(work, args.webhook_persons))
        return 0
    db = str(work / "wh.duckdb")
    t0 = time.perf_counter()
    with duckdb_connect(db) as con:
        create_synthetic_marts(con, args.persons)
    print(f"synthetic marts: {args.persons} persons in {time.perf_counter() - t0:.1f}s")

    def child(dry: bool) -> dict:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "cdp_demo.sync_bench",
                "--child",
                db,
                str(work / "out"),
                "1" if dry else "0",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    print("first run (full load to files):", child(False))
    print("no-change run:                 ", child(False))
    print("no-change dry run:             ", child(True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
