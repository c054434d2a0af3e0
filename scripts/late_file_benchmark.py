"""What the late-file check (`ingestion/sources/_stale.py`) costs when many files arrive at once.

`python scripts/late_file_benchmark.py --work /tmp/late-bench --customers 20000 --files 3000`

1. loads one shop customers file of `--customers` records (each with an address) into a fresh
   warehouse;
2. drops `--files` late files of `--rows` records each: half older versions of loaded keys
   (the check must leave them out, with their addresses), half new keys;
3. loads them twice from a copy of the state after step 1: with the check, and with the check
   replaced by a no-op (`keep_newer` / `items_of_newer` returning their input), and prints
   the seconds (wall, and CPU of the process) of each, the number of `pipeline.sql_client()`
   sessions opened during the load (the check's warehouse look-ups go through it) and
   whether any older version replaced a newer one.

The data is synthetic and kept under `--work`; nothing outside it is written.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

NEWER = "2025-06-01T10:00:00Z"
OLDER = "2025-01-01T10:00:00Z"


def _customer(entity_id: int, updated_at: str, lastname: str) -> dict[str, Any]:
    return {
        "entity_id": entity_id,
        "email": f"c{entity_id}@example.com",
        "firstname": "Bench",
        "lastname": lastname,
        "created_at": "2025-01-01T09:00:00Z",
        "updated_at": updated_at,
        "addresses": [{"id": entity_id * 10, "city": lastname, "country_id": "FR"}],
    }


def _write(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def _load(data_dir: Path, check: bool) -> dict[str, Any]:
    """One shop load on `data_dir`; returns seconds, sql_client sessions and the outcome."""
    import dlt

    from cdp.settings import get_settings
    from ingestion.pipeline import run_all
    from ingestion.sources import _common

    os.environ["CDP_DATA_DIR"] = str(data_dir)
    settings = get_settings()
    sessions = 0
    original_client = dlt.Pipeline.sql_client

    def counting_client(self, *args, **kwargs):
        nonlocal sessions
        sessions += 1
        return original_client(self, *args, **kwargs)

    saved = (_common.keep_newer, _common.items_of_newer)
    dlt.Pipeline.sql_client = counting_client  # type: ignore[method-assign]
    if not check:
        _common.keep_newer = lambda table_name, table, *a, **k: table
        _common.items_of_newer = lambda items, *a, **k: items
    try:
        started, cpu = time.perf_counter(), time.process_time()
        report = run_all(settings, sources=["shop"])
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        dlt.Pipeline.sql_client = original_client  # type: ignore[method-assign]
        _common.keep_newer, _common.items_of_newer = saved
    import duckdb

    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        (older,) = con.execute(
            "select count(*) from raw_shop.customers where lastname = 'Older'"
        ).fetchall()[0]
        (older_addresses,) = con.execute(
            "select count(*) from raw_shop.customers__addresses where city = 'Older'"
        ).fetchall()[0]
        (rows,) = con.execute("select count(*) from raw_shop.customers").fetchall()[0]
    return {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),  # of this process (all its threads): less load-bound
        "sql_client_sessions": sessions,
        "errors": report["errors"],
        "customers": rows,
        "older_versions_loaded": older,
        "older_addresses_loaded": older_addresses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/late-file-bench"))
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--files", type=int, default=3_000)
    parser.add_argument("--rows", type=int, default=4, help="records per late file")
    args = parser.parse_args()
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    shutil.rmtree(args.work, ignore_errors=True)
    base = args.work / "base"
    folder = base / "landing" / "shop" / "customers"
    folder.mkdir(parents=True)
    _write(
        folder / "customers_2025-06.jsonl",
        [_customer(i, NEWER, "Newer") for i in range(1, args.customers + 1)],
    )
    first = _load(base, check=True)
    print(f"initial load of {args.customers} customers: {first}")
    new_id = args.customers + 1
    for f in range(args.files):
        records = []
        for r in range(args.rows):
            if r % 2 == 0:  # an older version of a loaded key
                key = 1 + (f * args.rows + r) % args.customers
                records.append(_customer(key, OLDER, "Older"))
            else:
                records.append(_customer(new_id, OLDER, "Late"))
                new_id += 1
        _write(folder / f"customers_2024-late-{f:05d}.jsonl", records)
    for check in (True, False):
        run = args.work / ("with_check" if check else "without_check")
        shutil.copytree(base, run)
        result = _load(run, check=check)
        label = "with the late-file check" if check else "check replaced by a no-op"
        print(f"{args.files} late files x {args.rows} records, {label}: {result}")
        shutil.rmtree(run)


if __name__ == "__main__":
    main()
