"""The send journal: one row per record of a batch, committed in the warehouse *before* the
batch is sent and resolved in the same transaction as the state the answer confirms.

A row still unresolved when a run starts belongs to a batch whose outcome is unknown: the
process died (kill -9, OOM, reboot) between the send and the commit, or the destination
stayed unavailable after a send that may have been applied. The next run sends those
records again under the *same* batch id (the webhook's Idempotency-Key, so the receiver
drops the duplicate) after asking the destination what it already holds (HubSpot), so a
batch that was delivered is never delivered twice.

Runs left `running` by a dead process are marked `interrupted`. DuckDB lets one process at a
time open the warehouse for writing, so a run of another process that is still `running`
while we hold the write connection cannot be alive; runs of this process are told apart by
the registry of live run ids below.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa

JOURNAL = "activation.sync_journal"
RUNS = "activation.sync_runs"

#: run ids of this process that are still running (another thread may share the warehouse)
LIVE_RUNS: set[str] = set()
#: how long resolved journal rows are kept (for audit) before a run of the sync drops them
RETENTION = dt.timedelta(days=7)

#: SQL condition: the row's run is not a live run of this process (parameter: LIVE_RUNS)
NOT_LIVE = "NOT list_contains(CAST(? AS VARCHAR[]), run_id)"


def write(
    con: duckdb.DuckDBPyConnection,
    sync_name: str,
    run_id: str,
    batch_id: str,
    op: str,
    batch: list[dict[str, Any]],
    now: dt.datetime,
) -> None:
    """Journal a batch (autocommit: durable before the first byte is sent)."""
    n = len(batch)
    tbl = pa.table(
        {
            "sync_name": pa.array([sync_name] * n, pa.string()),
            "batch_id": pa.array([batch_id] * n, pa.string()),
            "run_id": pa.array([run_id] * n, pa.string()),
            "op": pa.array([op] * n, pa.string()),
            "key": pa.array([r["_key"] for r in batch], pa.string()),
            "hash": pa.array([r.get("_hash") for r in batch], pa.string()),
            "written_at": pa.array([now] * n, pa.timestamp("us", tz="UTC")),
        }
    )
    con.register("_act_journal", tbl)
    con.execute(f"INSERT INTO {JOURNAL} SELECT *, NULL, NULL FROM _act_journal")
    con.unregister("_act_journal")


def resolve(
    con: duckdb.DuckDBPyConnection, batch_id: str, resolution: str, now: dt.datetime
) -> None:
    con.execute(
        f"""UPDATE {JOURNAL} SET resolved_at = ?, resolution = ?
            WHERE batch_id = ? AND resolved_at IS NULL""",
        [now, resolution, batch_id],
    )


def plan_resume(con: duckdb.DuckDBPyConnection, sync_name: str, run_id: str, now: dt.datetime):
    """Temp table `_act_resume(batch_id, op, _key)`: the unresolved journal rows (of runs no
    longer alive) whose record is still in the diff (`_act_diff`) with the same operation and
    content; they are re-sent under their old batch id. Unresolved rows whose record changed
    or left are closed as superseded (a changed record goes out as a new batch). Resolved
    rows older than RETENTION are dropped. Returns the batch ids in order."""
    live = sorted(LIVE_RUNS)
    con.execute(
        f"DELETE FROM {JOURNAL} WHERE sync_name = ? AND resolved_at < ?",
        [sync_name, now - RETENTION],
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _act_resume AS
            SELECT j.batch_id, j.op, j.key AS _key, min(j.written_at) AS written_at
            FROM {JOURNAL} j JOIN _act_diff d
              ON d._key = j.key AND d.op = j.op AND d._hash IS NOT DISTINCT FROM j.hash
            WHERE j.sync_name = ? AND j.resolved_at IS NULL AND {NOT_LIVE}
            GROUP BY ALL""",
        [sync_name, live],
    )
    con.execute(
        f"""UPDATE {JOURNAL} j SET resolved_at = ?,
                resolution = 'superseded: no longer pending as sent (run ' || ? || ')'
            WHERE j.sync_name = ? AND j.resolved_at IS NULL AND {NOT_LIVE}
              AND NOT EXISTS (SELECT 1 FROM _act_resume r
                              WHERE r.batch_id = j.batch_id AND r._key = j.key)""",
        [now, run_id, sync_name, live],
    )
    rows = con.execute(
        """SELECT batch_id, op FROM _act_resume GROUP BY batch_id, op
           ORDER BY min(written_at), batch_id"""
    ).fetchall()
    return [(str(b), str(o)) for b, o in rows]


def in_flight_keys_sql() -> str:
    """SQL (parameters: the sync's name, then LIVE_RUNS): the keys of the unresolved batches
    of runs no longer alive. Their outcome is unknown, so the destination may hold each of
    them: the diff treats a key not in the state as held (activation/diff.py), and a key
    that has left the audience meanwhile gets a removal instead of staying there, unknown
    to the state."""
    return (
        f"SELECT DISTINCT key FROM {JOURNAL} "
        f"WHERE sync_name = ? AND resolved_at IS NULL AND {NOT_LIVE}"
    )


def mark_interrupted(con: duckdb.DuckDBPyConnection, now: dt.datetime) -> int:
    """Close the runs left `running` by a dead process; returns how many."""
    (n,) = con.execute(
        f"""UPDATE {RUNS} SET status = 'interrupted', finished_at = ?,
                error = 'the process ended during the run (pid ' || coalesce(pid, 0)
                        || '); unconfirmed batches are resumed by the next run'
            WHERE status = 'running' AND {NOT_LIVE}""",
        [now, sorted(LIVE_RUNS)],
    ).fetchall()[0]
    return int(n)
