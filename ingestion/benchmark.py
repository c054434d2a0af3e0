"""Ingestion speed against a bare-DuckDB baseline.

`python -m ingestion.benchmark --landing /tmp/gen100k/landing --work /tmp/ingest-bench`
runs every source (or each `--source`) through `ingestion.pipeline.run_source` into a fresh
warehouse, then times DuckDB alone reading the same files into tables (`read_json` /
`read_csv` / `read_parquet`, no flattening, no child tables, no merge, no state) and prints,
per source, wall and CPU seconds (user + system of this process, dlt's and DuckDB's threads
included: on a shared machine the CPU time is the steadier figure), rows/s and the ratios.
POS (SQLite) is read into Arrow by the ADBC SQLite driver and written into a DuckDB table
(`sqlite_floor`: DuckDB 2.x's `sqlite_scanner` cannot be installed here). The xlsx sign-up
sheets have no baseline (DuckDB's `excel` extension is not installed either): only their CSV
part is timed.
"""

from __future__ import annotations

import argparse
import json
import resource
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


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def sqlite_floor(con: Any, database: Path, tables: list[str], prefix: str = "pos") -> int:
    """The floor of a SQLite source: each table read into Arrow by the ADBC SQLite driver (C,
    no Python object per value: the cheapest read into Arrow here, about 5x cheaper than
    Python's sqlite3; DuckDB 2.x's own `sqlite_scanner` cannot be installed without internet,
    and the PyPI builds of it are for DuckDB 1.x), then written into a DuckDB table as the
    other floors write theirs. Returns the rows read."""
    import adbc_driver_sqlite.dbapi as adbc

    rows = 0
    with adbc.connect(f"file:{Path(database).as_posix()}?mode=ro") as sqlite:
        for table in tables:
            with sqlite.cursor() as cur:
                cur.execute(f'SELECT * FROM "{table}"')
                arrow = cur.fetch_arrow_table()
            con.register("sqlite_rows", arrow)
            con.execute(f"create or replace table {prefix}_{table} as select * from sqlite_rows")
            con.unregister("sqlite_rows")
            rows += arrow.num_rows
    return rows


def duckdb_baseline(
    landing: Path, database: Path, sources: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Wall and CPU seconds DuckDB itself needs to read each source's files into tables."""
    from cdp.warehouse import connect as duckdb_connect

    settings = get_settings().model_copy(update={"landing_dir": landing})
    config = load_sources_config(settings.config_dir / "sources.yaml")
    database.unlink(missing_ok=True)
    con = duckdb_connect(str(database))
    results: dict[str, dict[str, Any]] = {}
    try:
        for name, source in config.enabled_sources().items():
            if sources and name not in sources:
                continue
            location = source.path(settings)
            started, cpu = time.perf_counter(), cpu_seconds()
            rows = 0
            skipped: list[str] = []
            if source.format == "sqlite":
                rows += sqlite_floor(con, location, list(source.active_tables()), prefix=name)
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
            results[name] = {"seconds": seconds, "cpu": cpu_seconds() - cpu, "rows": rows}
            if skipped:
                results[name]["note"] = f"not timed (no DuckDB reader installed): {skipped}"
    finally:
        con.close()
    return results


def ratio(value: float, base: float | None) -> float | None:
    return value / base if base else None


def benchmark_arguments(description: str, argv: list[str] | None) -> argparse.Namespace:
    """`--landing`, `--work` (emptied and created here), `--source` (repeatable): the
    arguments of this benchmark and of `cdp_demo.ingest_bench`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True, help="scratch folder (emptied)")
    parser.add_argument("--source", action="append", help="only this source (repeatable)")
    args = parser.parse_args(argv)
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    return args


def main(argv: list[str] | None = None) -> int:
    from ingestion.pipeline import dataset_name, run_source, selected_sources

    args = benchmark_arguments(__doc__.splitlines()[0], argv)
    settings = get_settings().model_copy(
        update={
            "data_dir": args.work,
            "landing_dir": args.landing.resolve(),
            "warehouse": args.work / "warehouse.duckdb",
        }
    )
    config = load_sources_config(settings.config_dir / "sources.yaml")
    names = selected_sources(config, args.source)
    timed: dict[str, dict[str, Any]] = {}
    for name in names:
        started, cpu = time.perf_counter(), cpu_seconds()
        run = run_source(name, settings, config)
        timed[name] = {
            "seconds": time.perf_counter() - started,
            "cpu": cpu_seconds() - cpu,
            "rows": sum(run.rows.values()),
            "error": run.error,
        }
    baseline = duckdb_baseline(args.landing.resolve(), args.work / "baseline.duckdb", names)
    header = ("source", "rows", "dlt s", "dlt cpu", "floor s", "floor cpu", "ratio", "cpu ratio")
    print(f"{header[0]:<13}{header[1]:>11}" + "".join(f"{h:>10}" for h in header[2:]))
    summary: dict[str, Any] = {"sources": {}}
    for name, run in timed.items():
        base = baseline.get(name, {})
        figures = {
            "rows": run["rows"],
            "seconds": round(run["seconds"], 2),
            "cpu_seconds": round(run["cpu"], 2),
            "duckdb_seconds": round(base["seconds"], 2) if base.get("seconds") else None,
            "duckdb_cpu_seconds": round(base["cpu"], 2) if base.get("seconds") else None,
            "ratio": ratio(run["seconds"], base.get("seconds")),
            "cpu_ratio": ratio(run["cpu"], base.get("cpu") if base.get("seconds") else None),
            "note": run["error"] or base.get("note"),
        }
        summary["sources"][dataset_name(name)] = figures
        cells = [figures[k] for k in ("seconds", "cpu_seconds", "duckdb_seconds")]
        cells += [figures[k] for k in ("duckdb_cpu_seconds", "ratio", "cpu_ratio")]
        print(
            f"{name:<13}{run['rows']:>11}"
            + "".join(f"{c:>10.2f}" if c is not None else f"{'-':>10}" for c in cells)
            + (f"  ({figures['note']})" if figures["note"] else "")
        )
    total = sum(r["seconds"] for r in timed.values())
    total_cpu = sum(r["cpu"] for r in timed.values())
    print(f"total ingestion {total:.1f} s wall, {total_cpu:.1f} s CPU")
    summary.update(total_seconds=total, total_cpu_seconds=total_cpu)
    (args.work / "bench.json").write_text(json.dumps(summary, indent=2))
    return 1 if any(r["error"] for r in timed.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
