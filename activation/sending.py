"""Sending the diff of a run: the batches an earlier run left unresolved first, then the rest,
each journalled before it is sent (activation/journal.py) and its answer recorded in the state
in one transaction with the journal. Retries and waits of one batch: activation/delivery.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import duckdb

from activation import journal
from activation.config import Sync
from activation.delivery import DestinationUnavailable, deliver
from activation.destinations import Destination
from activation.destinations.base import KEY, BatchResult
from activation.state import REMOVING, SyncRun


class SyncSending:
    """Batching, journalling and recording the diff (a part of
    :class:`activation.engine.SyncEngine`); the rows come from
    :class:`activation.diff.SyncDiff`, the writes go through :class:`activation.state.SyncState`."""

    con: duckdb.DuckDBPyConnection
    sync: Sync
    now: Callable[[], dt.datetime]
    _rows: Callable[[str], Iterator[list[dict[str, Any]]]]
    _resumed_rows: Callable[[str, str], list[dict[str, Any]]]
    _record: Callable[[str, list[dict[str, Any]], BatchResult, SyncRun], None]
    _record_failures: Callable[[str, dict[str, str], SyncRun], None]

    def _send_all(self, dest: Destination, run: SyncRun) -> None:
        """Resume the batches an earlier run left unresolved, then send the rest of the diff."""
        for batch_id, op in journal.plan_resume(self.con, self.sync.name, run.run_id, self.now()):
            batch = self._resumed_rows(batch_id, op)
            self._send_batch(dest, op, batch, batch_id, run, resumed=True)
            run.resumed_batches += 1
        size = dest.batch_size
        n = 0
        for op in (*REMOVING, "add", "change"):
            for chunk in self._rows(op):
                for i in range(0, len(chunk), size):
                    batch = chunk[i : i + size]
                    n += 1
                    # sorts in sending order (file drops are named after it); no personal data
                    batch_id = f"{run.started_at:%Y%m%dT%H%M%SZ}_{run.run_id}_{n:05d}"
                    journal.write(
                        self.con, self.sync.name, run.run_id, batch_id, op, batch, self.now()
                    )
                    self._send_batch(dest, op, batch, batch_id, run)

    def _send_batch(
        self,
        dest: Destination,
        op: str,
        batch: list[dict[str, Any]],
        batch_id: str,
        run: SyncRun,
        resumed: bool = False,
    ) -> None:
        # On any exception the journal stays open: an earlier attempt may have been applied,
        # so the next run resumes the batch (reconciled, or under the same idempotency key).
        try:
            result = deliver(self, dest, op, batch, batch_id, maybe_applied=resumed)
        except DestinationUnavailable as exc:
            self._record_failures(op, {r[KEY]: str(exc) for r in batch}, run)
            raise
        self.con.begin()
        try:
            self._record(op, batch, result, run)
            journal.resolve(self.con, batch_id, f"answered (run {run.run_id})", self.now())
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        dest.committed()
