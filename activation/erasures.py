"""Erasures owed to the destinations (GDPR art. 17 and 19): `activation.sync_erasures`.

An erasure in the warehouse (privacy/erase.py) cannot delete what a destination already
holds, so it moves each key the destination confirmed (the `sync_state` rows, and keys of
batches whose outcome is unknown) into this queue, with the salted hash of the key, and
deletes the state. The next run of each sync sends the vendor's deletion for its queued keys
before anything else (`Destination.erase`: HubSpot GDPR delete, Klaviyo Data Privacy deletion
job, a signed `erase` webhook event, SQL DELETE, an SFTP removal file, an audience removal
list). A confirmed key is blanked (`key` set to NULL): the row keeps only the hash, the sync,
the request and when it was confirmed. A deletion that failed stays queued, with its
attempts and masked error, and is sent again by the next run, like a failed record.
While a key is queued the sync never adds it back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa

from activation.config import Sync
from activation.delivery import DestinationUnavailable, deliver
from activation.destinations.base import KEY, BatchResult, Destination
from cdp.pii import mask_error_text
from cdp.warehouse import ensure_table

ERASURES = "activation.sync_erasures"
#: the columns of ERASURES, in table order
COLUMNS = """request_id VARCHAR NOT NULL, sync_name VARCHAR NOT NULL, key VARCHAR,
    key_hash VARCHAR NOT NULL, requested_at TIMESTAMPTZ NOT NULL, status VARCHAR NOT NULL,
    attempts INTEGER NOT NULL, last_error VARCHAR, run_id VARCHAR, confirmed_at TIMESTAMPTZ"""
#: SQL condition over ERASURES: a deletion still owed (the key is kept until confirmed)
OWED = "status <> 'confirmed' AND key IS NOT NULL"


def ensure_erasures(con: duckdb.DuckDBPyConnection) -> None:
    ensure_table(con, ERASURES, COLUMNS)


def queue(
    con: duckdb.DuckDBPyConnection,
    request_id: str,
    rows: list[tuple[str, str, str]],
    now: dt.datetime,
) -> int:
    """Queue (sync_name, key, key_hash) deletions for `request_id`; a key already owed to
    that sync is not queued twice. Returns how many were queued."""
    ensure_erasures(con)
    if not rows:
        return 0
    tbl = pa.table(
        {
            "sync_name": pa.array([r[0] for r in rows], pa.string()),
            "key": pa.array([r[1] for r in rows], pa.string()),
            "key_hash": pa.array([r[2] for r in rows], pa.string()),
        }
    )
    con.register("_erasure_new", tbl)
    try:
        (n,) = con.execute(
            f"""INSERT INTO {ERASURES}
                SELECT DISTINCT ?, n.sync_name, n.key, n.key_hash, ?, 'pending', 0,
                       NULL, NULL, NULL
                FROM _erasure_new n
                WHERE NOT EXISTS (SELECT 1 FROM {ERASURES} e WHERE e.sync_name = n.sync_name
                                  AND e.key = n.key AND e.status <> 'confirmed')""",
            [request_id, now],
        ).fetchall()[0]
    finally:
        con.unregister("_erasure_new")
    return int(n)


def owed_keys_sql(sync_name: str) -> str:
    """SQL: the keys whose deletion is still owed to `sync_name` (never added back)."""
    name = sync_name.replace("'", "''")
    return f"SELECT key FROM {ERASURES} WHERE sync_name = '{name}' AND {OWED}"


class SyncErasures:
    """Sending the deletions owed to one sync's destination (a part of
    :class:`activation.engine.SyncEngine`)."""

    con: duckdb.DuckDBPyConnection
    sync: Sync
    now: Callable[[], dt.datetime]

    def pending_erasures(self) -> list[str]:
        ensure_erasures(self.con)
        return [
            r[0]
            for r in self.con.execute(
                f"SELECT DISTINCT key FROM {ERASURES} WHERE sync_name = ? AND {OWED} ORDER BY 1",
                [self.sync.name],
            ).fetchall()
        ]

    def _send_erasures(self, dest: Destination, run: Any) -> None:
        keys = self.pending_erasures()
        size = dest.batch_size
        for n, start in enumerate(range(0, len(keys), size), 1):
            batch = [{KEY: k} for k in keys[start : start + size]]
            batch_id = f"{run.started_at:%Y%m%dT%H%M%SZ}_{run.run_id}_e{n:04d}"
            try:
                result = deliver(self, dest, "erase", batch, batch_id)  # type: ignore[arg-type]
            except DestinationUnavailable as exc:
                self._record_erasures(BatchResult(failed={r[KEY]: str(exc) for r in batch}), run)
                raise
            self._record_erasures(result, run)

    def _record_erasures(self, result: BatchResult, run: Any) -> None:
        now = self.now()
        done = list(result.confirmed) + sorted(result.not_found)
        if done:
            self.con.register("_erasure_keys", pa.table({"key": pa.array(done, pa.string())}))
            self.con.execute(
                f"""UPDATE {ERASURES} SET status = 'confirmed', key = NULL, confirmed_at = ?,
                      run_id = ?, attempts = attempts + 1, last_error = NULL
                    WHERE sync_name = ? AND {OWED} AND key IN (SELECT key FROM _erasure_keys)""",
                [now, run.run_id, self.sync.name],
            )
            self.con.unregister("_erasure_keys")
            run.erased += len(done)
        for key, error in result.failed.items():
            self.con.execute(
                f"""UPDATE {ERASURES} SET status = 'failed', attempts = attempts + 1,
                      last_error = ?, run_id = ? WHERE sync_name = ? AND {OWED} AND key = ?""",
                [mask_error_text(error), run.run_id, self.sync.name, key],
            )
        run.failed += len(result.failed)
