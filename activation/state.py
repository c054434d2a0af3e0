"""What the sync engine keeps in the warehouse: the tables (DDL) of `activation.sync_state`
(what each destination confirmed), `activation.sync_failures` and `activation.sync_runs`, and
the engine's writes to them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import pyarrow as pa

from activation import journal
from activation.config import Sync
from activation.destinations.base import KEY, BatchResult
from activation.erasures import ensure_erasures
from cdp.pii import mask_error_text
from cdp.warehouse import ensure_table, table_exists

STATE = "activation.sync_state"
FAILURES = "activation.sync_failures"
RUNS = "activation.sync_runs"
#: the columns of each table `ensure_schema` creates (between the parentheses of CREATE TABLE)
COLUMNS = {
    STATE: """sync_name VARCHAR NOT NULL, key VARCHAR NOT NULL, hash VARCHAR NOT NULL,
        created_by_sync BOOLEAN NOT NULL, last_sent_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (sync_name, key)""",
    FAILURES: """sync_name VARCHAR NOT NULL, key VARCHAR NOT NULL, operation VARCHAR NOT NULL,
        error VARCHAR, run_id VARCHAR NOT NULL, failed_at TIMESTAMPTZ NOT NULL,
        resolved_at TIMESTAMPTZ, resolution VARCHAR""",
    RUNS: """run_id VARCHAR PRIMARY KEY, sync_name VARCHAR NOT NULL,
        started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ,
        added BIGINT, changed BIGINT, removed BIGINT, failed BIGINT,
        skipped_consent BIGINT, skipped_invalid BIGINT, not_found BIGINT,
        dry_run BOOLEAN NOT NULL, status VARCHAR, error VARCHAR""",
    journal.JOURNAL: """sync_name VARCHAR NOT NULL, batch_id VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL, op VARCHAR NOT NULL, key VARCHAR NOT NULL, hash VARCHAR,
        written_at TIMESTAMPTZ NOT NULL, resolved_at TIMESTAMPTZ, resolution VARCHAR""",
}
#: operations after which the destination no longer holds the record for the sync: a mirror
#: removal, and (other modes) leaving the audience or losing consent
REMOVING = ("remove", "leave", "unsubscribe")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for table, columns in COLUMNS.items():
        ensure_table(con, table, columns)
    # added with the journal; older warehouses get them here
    con.execute(f"ALTER TABLE {RUNS} ADD COLUMN IF NOT EXISTS pid INTEGER")
    con.execute(f"ALTER TABLE {RUNS} ADD COLUMN IF NOT EXISTS deferred_until TIMESTAMPTZ")
    con.execute(f"ALTER TABLE {RUNS} ADD COLUMN IF NOT EXISTS erased BIGINT")
    ensure_erasures(con)


def record_runs(con: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
    """Insert run rows computed elsewhere (a dry run's, on the serving snapshot), by name."""
    ensure_schema(con)
    con.register("_runs_to_record", rows)
    try:
        con.execute(f"INSERT INTO {RUNS} BY NAME SELECT * FROM _runs_to_record")
    finally:
        con.unregister("_runs_to_record")


@dataclass
class SyncRun:
    run_id: str
    sync_name: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    added: int = 0
    changed: int = 0
    removed: int = 0
    erased: int = 0  # deletions of erased persons the destination confirmed
    failed: int = 0
    skipped_consent: int = 0
    skipped_invalid: int = 0
    not_found: int = 0
    dry_run: bool = False
    status: str = "running"
    error: str | None = None
    deferred_until: dt.datetime | None = None
    resumed_batches: int = 0
    # planned counts (the diff), not stored in sync_runs
    planned_added: int = 0
    planned_changed: int = 0
    planned_removed: int = 0

    def metadata(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in asdict(self).items()
            if k not in ("started_at", "finished_at", "deferred_until") and v is not None
        }


def last_runs(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:

    if not table_exists(con, RUNS):
        return {}
    rows = (
        con.sql(
            f"""SELECT * FROM {RUNS} QUALIFY row_number() OVER (
              PARTITION BY sync_name ORDER BY started_at DESC) = 1"""
        )
        .to_arrow_table()
        .to_pylist()
    )
    return {r["sync_name"]: r for r in rows}


class SyncState:
    """The engine's writes to the state, failure and run tables (a part of
    :class:`activation.engine.SyncEngine`)."""

    con: duckdb.DuckDBPyConnection
    sync: Sync
    now: Callable[[], dt.datetime]

    def _untracked_sql(self) -> str:
        name = self.sync.name.replace("'", "''")
        return f"""DELETE FROM {STATE} s WHERE s.sync_name = '{name}' AND NOT s.created_by_sync
                   AND NOT EXISTS (SELECT 1 FROM _act_desired d WHERE d._key = s.key)"""

    def _record(self, op: str, batch: list[dict[str, Any]], result: BatchResult, run: SyncRun):
        now = self.now()
        name = self.sync.name
        hashes = {r[KEY]: r.get("_hash") for r in batch}
        ok = [k for k in result.confirmed if k in hashes]
        if op in REMOVING:
            if ok:
                self.con.register("_act_tbl", pa.table({"key": pa.array(ok, pa.string())}))
                self.con.execute(
                    f"DELETE FROM {STATE} WHERE sync_name = ? AND key IN (SELECT key FROM _act_tbl)",
                    [name],
                )
            run.removed += len(ok)
        elif ok:
            tbl = pa.table(
                {
                    "sync_name": pa.array([name] * len(ok), pa.string()),
                    "key": pa.array(ok, pa.string()),
                    "hash": pa.array([hashes[k] for k in ok], pa.string()),
                    "created_by_sync": pa.array(
                        [op == "add" and result.confirmed[k] is not False for k in ok],
                        pa.bool_(),
                    ),
                    "last_sent_at": pa.array([now] * len(ok), pa.timestamp("us", tz="UTC")),
                }
            )
            self.con.register("_act_tbl", tbl)
            self.con.execute(
                f"""INSERT INTO {STATE} SELECT * FROM _act_tbl
                    ON CONFLICT (sync_name, key) DO UPDATE SET
                      hash = excluded.hash, last_sent_at = excluded.last_sent_at,
                      created_by_sync = {STATE}.created_by_sync OR excluded.created_by_sync"""
            )
            if op == "add":
                run.added += len(ok)
            else:
                run.changed += len(ok)
        if ok:
            self.con.register("_act_tbl", pa.table({"key": pa.array(ok, pa.string())}))
            self.con.execute(
                f"""UPDATE {FAILURES} SET resolved_at = ?, resolution = 'sent in run ' || ?
                    WHERE sync_name = ? AND resolved_at IS NULL
                      AND key IN (SELECT key FROM _act_tbl)""",
                [now, run.run_id, name],
            )
        run.not_found += len(result.not_found)
        if result.failed:
            self._record_failures(op, result.failed, run)

    def _record_failures(self, op: str, failed: dict[str, str], run: SyncRun) -> None:
        now = self.now()
        keys = list(failed)
        tbl = pa.table(
            {
                "key": pa.array(keys, pa.string()),
                "error": pa.array([mask_error_text(failed[k]) for k in keys], pa.string()),
            }
        )
        self.con.register("_act_tbl", tbl)
        self.con.execute(
            f"""UPDATE {FAILURES} SET resolved_at = ?, resolution = 'failed again in run ' || ?
                WHERE sync_name = ? AND resolved_at IS NULL AND key IN (SELECT key FROM _act_tbl)""",
            [now, run.run_id, self.sync.name],
        )
        self.con.execute(
            f"""INSERT INTO {FAILURES}
                SELECT ?, key, ?, error, ?, ?, NULL, NULL FROM _act_tbl""",
            [self.sync.name, op, run.run_id, now],
        )
        run.failed += len(keys)

    def _deferred_until(self) -> dt.datetime | None:
        """The end of a wait a destination asked for in an earlier run, if still ahead."""
        row = self.con.execute(
            f"""SELECT max(deferred_until) FROM {RUNS}
                WHERE sync_name = ? AND NOT dry_run AND deferred_until > ?""",
            [self.sync.name, self.now()],
        ).fetchall()[0]
        return row[0] if row else None

    def _finish(self, run: SyncRun) -> None:
        run.finished_at = self.now()
        self.con.execute(
            f"""UPDATE {RUNS} SET finished_at = ?, added = ?, changed = ?, removed = ?,
                failed = ?, skipped_consent = ?, skipped_invalid = ?, not_found = ?,
                status = ?, error = ?, deferred_until = ?, erased = ? WHERE run_id = ?""",
            [
                run.finished_at,
                run.added,
                run.changed,
                run.removed,
                run.failed,
                run.skipped_consent,
                run.skipped_invalid,
                run.not_found,
                run.status,
                mask_error_text(run.error) if run.error else None,
                run.deferred_until,
                run.erased,
                run.run_id,
            ],
        )
        for t in ("_act_diff", "_act_desired", "_act_resume"):
            self.con.execute(f"DROP TABLE IF EXISTS {t}")

    def _close_stale_failures(self, run: SyncRun) -> None:
        """Open failures whose key is no longer in the diff need no retry any more."""
        self.con.execute(
            f"""UPDATE {FAILURES} f SET resolved_at = ?, resolution = 'no longer pending'
                WHERE f.sync_name = ? AND f.resolved_at IS NULL AND f.run_id <> ?
                  AND NOT EXISTS (SELECT 1 FROM _act_diff d WHERE d._key = f.key)""",
            [self.now(), self.sync.name, run.run_id],
        )
