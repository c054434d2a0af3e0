"""`cdp quarantine` and `cdp quality`: quarantined rows, latest validation results, history."""

from __future__ import annotations

import argparse
import json
import sys

from cdp.commands import add_command


def register(subparsers: argparse._SubParsersAction) -> None:
    qr = add_command(subparsers, "quarantine", _quarantine)
    qr.add_argument("--source", help="source or raw schema, e.g. shop or raw_shop")
    qr.add_argument("--rule", help="rule name, e.g. negative_amount or ingestion_rejected")
    qr.add_argument("--samples", type=int, default=3, help="sample rows per table and rule")
    qr.add_argument("--refresh", action="store_true", help="evaluate the rules now before listing")

    ql = add_command(subparsers, "quality", _quality)
    ql.add_argument("action", nargs="?", choices=("latest", "history", "run"), default="latest")
    ql.add_argument(
        "--asset",
        help="schema.table, e.g. marts.customer_360 (repeatable for run)",
        action="append",
    )
    ql.add_argument("--all", action="store_true", help="latest: also list passing expectations")
    ql.add_argument("--no-docs", action="store_true", help="run: skip the Data Docs build")


def _connect(read_only: bool):
    from cdp.settings import get_settings
    from cdp.warehouse import connect as duckdb_connect

    path = get_settings().warehouse
    if read_only and not path.exists():
        print(f"no warehouse at {path}; run the pipeline first (cdp demo)", file=sys.stderr)
        return None
    return duckdb_connect(str(path), read_only=read_only)


def _print_table(frame, columns: list[str]) -> None:
    import pandas as pd

    if frame is None or frame.empty:
        return
    with pd.option_context(
        "display.max_rows", 500, "display.max_colwidth", 60, "display.width", 200
    ):
        print(frame[columns].to_string(index=False))


def _quarantine(args: argparse.Namespace) -> int:
    """list quarantined rows by source and rule (counts, then masked samples)

    List rows held back by quality rules or rejected by ingestion.
    """
    from cdp.pii import mask_error_text
    from data_quality import quarantine

    con = _connect(read_only=not args.refresh)
    if con is None:
        return 1
    try:
        if args.refresh:
            from data_quality.config import load_config

            report = quarantine.run_quarantine(con, load_config())
            for outcome in report.errors:
                print(f"error: {outcome.error}", file=sys.stderr)
        counts = quarantine.counts(con, args.source, args.rule)
        if counts.empty:
            print(
                "no quarantined rows"
                + (" matching the filters" if args.source or args.rule else "")
            )
            return 0
        print(f"{int(counts['rows'].sum())} quarantined rows\n")
        # reasons written by older versions may echo a cell value: masked on the way out
        counts["reason"] = counts["reason"].map(lambda r: mask_error_text(r) if r else r)
        _print_table(
            counts,
            [
                "schema_name",
                "table_name",
                "rule",
                "severity",
                "rows",
                "loads",
                "last_seen",
                "reason",
            ],
        )
        if args.samples > 0:
            print("\nsamples (personal data masked):")
            for row in quarantine.samples(con, args.source, args.rule, args.samples):
                where = row["source_file"] or "-"
                print(
                    f"- {row['schema_name']}.{row['table_name']} [{row['rule']}/{row['severity']}] "
                    f"file={where} load={row['load_id']} row_id={row['row_id']}: {mask_error_text(row['reason'] or '')}"
                )
                print(f"    {json.dumps(row['raw_record'], ensure_ascii=False, default=str)[:300]}")
    finally:
        con.close()
    return 0


def _quality(args: argparse.Namespace) -> int:
    """data-quality results: latest summary, history, or run the suites

    `cdp quality` prints the latest result of every expectation; `cdp quality history` what is
    failing and since when; `cdp quality run` validates now.
    """
    if args.action == "run":
        return _quality_run(args)
    from cdp.warehouse import table_exists
    from data_quality import history

    con = _connect(read_only=True)
    if con is None:
        return 1
    asset = args.asset[0] if args.asset else None
    try:
        if args.action == "history":
            frame = history.failing_since(con, asset)
            if frame.empty:
                print(
                    "nothing failing in the latest validation of any asset"
                    if table_exists(con, history.RESULTS_TABLE)
                    else "no validation has run yet"
                )
                return 0
            print(f"{len(frame)} expectations failing in their latest run\n")
            _print_table(
                frame,
                [
                    "asset",
                    "expectation",
                    "severity",
                    "observed_value",
                    "failing_since",
                    "failing_runs",
                    "last_success",
                    "last_checked",
                ],
            )
            return 0
        frame = history.latest(con, asset)
        if frame.empty:
            print("no validation has run yet (cdp quality run)")
            return 0
        failing = frame[~frame["success"]]
        summary = (
            frame.groupby("asset")
            .agg(
                expectations=("expectation", "count"),
                failed=("success", lambda s: int((~s).sum())),
                validated_at=("validated_at", "max"),
            )
            .reset_index()
        )
        print("latest validation per asset\n")
        _print_table(summary, ["asset", "expectations", "failed", "validated_at"])
        shown = frame if args.all else failing
        if not shown.empty:
            print("\nfailing expectations" if not args.all else "\nall expectations")
            _print_table(
                shown,
                [
                    "asset",
                    "expectation",
                    "column",
                    "severity",
                    "success",
                    "observed_value",
                    "unexpected_count",
                ],
            )
        from data_quality.runner import default_gx_root

        print(f"\nData Docs: {default_gx_root() / 'data_docs' / 'index.html'}")
    finally:
        con.close()
    return 0


def _quality_run(args: argparse.Namespace) -> int:
    from data_quality.config import load_config
    from data_quality.runner import run_suites, select_suites

    config = load_config()
    con = _connect(read_only=False)
    try:
        results = run_suites(
            con, select_suites(args.asset), config=config, data_docs=not args.no_docs
        )
    finally:
        con.close()
    errors = 0
    for result in results:
        print(result.summary())
        for failure in result.failures:
            print(
                f"    {failure.severity:5} {failure.check_id}: {failure.observed_value}"
                + (f" - {failure.message}" if failure.message else "")
            )
        errors += len(result.error_failures)
    return 1 if errors else 0
