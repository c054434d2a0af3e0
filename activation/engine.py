"""The diff-based reverse-ETL engine.

For one sync:
1. the source (segment members joined to customer_360, or SQL over the marts) is mapped to
   `_key` + fields in DuckDB, filtered by consent for the destination's channel, and hashed;
2. the result is diffed against `activation.sync_state` (what the destination confirmed):
   added, changed and (mirror only) removed records;
3. only the diff is sent, in batches of the destination's size, with rate-limit waits
   (Retry-After up to a cap, beyond it the rest is deferred to a later run), exponential
   backoff on transient errors (tenacity) and batch splitting to isolate rejected records;
   an authentication error stops the run at once;
   Deletions owed to erased persons (activation/erasures.py) are sent first;
4. each batch is journalled (activation/journal.py) before it is sent; state is written
   after it, in one transaction with the journal, for the keys the destination confirmed;
   failures go to `activation.sync_failures`, the run to `activation.sync_runs`.

Anything not confirmed stays out of the state, so the next run sends exactly what is missing;
a batch whose outcome is unknown (crash, late answer) is resumed without a second delivery.

The parts live in their own modules: ``diff.py`` (1-2), ``sending.py`` and ``delivery.py`` (3),
``state.py`` (the tables and their writes, 4), ``validation.py`` (the syncs checked against the
warehouse before a run); :class:`SyncEngine` puts them together and runs them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import duckdb

from activation import journal
from activation.config import Sync
from activation.delivery import Deferred, DestinationUnavailable
from activation.destinations import Destination, build_destination, destination_class
from activation.destinations.base import AuthError
from activation.diff import SyncDiff, source_sql
from activation.erasures import SyncErasures
from activation.sending import SyncSending
from activation.state import FAILURES, RUNS, STATE, SyncRun, SyncState, ensure_schema, last_runs
from activation.validation import validate_sync_sql

__all__ = [
    "FAILURES",
    "RUNS",
    "STATE",
    "SyncEngine",
    "SyncRun",
    "ensure_schema",
    "last_runs",
    "run_sync",
    "source_sql",
    "validate_sync_sql",
]

log = logging.getLogger(__name__)


class SyncEngine(SyncDiff, SyncErasures, SyncSending, SyncState):
    """Runs one sync. `sleep` is injectable so tests never wait."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        sync: Sync,
        *,
        destination: Destination | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = 5,
        max_rate_limit_waits: int = 20,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.con = con
        self.sync = sync
        self.run_id = uuid.uuid4().hex[:16]
        self._destination = destination
        # The consent channel comes from the destination *type* in the registry, never from
        # the instance handed in, so no caller can bypass it.
        self.channel = destination_class(sync.destination.type).consent_channel(
            sync.destination.options
        )
        self.sleep = sleep
        self.max_retries = max_retries
        self.max_rate_limit_waits = max_rate_limit_waits
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.now = now or (lambda: dt.datetime.now(dt.UTC))

    def run(self, dry_run: bool = False, echo: Callable[[str], None] | None = None) -> SyncRun:
        ensure_schema(self.con)
        interrupted = journal.mark_interrupted(self.con, self.now())
        if interrupted:
            log.warning("sync engine: %d run(s) left running by a dead process", interrupted)
        run = SyncRun(
            run_id=self.run_id, sync_name=self.sync.name, started_at=self.now(), dry_run=dry_run
        )
        journal.LIVE_RUNS.add(run.run_id)
        self.con.execute(
            f"INSERT INTO {RUNS} (run_id, sync_name, started_at, dry_run, status, pid) "
            "VALUES (?, ?, ?, ?, 'running', ?)",
            [run.run_id, run.sync_name, run.started_at, dry_run, os.getpid()],
        )
        dest: Destination | None = None
        try:
            waiting = None if dry_run else self._deferred_until()
            if waiting is not None:
                run.status, run.deferred_until = "deferred", waiting
                run.error = f"the destination asked to wait until {waiting:%Y-%m-%d %H:%M:%S%z}"
                return run
            self.compute_diff(run)
            log.info(
                "sync %s: diff +%d ~%d -%d, skipped for consent %d",
                self.sync.name,
                run.planned_added,
                run.planned_changed,
                run.planned_removed,
                run.skipped_consent,
            )
            if dry_run:
                self._print_diff(run, echo or print)
                run.status = "dry_run"
            else:
                dest = self._destination or build_destination(self.sync, self.run_id)
                self._send_erasures(dest, run)
                self._send_all(dest, run)
                if self.sync.mode == "mirror":
                    self.con.execute(self._untracked_sql())
                self._close_stale_failures(run)
                run.status = "success" if run.failed == 0 else "partial"
        except DestinationUnavailable as exc:
            run.status = "failed"
            run.error = f"destination unavailable: {exc}; unsent records go in the next run"
        except AuthError as exc:
            run.status = "failed"
            run.error = f"auth error: {exc}; the sync stopped, fix the credentials"
        except Deferred as exc:
            run.status = "deferred"
            run.deferred_until = self.now() + dt.timedelta(seconds=exc.retry_after)
            run.error = (
                f"rate limited: {exc} is over max_retry_after; the rest is deferred until "
                f"{run.deferred_until:%Y-%m-%d %H:%M:%S%z}"
            )
        except Exception as exc:
            run.status = "error"
            run.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            raise
        finally:
            journal.LIVE_RUNS.discard(run.run_id)
            if dest is not None:
                try:
                    dest.finish()
                except Exception as exc:  # pragma: no cover - best effort close
                    log.warning("sync %s: closing destination failed: %s", self.sync.name, exc)
            self._finish(run)
        log.info(
            "sync %s run %s: %s, sent +%d ~%d -%d, erased %d, failed %d",
            run.sync_name,
            run.run_id,
            run.status,
            run.added,
            run.changed,
            run.removed,
            run.erased,
            run.failed,
        )
        return run


def run_sync(
    con: duckdb.DuckDBPyConnection, sync: Sync, *, dry_run: bool = False, **kwargs: Any
) -> SyncRun:
    echo = kwargs.pop("echo", None)
    return SyncEngine(con, sync, **kwargs).run(dry_run=dry_run, echo=echo)
