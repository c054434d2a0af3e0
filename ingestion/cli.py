"""`cdp ingest`: run the dlt pipelines outside Dagster and print what they loaded.

Load the source extracts configured in config/sources.yaml into DuckDB. Already loaded files
are skipped; new or changed files are merged on the primary keys.
"""

from __future__ import annotations

import argparse
import logging
import sys

from cdp.commands import add_command, doc_description
from ingestion.config import SOURCE_NAMES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "ingest", run, description=doc_description(__doc__))
    parser.add_argument(
        "--source",
        action="append",
        choices=SOURCE_NAMES,
        metavar="NAME",
        help=f"only this source (repeatable); one of: {', '.join(SOURCE_NAMES)}",
    )


def _waiting(pid: str) -> None:
    print(f"the warehouse is being written by pid {pid}: waiting", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """load the landing files into the raw_<source> schemas of the warehouse (dlt)"""
    from cdp.config import ConfigError
    from cdp.settings import get_settings
    from cdp.warehouse_lock import warehouse_lock
    from ingestion.pipeline import run_all

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    try:
        with warehouse_lock(settings.warehouse, on_wait=_waiting):
            report = run_all(settings, sources=args.source)
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"warehouse: {settings.warehouse}")
    for source, seconds in report["seconds"].items():
        tables = {t: n for t, n in report["rows"].items() if t.split(".", 1)[0] == f"raw_{source}"}
        total = sum(tables.values())
        load_ids = ", ".join(report["load_ids"].get(source, [])) or "-"
        print(f"{source}: {total} rows in {seconds:.2f}s (load id {load_ids})")
        for table, count in sorted(tables.items()):
            print(f"  {table:<40} {count:>10}")
        if not tables:
            print("  nothing new")
    for source, error in report["errors"].items():
        print(f"{source}: {error}", file=sys.stderr)
    failed = [s for s, e in report["errors"].items() if not e.startswith("skipped")]
    return 1 if failed else 0
