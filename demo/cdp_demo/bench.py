"""`cdp bench`: every pipeline stage timed at a given size, full or incremental.

A full bench generates the demo retailer in its own folder, times what DuckDB alone takes to
read the landing files (the floor), and runs the whole asset graph. `--incremental` lands a
generated day of changes (`cdp_demo.daily`: new and changed records) on a warehouse a full
bench built, and times the run that takes it in. Each bench writes its figures as JSON in the
results folder (`<data dir>/bench/results`, beside the earlier results) and prints every stage's
ratio to the previous result of the same size and kind (for a first incremental bench, to the
full one), so a regression shows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from cdp.commands import add_command
from cdp.settings import PROJECT_ROOT, Settings, get_settings
from cdp_demo.demo import (
    data_dir_env,
    format_churn,
    format_match_quality,
    generate_data,
    outside_of,
    print_section,
    sum_rows,
)
from cli.runner import (
    RunReport,
    format_checks,
    format_mib,
    format_steps,
    run_all_assets,
    run_pipeline,
)
from ml.prediction_summary import format_predictions


def register(subparsers: argparse._SubParsersAction) -> None:
    bench = add_command(subparsers, "bench", run_bench)
    bench.add_argument("--customers", type=int, default=100_000)
    bench.add_argument("--seed", type=int, default=1)
    bench.add_argument(
        "--workdir", type=Path, default=None, help="where to write (default data/bench/<N>)"
    )
    bench.add_argument("--json", type=Path, default=None, help="also write the figures here")
    bench.add_argument(
        "--results",
        type=Path,
        default=None,
        help="folder of the results, compared with the previous one (default data/bench/results)",
    )
    bench.add_argument(
        "--noise", default="standard", help="generator noise profile (standard or unseen)"
    )
    mode = bench.add_mutually_exclusive_group()
    mode.add_argument(
        "--after",
        metavar="ASSET",
        default=None,
        help="reuse the workdir's data and warehouse as they are and run only the assets "
        "downstream of ASSET (e.g. identity/identity_graph): re-times late stages without "
        "generating and loading again",
    )
    mode.add_argument(
        "--incremental",
        action="store_true",
        help="land a generated day of changes (new and changed records) on the workdir's "
        "benchmarked warehouse and time the run that takes it in",
    )


def duckdb_read_floor(
    landing_dir: Path,
    name_pattern: str = "*",
    cpu: dict[str, float] | None = None,
    sources: list[str] | None = None,
) -> dict[str, float]:
    """Seconds DuckDB alone takes to read each source's files (those whose name matches
    `name_pattern`) into tables: the floor of the ingestion. A SQLite file (the tills) is read
    into Arrow by the ADBC driver and written by DuckDB (`ingestion.benchmark.sqlite_floor`).
    `cpu`, if given, receives the CPU seconds (user + system, all threads) of each source;
    `sources`, if given, limits the floor to those source folders."""
    from cdp.warehouse import connect as duckdb_connect
    from ingestion.benchmark import cpu_seconds, sqlite_floor

    readers = {
        "jsonl": "read_json_auto('{glob}', format='newline_delimited')",
        "csv": "read_csv_auto('{glob}', all_varchar=true)",
        "parquet": "read_parquet('{glob}')",
    }
    timings: dict[str, float] = {}
    con = duckdb_connect()
    for source_dir in sorted(p for p in landing_dir.iterdir() if p.is_dir()):
        if sources and source_dir.name not in sources:
            continue
        started, used = time.time(), cpu_seconds()
        read_any = False
        for ext, reader in readers.items():
            files = [f for f in sorted(source_dir.rglob(f"*.{ext}")) if f.match(name_pattern)]
            if source_dir.name == "spreadsheets" and ext == "csv":
                continue  # Latin-1 with ';': not what read_csv_auto's floor measures
            for file in files:
                con.execute(
                    f"create or replace table t as select * from {reader.format(glob=file)}"
                )
                read_any = True
        for file in sorted(source_dir.rglob("*.sqlite")):
            if file.match(name_pattern):
                sqlite_floor(con, file, _sqlite_tables(file), prefix=source_dir.name)
                read_any = True
        if read_any:
            timings[source_dir.name] = time.time() - started
            if cpu is not None:
                cpu[source_dir.name] = cpu_seconds() - used
    con.close()
    return timings


def _sqlite_tables(database: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(f"file:{database.as_posix()}?mode=ro", uri=True) as con:
        rows = con.execute("select name from sqlite_master where type = 'table'").fetchall()
    return [name for (name,) in rows if not name.startswith("sqlite_")]


STAGES = (  # (stage, test on the Dagster step key), first match wins
    ("ingestion (dlt)", lambda k: k.startswith("ingest_")),
    ("quality checks", lambda k: k.endswith("_quality_suite") or k == "quality__quarantine_rows"),
    ("identity resolution", lambda k: k == "identity__identity_graph"),
    ("match quality", lambda k: k.endswith("_match_quality")),
    ("dbt (staging, golden record, marts)", lambda k: k.startswith("dbt_models")),
    ("ml models and scores", lambda k: k.startswith("ml__")),
    ("segments", lambda k: k.startswith("activation__")),
)


def stage_totals(report: RunReport) -> list[tuple[str, float, int]]:
    """Seconds and peak RSS per pipeline stage (sum of its Dagster steps' wall time)."""
    totals: dict[str, list] = {name: [0.0, 0] for name, _ in STAGES}
    for step in report.steps:
        name = next((n for n, test in STAGES if test(step.step)), "other")
        entry = totals.setdefault(name, [0.0, 0])
        entry[0] += step.seconds
        entry[1] = max(entry[1], step.peak_rss)
    return [(name, secs, peak) for name, (secs, peak) in totals.items() if secs]


def stage_rows(report: RunReport) -> dict[str, int]:
    """Rows materialised per stage (sum of its steps' row counts)."""
    rows: dict[str, int] = {}
    for step in report.steps:
        name = next((n for n, test in STAGES if test(step.step)), "other")
        rows[name] = rows.get(name, 0) + step.rows
    return rows


def _ratio(value: float, base: float | None) -> str:
    return f"{value / base:.2f}" if base else ""


def format_stages(
    report: RunReport, floor: dict[str, float], previous: dict[str, Any] | None = None
) -> str:
    """The stage table (seconds, rows/s, peak memory, ratio to DuckDB's own read of the same
    files for ingestion, ratio to the previous result) and ingestion per source."""
    before = {name: secs for name, secs, _ in (previous or {}).get("stages", [])}
    rows = stage_rows(report)
    lines = [
        f"{'stage':<40} {'seconds':>9} {'rows/s':>10} {'peak RSS':>10} "
        f"{'x DuckDB':>9} {'x previous':>10}"
    ]
    for name, secs, peak in stage_totals(report):
        rate = f"{rows.get(name, 0) / secs:,.0f}" if rows.get(name) and secs else ""
        floor_total = sum(floor.values()) if name == "ingestion (dlt)" else None
        lines.append(
            f"{name:<40} {secs:>9.1f} {rate:>10} {format_mib(peak):>10} "
            f"{_ratio(secs, floor_total):>9} {_ratio(secs, before.get(name)):>10}"
        )
    if previous:
        lines.append(
            f"{'total':<40} {report.seconds:>9.1f} {'':>10} {format_mib(report.peak_rss):>10} "
            f"{'':>9} {_ratio(report.seconds, previous.get('total_seconds')):>10}"
        )
        lines.append(f"(previous: {previous.get('file', '?')})")
    lines.append("\ningestion versus DuckDB reading the same files (floor):")
    lines.append(
        f"{'source':<16} {'dlt s':>8} {'floor s':>8} {'ratio':>7} {'rows':>12} {'rows/s':>10}"
    )
    for step in report.steps:
        source = step.step.removeprefix("ingest_")
        if step.step.startswith("ingest_") and source in floor:
            ratio = step.seconds / floor[source] if floor[source] else float("nan")
            rate = step.rows / step.seconds if step.seconds else 0
            lines.append(
                f"{source:<16} {step.seconds:>8.1f} {floor[source]:>8.2f} {ratio:>7.1f} "
                f"{step.rows:>12,} {rate:>10,.0f}"
            )
    return "\n".join(lines)


def result_kind(args: argparse.Namespace) -> str:
    return "incremental" if args.incremental else f"after-{args.after}" if args.after else "full"


def previous_result(results: Path, customers: int, kind: str) -> dict[str, Any] | None:
    """The newest earlier result of the same size and kind, with its file name."""
    prefix = f"{customers}-{re.sub(r'[^A-Za-z0-9_.-]', '_', kind)}-"
    files = sorted(results.glob(f"{prefix}*.json")) if results.is_dir() else []
    if not files:
        return None
    return {**json.loads(files[-1].read_text()), "file": files[-1].name}


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def write_result(results: Path, customers: int, kind: str, figures: dict[str, Any]) -> Path:
    """`<results>/<customers>-<kind>-<UTC time>.json`: sorts by time within a size and kind."""
    results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = results / f"{customers}-{re.sub(r'[^A-Za-z0-9_.-]', '_', kind)}-{stamp}.json"
    path.write_text(json.dumps(figures, indent=2, default=str))
    return path


def run_bench(args: argparse.Namespace) -> int:
    """time generation and every pipeline stage at a given size"""
    base = get_settings().data_dir / "bench"
    workdir = (args.workdir or base / str(args.customers)).resolve()
    results = (args.results or base / "results").resolve()
    if args.after or args.incremental:
        if not (workdir / "warehouse.duckdb").exists():
            flag = "--incremental" if args.incremental else "--after"
            raise SystemExit(f"cdp bench {flag}: no warehouse in {workdir} to resume from")
    else:
        if workdir.exists():
            shutil.rmtree(workdir)
        workdir.mkdir(parents=True)
    previous = previous_result(results, args.customers, result_kind(args))
    if previous is None and args.incremental:  # the first day: against the full build
        previous = previous_result(results, args.customers, "full")
    commit = _commit()  # the code that runs, read before the run (a commit may land meanwhile)
    with data_dir_env(workdir, dagster_home=workdir / "dagster_home") as settings:
        report, floor, extra = _bench_in(args, workdir, settings)
    extra["commit"] = commit
    return report_bench(args, report, floor, extra, results, previous)


def _next_day(landing: Path) -> int:
    days = [
        int(m.group(1)) for p in landing.rglob("*-day*") if (m := re.search(r"-day(\d+)", p.name))
    ]
    return max(days, default=0) + 1


def _bench_in(
    args: argparse.Namespace, workdir: Path, settings: Settings
) -> tuple[RunReport, dict[str, float], dict[str, Any]]:
    if args.after:
        print(f"Benchmark: assets after {args.after} in {workdir} (data kept)")
        return run_all_assets(exclude=outside_of(args.after)), {}, {}
    if args.incremental:
        from cdp_demo.daily import land_day

        n = _next_day(settings.landing_dir)
        started = time.time()
        day = land_day(settings.landing_dir, n=n, seed=args.seed)
        seconds = time.time() - started
        print(
            f"Benchmark: day {n} ({day.day}) of changes in {workdir}: {sum(day.new.values()):,} "
            f"new and {sum(day.changed.values()):,} changed records landed in {seconds:.1f} s"
        )
        floor = duckdb_read_floor(settings.landing_dir, name_pattern=f"*-day{n}.*")
        print("DuckDB read floor (s): " + ", ".join(f"{k}={v:.2f}" for k, v in floor.items()))
        report = run_pipeline(all_assets_but_syncs())
        extra = {"day": {"n": n, "date": day.day, "new": day.new, "changed": day.changed}}
        return report, floor, extra

    print(f"Benchmark: {args.customers:,} customers ({args.noise} noise) in {workdir}")
    gen_report, gen_seconds, gen_peak = generate_data(
        settings, args.customers, args.seed, noise=args.noise
    )
    gen_rows = sum_rows(gen_report)
    print(
        f"generate: {gen_rows:,} rows in {gen_seconds:.1f} s "
        f"({gen_rows / gen_seconds:,.0f} rows/s), peak {format_mib(gen_peak)}"
    )
    floor = duckdb_read_floor(settings.landing_dir)
    print("DuckDB read floor (s): " + ", ".join(f"{k}={v:.2f}" for k, v in floor.items()))
    report = run_all_assets()
    generation = {"rows": gen_rows, "seconds": gen_seconds, "peak_rss": gen_peak}
    return report, floor, {"generate": generation}


def all_assets_but_syncs() -> list[Any]:
    from cdp_demo.demo import all_assets_but_syncs as keys

    return keys()


def report_bench(
    args: argparse.Namespace,
    report: RunReport,
    floor: dict[str, float],
    extra: dict[str, Any],
    results: Path,
    previous: dict[str, Any] | None,
) -> int:
    """Print the run's steps, stages (against the previous result), checks and match quality;
    write the figures to the results folder (and to --json)."""
    print_section("Pipeline steps", format_steps(report))
    print_section("Stages", format_stages(report, floor, previous))
    print_section("Quality", format_checks(report))
    print_section("Match quality", format_match_quality(report))
    print_section("Churn model", format_churn(report))
    print_section("Predictions", format_predictions(report.materializations))
    kind = result_kind(args)
    figures = {
        "customers": args.customers,
        "noise": args.noise,
        "kind": kind,
        "after": args.after,
        **extra,
        "duckdb_floor_seconds": floor,
        "steps": [step.__dict__ for step in report.steps],
        "stages": stage_totals(report),
        "stage_rows": stage_rows(report),
        "total_seconds": report.seconds,
        "peak_rss": report.peak_rss,
        "checks": [check.__dict__ for check in report.checks if not check.passed],
    }
    path = write_result(results, args.customers, kind, figures)
    print(f"\nResult: {path}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0 if report.success else 1
