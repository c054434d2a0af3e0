"""Ingestion speed against a bare-DuckDB baseline.

`python -m ingestion.benchmark --landing /tmp/gen100k/landing --work /tmp/ingest-bench`
runs every source through `ingestion.pipeline.run_all` into a fresh warehouse, then times
DuckDB alone reading the same files into tables (`read_json` / `read_csv` / `read_parquet`,
no flattening, no child tables, no merge, no state) and prints rows/s and the ratio per source.
POS (SQLite) and the xlsx sign-up sheets have no baseline when DuckDB's `sqlite_scanner` /
`excel` extensions are not installed (they are downloaded on first use, which needs internet).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

from cdp.settings import get_settings
from ingestion.config import load_sources_config

_READERS = {
    "jsonl": "read_json('{glob}', format = 'newline_delimited')",
    "csv": "read_csv('{glob}', header = true, all_varchar = true, delim = '{delimiter}', "
    "encoding = '{encoding}')",
    "parquet": "read_parquet('{glob}')",
}


def duckdb_baseline(landing: Path, database: Path) -> dict[str, dict[str, Any]]:
    """Seconds DuckDB itself needs to read each source's files into tables."""
    import duckdb

    settings = get_settings().model_copy(update={"landing_dir": landing})
    config = load_sources_config(settings.config_dir / "sources.yaml")
    database.unlink(missing_ok=True)
    con = duckdb.connect(str(database))
    results: dict[str, dict[str, Any]] = {}
    try:
        for name, source in config.enabled_sources().items():
            location = source.path(settings)
            started = time.perf_counter()
            rows = 0
            skipped: list[str] = []
            if source.format == "sqlite":
                try:
                    con.execute("LOAD sqlite")
                except duckdb.Error as exc:
                    results[name] = {"seconds": None, "rows": 0, "note": f"no sqlite: {exc}"}
                    continue
                for table in source.active_tables():
                    con.execute(
                        f"create or replace table {name}_{table} as "
                        f"select * from sqlite_scan('{location}', '{table}')"
                    )
                    rows += con.execute(f"select count(*) from {name}_{table}").fetchall()[0][0]
            else:
                for table, cfg in source.active_tables().items():
                    for i, fileset in enumerate(cfg.files):
                        if not list(location.glob(fileset.glob)):
                            continue
                        if fileset.format not in _READERS:
                            skipped.append(fileset.glob)
                            continue
                        encoding = (
                            "latin-1"
                            if fileset.encoding.lower() in ("latin-1", "latin1", "iso-8859-1")
                            else "utf-8"
                        )
                        reader = _READERS[fileset.format].format(
                            glob=location / fileset.glob,
                            delimiter=fileset.delimiter,
                            encoding=encoding,
                        )
                        target = f"{name}_{table}_{i}"
                        con.execute(f"create or replace table {target} as select * from {reader}")
                        rows += con.execute(f"select count(*) from {target}").fetchall()[0][0]
            seconds = time.perf_counter() - started
            results[name] = {"seconds": seconds, "rows": rows}
            if skipped:
                results[name]["note"] = f"not timed (no DuckDB reader installed): {skipped}"
    finally:
        con.close()
    return results


def main(argv: list[str] | None = None) -> int:
    from ingestion.pipeline import run_all

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True, help="scratch folder (emptied)")
    args = parser.parse_args(argv)
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    settings = get_settings().model_copy(
        update={
            "data_dir": args.work,
            "landing_dir": args.landing.resolve(),
            "warehouse": args.work / "warehouse.duckdb",
        }
    )
    started = time.perf_counter()
    report = run_all(settings)
    total = time.perf_counter() - started
    baseline = duckdb_baseline(args.landing.resolve(), args.work / "baseline.duckdb")
    print(f"{'source':<13}{'rows':>11}{'dlt s':>9}{'rows/s':>11}{'duckdb s':>10}{'ratio':>8}")
    summary: dict[str, Any] = {"total_seconds": total, "sources": {}}
    for name, seconds in report["seconds"].items():
        rows = sum(n for t, n in report["rows"].items() if t.split(".", 1)[0] == f"raw_{name}")
        base = baseline.get(name, {})
        ratio = seconds / base["seconds"] if base.get("seconds") else None
        summary["sources"][name] = {
            "rows": rows,
            "seconds": round(seconds, 2),
            "rows_per_second": round(rows / seconds) if seconds else None,
            "duckdb_seconds": round(base["seconds"], 2) if base.get("seconds") else None,
            "ratio": round(ratio, 1) if ratio else None,
            "note": base.get("note"),
        }
        print(
            f"{name:<13}{rows:>11}{seconds:>9.2f}{rows / seconds:>11.0f}"
            f"{base['seconds'] if base.get('seconds') else float('nan'):>10.2f}"
            f"{ratio if ratio else float('nan'):>8.1f}"
            + (f"  ({base['note']})" if base.get("note") else "")
        )
    print(f"total ingestion {total:.1f}s; errors: {report['errors'] or 'none'}")
    (args.work / "bench.json").write_text(json.dumps(summary, indent=2))
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
