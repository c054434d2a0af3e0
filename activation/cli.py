"""`cdp segments`, `cdp syncs`, `cdp sync NAME [--dry-run]`.

Readers (`cdp segments` without --refresh, `cdp syncs`, dry runs) open the serving snapshot
(cdp/serving.py), never the warehouse, so they work while a pipeline run writes it. The
writers (`--refresh`, a real sync) hold the warehouse's writer lock and publish the
`activation` schema of the snapshot again when done.
"""

from __future__ import annotations

import argparse

from cdp.commands import add_command


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "segments", _segments)
    p.add_argument("--refresh", action="store_true", help="re-materialise membership first")

    add_command(subparsers, "syncs", _syncs)

    p = add_command(subparsers, "sync", _sync)
    p.add_argument("name")
    p.add_argument("--dry-run", action="store_true", help="print the diff, send nothing")


def _load(settings):
    from activation.config import load_syncs, segments_path, syncs_path
    from activation.engine import validate_sync_sql
    from activation.segments import load_segments

    segments = load_segments(segments_path(settings.config_dir))
    syncs = load_syncs(syncs_path(settings.config_dir), segments)
    validate_sync_sql(syncs.syncs, syncs_path(settings.config_dir))
    return segments, syncs


def _load_syncs(settings):
    """The syncs of the config, or None after printing why the config is unreadable."""
    from activation.config import ConfigError

    try:
        return _load(settings)[1]
    except ConfigError as exc:
        print(f"error: {exc}")
        return None


def _connect(settings):
    """The warehouse, for writers (who hold its writer lock)."""
    from cdp.warehouse import connect as duckdb_connect

    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    return duckdb_connect(str(settings.warehouse))


def _republish(settings) -> None:
    """Publish the activation tables just written into the serving snapshot."""
    from cdp.serving import publish

    publish(settings, schemas=("activation",))


def _record_dry_run(settings, row) -> None:
    """Record a dry run's row (an Arrow table) in the warehouse's `activation.sync_runs` and
    publish it, as a real run is. The diff was computed on the snapshot so that a dry run
    never waits for a pipeline run: when one holds the warehouse, the row is not recorded and
    the message says so (nothing was sent, and running the dry run again records it)."""
    from activation.state import record_runs
    from cdp.warehouse_lock import WarehouseBusy, warehouse_lock

    try:
        with warehouse_lock(settings.warehouse, wait=False):
            with _connect(settings) as con:
                record_runs(con, row)
            _republish(settings)
    except WarehouseBusy as exc:
        print(f"dry run not recorded in the sync history: {exc}; run it again when it is done")


def _segments(args: argparse.Namespace) -> int:
    """list segments with their current member counts"""
    from contextlib import nullcontext

    from activation.config import ConfigError, segments_path
    from activation.segments import load_and_validate, materialise, member_counts
    from cdp.serving import connect_or_empty
    from cdp.settings import get_settings
    from cdp.warehouse_lock import warehouse_lock

    settings = get_settings()
    path = segments_path(settings.config_dir)
    writing = warehouse_lock(settings.warehouse) if args.refresh else nullcontext()
    try:
        with writing:
            if args.refresh:
                with _connect(settings) as con:
                    materialise(con, load_and_validate(path, con), path)
                _republish(settings)
            with connect_or_empty(settings) as con:
                segments = load_and_validate(path, con)
                counts = member_counts(con)
    except ConfigError as exc:
        print(f"error: {exc}")
        return 2
    width = max((len(s.name) for s in segments.segments), default=7)
    print(f"{'segment':<{width}}  {'members':>9}  description")
    for s in segments.segments:
        n = counts.get(s.name)
        print(f"{s.name:<{width}}  {'-' if n is None else n:>9}  {s.description}")
    return 0


def _syncs(args: argparse.Namespace) -> int:
    """list syncs with their last run"""
    from activation.engine import last_runs
    from cdp.serving import connect_or_empty
    from cdp.settings import get_settings

    settings = get_settings()
    syncs = _load_syncs(settings)
    if syncs is None:
        return 2
    with connect_or_empty(settings) as con:
        runs = last_runs(con)
    print(format_syncs(syncs.syncs, runs))
    return 0


def format_syncs(syncs, runs) -> str:
    lines = [
        f"{'sync':<30} {'destination':<13} {'mode':<11} {'schedule':<12} last run",
    ]
    for s in syncs:
        r = runs.get(s.name)
        if r is None:
            last = "never"
        else:
            last = (
                f"{r['started_at']:%Y-%m-%d %H:%M} {r['status']}"
                f"{' (dry run)' if r['dry_run'] else ''}: +{r['added'] or 0} ~{r['changed'] or 0}"
                f" -{r['removed'] or 0} failed {r['failed'] or 0}"
                f" skipped(consent) {r['skipped_consent'] or 0}"
            )
        lines.append(
            f"{s.name:<30} {s.destination.type:<13} {s.mode:<11} {s.schedule or '-':<12} {last}"
        )
    return "\n".join(lines)


def _sync(args: argparse.Namespace) -> int:
    """run one sync (only the diff is sent)"""
    import logging

    from activation.engine import run_sync
    from cdp.settings import get_settings
    from cdp.warehouse_lock import warehouse_lock

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    syncs = _load_syncs(settings)
    if syncs is None:
        return 2
    by_name = {s.name: s for s in syncs.syncs}
    if args.name not in by_name:
        print(f"error: unknown sync {args.name!r}; known: {', '.join(sorted(by_name))}")
        return 2
    import duckdb

    from activation.destinations import DestinationConfigError
    from activation.state import RUNS
    from cdp.serving import overlay

    try:
        if args.dry_run:  # the diff on the snapshot, then its run row in the warehouse
            with overlay(settings, writable=("activation",)) as con:
                run = run_sync(con, by_name[args.name], dry_run=True)
                row = con.sql(f"SELECT * FROM {RUNS} WHERE run_id = ?", params=[run.run_id])
                _record_dry_run(settings, row.to_arrow_table())
        else:
            with warehouse_lock(settings.warehouse):
                with _connect(settings) as con:
                    run = run_sync(con, by_name[args.name])
                _republish(settings)
    except (duckdb.Error, DestinationConfigError, ValueError, LookupError) as exc:
        print(f"error: sync {args.name}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return 2
    if not args.dry_run:
        print(
            f"sync {run.sync_name} run {run.run_id}: {run.status}; added {run.added}, "
            f"changed {run.changed}, removed {run.removed}, erased {run.erased}, "
            f"failed {run.failed}, "
            f"skipped for consent {run.skipped_consent}"
        )
        if run.error:
            print(run.error)
    return 0 if run.status in ("success", "dry_run") else 1
