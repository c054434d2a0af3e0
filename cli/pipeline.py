"""`cdp run`: the pipeline on the landing folder as it is, one line per finished step.

What the automation does unattended (orchestration/automation.py), by hand: ingestion of every
source (each on its own: one failing does not stop the others), then everything derived from the
raw layer (quarantine, staging, identity, marts, scores, segments) in a second run, so the
sources that loaded reach the marts even when another failed. Syncs send data out: only with
`--syncs`. Blocking checks stop what is downstream of them. Nothing is generated or deleted.

One writer at a time: `cdp run` holds the warehouse's file lock for its whole duration (Dagster
runs take the same lock), and first marks FAILED the runs of a process that was killed.
Exit code 0 when every step and blocking check passed, 1 otherwise, 2 for a bad selection,
3 when the warehouse is busy and `--no-wait` was given.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

from cdp.commands import add_command, doc_description
from cli.runner import RunReport, StepReport, format_mib, is_sync_asset


def register(subparsers: argparse._SubParsersAction) -> None:
    run = add_command(subparsers, "run", run_command, description=doc_description(__doc__))
    run.add_argument(
        "--select",
        action="append",
        metavar="SELECTION",
        help="Dagster asset selection, repeatable: 'group:marts', 'key:raw_shop/*', "
        "'key:identity/identity_graph+' (with what is downstream); default: every asset",
    )
    run.add_argument(
        "--syncs",
        action="store_true",
        help="also run the reverse-ETL syncs in the selection (they send data to destinations)",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental dbt models in full, re-resolve every identity (model "
        "re-estimated) and train every ML model again, instead of taking only what changed "
        "or is due",
    )
    run.add_argument(
        "--no-wait",
        action="store_true",
        help="exit with code 3 instead of waiting when another run is writing the warehouse",
    )


def resolve_selection(selections: list[str] | None, with_syncs: bool) -> list[Any]:
    """Asset keys of the selection strings (all assets when none), in graph order."""
    import dagster as dg

    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    if selections:
        selected: set[Any] = set()
        for text in selections:
            try:
                with warnings.catch_warnings():  # the selection grammar is flagged beta
                    warnings.simplefilter("ignore", dg.BetaWarning)
                    selected |= dg.AssetSelection.from_string(text).resolve(graph)
            except Exception as exc:  # the parser's own message says what is wrong
                raise SystemExit(f"cdp run: cannot select {text!r}: {exc}") from None
    else:
        selected = set(graph.get_all_asset_keys())
    keys = [key for key in graph.toposorted_asset_keys if key in selected]
    return [key for key in keys if with_syncs or not is_sync_asset(key)]


def step_line(step: StepReport) -> str:
    rows = f"{step.rows:>12,} rows" if step.rows else " " * 17
    line = f"  {step.status:<6} {step.seconds:>8.1f} s {rows}  {step.label or step.step}"
    return f"{line}: {step.error}" if step.error else line


def failures(report: RunReport) -> list[str]:
    """Failed steps and failed blocking checks: what makes the exit code non-zero."""
    out = [f"step {step.step} failed" for step in report.steps if step.status != "ok"]
    out += [
        f"blocking check {check.asset} :: {check.name} failed"
        for check in report.checks
        if check.blocking and not check.passed and check.severity == "ERROR"
    ]
    return out


def run_command(args: argparse.Namespace) -> int:
    """run the pipeline (or --select) on the landing files as they are"""
    import dagster as dg

    from cdp.settings import ensure_dagster_home, get_settings
    from cdp.warehouse_lock import WarehouseBusy, warehouse_lock
    from cli.runner import run_pipeline
    from orchestration.monitoring import fail_dead_runs
    from orchestration.shared.keys import FULL_REFRESH_TAG

    settings = get_settings()
    try:
        selection = resolve_selection(args.select, args.syncs)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    if not selection:
        print("cdp run: the selection is empty", file=sys.stderr)
        return 2
    ensure_dagster_home(settings)
    print(f"Landing folder: {settings.landing_dir}\nWarehouse: {settings.warehouse}")

    def waiting(pid: str) -> None:
        print(f"waiting: another process (pid {pid or '?'}) is writing the warehouse", flush=True)

    try:
        with warehouse_lock(settings.warehouse, wait=not args.no_wait, on_wait=waiting):
            for run_id in fail_dead_runs(dg.DagsterInstance.get()):
                print(f"run {run_id} was interrupted (its process is gone): marked FAILED")
            print(f"Running {len(selection)} assets", flush=True)
            report = run_pipeline(
                selection,
                on_step=lambda s: print(step_line(s), flush=True),
                tags={FULL_REFRESH_TAG: "true"} if args.full_refresh else None,
            )
    except WarehouseBusy as exc:
        print(f"cdp run: {exc}", file=sys.stderr)
        return 3
    for step in report.skipped_steps:
        print(f"  {'skip':<6} {'':>10} {'':>17}  {step}")
    problems = failures(report)
    failed_checks = [c for c in report.checks if not c.passed]
    print(
        f"{len(report.steps)} steps in {report.seconds:.1f} s (peak {format_mib(report.peak_rss)}), "
        f"{len(report.skipped_steps)} skipped; asset checks: "
        f"{len(report.checks) - len(failed_checks)} passed, {len(failed_checks)} failed"
    )
    for problem in problems:
        print(f"FAILED: {problem}")
    print(f"Run ids: {report.run_id} (details in `make ui`); step output: {report.log_path}")
    return 1 if problems else 0
