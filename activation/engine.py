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
4. each batch is journalled (activation/journal.py) before it is sent; state is written
   after it, in one transaction with the journal, for the keys the destination confirmed;
   failures go to `activation.sync_failures`, the run to `activation.sync_runs`.

Anything not confirmed stays out of the state, so the next run sends exactly what is missing;
a batch whose outcome is unknown (crash, late answer) is resumed without a second delivery.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import pyarrow as pa

from activation import journal
from activation.config import Sync
from activation.consent import consent_table_sql
from activation.contract import base_sql
from activation.delivery import Deferred, DestinationUnavailable, deliver
from activation.destinations import Destination, build_destination, destination_class
from activation.destinations.base import KEY, AuthError, BatchResult
from activation.segments import CURRENT
from activation.segments import ensure_schema as ensure_segment_schema
from cdp.pii import mask_error_text

log = logging.getLogger(__name__)

STATE = "activation.sync_state"
FAILURES = "activation.sync_failures"
RUNS = "activation.sync_runs"
FETCH_ROWS = 20_000


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS activation")
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {STATE} (
            sync_name VARCHAR NOT NULL,
            key VARCHAR NOT NULL,
            hash VARCHAR NOT NULL,
            created_by_sync BOOLEAN NOT NULL,
            last_sent_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (sync_name, key)
        )"""
    )
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {FAILURES} (
            sync_name VARCHAR NOT NULL,
            key VARCHAR NOT NULL,
            operation VARCHAR NOT NULL,
            error VARCHAR,
            run_id VARCHAR NOT NULL,
            failed_at TIMESTAMPTZ NOT NULL,
            resolved_at TIMESTAMPTZ,
            resolution VARCHAR
        )"""
    )
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {RUNS} (
            run_id VARCHAR PRIMARY KEY,
            sync_name VARCHAR NOT NULL,
            started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            added BIGINT, changed BIGINT, removed BIGINT, failed BIGINT,
            skipped_consent BIGINT, skipped_invalid BIGINT, not_found BIGINT,
            dry_run BOOLEAN NOT NULL,
            status VARCHAR,
            error VARCHAR
        )"""
    )
    # added with the journal; older warehouses get them here
    con.execute(f"ALTER TABLE {RUNS} ADD COLUMN IF NOT EXISTS pid INTEGER")
    con.execute(f"ALTER TABLE {RUNS} ADD COLUMN IF NOT EXISTS deferred_until TIMESTAMPTZ")
    journal.ensure_journal(con)


@dataclass
class SyncRun:
    run_id: str
    sync_name: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    added: int = 0
    changed: int = 0
    removed: int = 0
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


def _json_safe(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def source_sql(con: duckdb.DuckDBPyConnection, sync: Sync) -> str:
    if sync.source.segment is not None:
        ensure_segment_schema(con)
        name = sync.source.segment.replace("'", "''")
        return (
            f"SELECT b.* FROM ({base_sql(con)}) AS b JOIN {CURRENT} AS m "
            f"ON m.person_id = b.person_id AND m.segment_name = '{name}'"
        )
    return str(sync.source.sql)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SyncEngine:
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

    # ---------------------------------------------------------------- diff
    def compute_diff(self, run: SyncRun) -> None:
        """Create temp table `_act_diff` (op, _rn, _key, _hash, fields...) and count skips.

        The full population is reduced to a narrow (key, person, hash) table and diffed
        against the state in one join; mapped fields are computed again only for the keys
        in the diff, so a run with few changes stays cheap at millions of persons.
        """
        con, sync = self.con, self.sync
        fields = sync.fields
        src = source_sql(con, sync)
        cols = con.execute(f"DESCRIBE SELECT * FROM ({src}) AS s").fetchall()
        if "person_id" not in {c[0] for c in cols}:
            raise ValueError(f"sync {sync.name}: the source must return a person_id column")
        struct = ", ".join(f"'{n}': ({e})" for n, e in fields.items()) or "'_': NULL"
        key_expr = f"CAST(({sync.key}) AS VARCHAR)"
        # one pass over the source: key, person, consent flag, and the hash of the mapped
        # fields for consented rows with a key
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _act_src AS
            SELECT _key, _person_id, _consented,
                   CASE WHEN _consented AND _key IS NOT NULL
                        THEN md5(CAST(to_json(_fields) AS VARCHAR)) END AS _hash
            FROM (
                SELECT {key_expr} AS _key, s.person_id AS _person_id,
                       coalesce(s.person_id IN ({consent_table_sql(con, self.channel)}), false)
                         AS _consented,
                       {{{struct}}} AS _fields
                FROM ({src}) AS s
            )"""
        )
        skipped_consent, null_keys = con.execute(
            """SELECT count(*) FILTER (WHERE NOT _consented),
                      count(*) FILTER (WHERE _consented AND _key IS NULL)
               FROM _act_src"""
        ).fetchall()[0]
        # one row per key (the lowest person_id wins a shared key)
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _act_desired AS
            SELECT _key, min(_person_id) AS _person_id, arg_min(_hash, _person_id) AS _hash,
                   count(*) AS _n
            FROM _act_src WHERE _consented AND _key IS NOT NULL
            GROUP BY _key"""
        )
        (duplicates,) = con.execute("SELECT coalesce(sum(_n - 1), 0) FROM _act_desired").fetchall()[
            0
        ]
        con.execute("DROP TABLE _act_src")
        run.skipped_consent = int(skipped_consent)
        run.skipped_invalid = int(null_keys) + int(duplicates)

        mode = sync.mode
        name = sync.name.replace("'", "''")
        conds = ["s.key IS NULL"]
        if mode != "insert_only":
            conds.append("(d._key IS NOT NULL AND s.key IS NOT NULL AND d._hash <> s.hash)")
        if mode == "mirror":
            conds.append("(d._key IS NULL AND s.created_by_sync)")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _act_ops AS
            SELECT CASE WHEN s.key IS NULL THEN 'add'
                        WHEN d._key IS NULL THEN 'remove' ELSE 'change' END AS op,
                   coalesce(d._key, s.key) AS _key, d._hash, d._person_id
            FROM _act_desired d
            FULL JOIN (SELECT key, hash, created_by_sync FROM {STATE}
                       WHERE sync_name = '{name}') s ON s.key = d._key
            WHERE {" OR ".join(conds)}"""
        )
        mapped = ", ".join(f"({expr}) AS {_q(n)}" for n, expr in fields.items())
        mapped = (", " + mapped) if mapped else ""
        m_fields = ", ".join(f"m.{_q(n)}" for n in fields)
        m_fields = (", " + m_fields) if m_fields else ""
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _act_diff AS
            SELECT o.op, o._key, o._hash {m_fields},
                   row_number() OVER (PARTITION BY o.op ORDER BY o._key) AS _rn
            FROM _act_ops o
            LEFT JOIN (
                -- explicit window column: DuckDB may bind QUALIFY aliases to the outer
                -- query inside a joined subquery (an implicit lateral join)
                SELECT * EXCLUDE (_dup) FROM (
                    SELECT {key_expr} AS _key, s.person_id AS _person_id {mapped},
                           row_number() OVER (
                               PARTITION BY s.person_id, {key_expr}) AS _dup
                    FROM ({src}) AS s
                    SEMI JOIN (SELECT _person_id FROM _act_ops WHERE op <> 'remove') p
                      ON p._person_id = s.person_id
                ) WHERE _dup = 1
            ) m ON o.op <> 'remove' AND m._key = o._key AND m._person_id = o._person_id
            ORDER BY o.op, _rn"""
        )
        con.execute("DROP TABLE _act_ops")
        counts = dict(con.execute("SELECT op, count(*) FROM _act_diff GROUP BY op").fetchall())
        run.planned_added = int(counts.get("add", 0))
        run.planned_changed = int(counts.get("change", 0))
        run.planned_removed = int(counts.get("remove", 0))

    def _untracked_sql(self) -> str:
        name = self.sync.name.replace("'", "''")
        return f"""DELETE FROM {STATE} s WHERE s.sync_name = '{name}' AND NOT s.created_by_sync
                   AND NOT EXISTS (SELECT 1 FROM _act_desired d WHERE d._key = s.key)"""

    def _rows(self, op: str) -> Iterator[list[dict[str, Any]]]:
        """The diff rows of `op` in chunks, minus those resumed under an old batch id."""
        (last,) = self.con.execute(
            "SELECT coalesce(max(_rn), 0) FROM _act_diff WHERE op = ?", [op]
        ).fetchall()[0]
        for start in range(1, int(last) + 1, FETCH_ROWS):
            tbl = self.con.sql(
                "SELECT * EXCLUDE (op, _rn) FROM _act_diff WHERE op = ? AND _rn BETWEEN ? AND ? "
                "AND _key NOT IN (SELECT _key FROM _act_resume WHERE op = ?) ORDER BY _rn",
                params=[op, start, start + FETCH_ROWS - 1, op],
            ).to_arrow_table()
            if tbl.num_rows:
                yield [{k: _json_safe(v) for k, v in r.items()} for r in tbl.to_pylist()]

    def _resumed_rows(self, batch_id: str, op: str) -> list[dict[str, Any]]:
        tbl = self.con.sql(
            """SELECT * EXCLUDE (op, _rn) FROM _act_diff WHERE op = ? AND _key IN
               (SELECT _key FROM _act_resume WHERE batch_id = ? AND op = ?) ORDER BY _rn""",
            params=[op, batch_id, op],
        ).to_arrow_table()
        return [{k: _json_safe(v) for k, v in r.items()} for r in tbl.to_pylist()]

    # ---------------------------------------------------------------- sending
    def _record(self, op: str, batch: list[dict[str, Any]], result: BatchResult, run: SyncRun):
        now = self.now()
        name = self.sync.name
        hashes = {r[KEY]: r.get("_hash") for r in batch}
        ok = [k for k in result.confirmed if k in hashes]
        if op == "remove":
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

    # ---------------------------------------------------------------- run
    def _deferred_until(self) -> dt.datetime | None:
        """The end of a wait a destination asked for in an earlier run, if still ahead."""
        row = self.con.execute(
            f"""SELECT max(deferred_until) FROM {RUNS}
                WHERE sync_name = ? AND NOT dry_run AND deferred_until > ?""",
            [self.sync.name, self.now()],
        ).fetchall()[0]
        return row[0] if row else None

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
            "sync %s run %s: %s, sent +%d ~%d -%d, failed %d",
            run.sync_name,
            run.run_id,
            run.status,
            run.added,
            run.changed,
            run.removed,
            run.failed,
        )
        return run

    def _finish(self, run: SyncRun) -> None:
        run.finished_at = self.now()
        self.con.execute(
            f"""UPDATE {RUNS} SET finished_at = ?, added = ?, changed = ?, removed = ?,
                failed = ?, skipped_consent = ?, skipped_invalid = ?, not_found = ?,
                status = ?, error = ?, deferred_until = ? WHERE run_id = ?""",
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
                run.run_id,
            ],
        )
        for t in ("_act_diff", "_act_desired", "_act_resume"):
            self.con.execute(f"DROP TABLE IF EXISTS {t}")

    def _send_all(self, dest: Destination, run: SyncRun) -> None:
        """Resume the batches an earlier run left unresolved, then send the rest of the diff."""
        for batch_id, op in journal.plan_resume(self.con, self.sync.name, run.run_id, self.now()):
            batch = self._resumed_rows(batch_id, op)
            self._send_batch(dest, op, batch, batch_id, run, resumed=True)
            run.resumed_batches += 1
        size = dest.batch_size
        n = 0
        for op in ("remove", "add", "change"):
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

    def _close_stale_failures(self, run: SyncRun) -> None:
        """Open failures whose key is no longer in the diff need no retry any more."""
        self.con.execute(
            f"""UPDATE {FAILURES} f SET resolved_at = ?, resolution = 'no longer pending'
                WHERE f.sync_name = ? AND f.resolved_at IS NULL AND f.run_id <> ?
                  AND NOT EXISTS (SELECT 1 FROM _act_diff d WHERE d._key = f.key)""",
            [self.now(), self.sync.name, run.run_id],
        )

    def _print_diff(self, run: SyncRun, echo: Callable[[str], None], limit: int = 20) -> None:
        echo(
            f"dry run of sync {self.sync.name} ({self.sync.mode} -> "
            f"{self.sync.destination.type}): would add {run.planned_added}, change "
            f"{run.planned_changed}, remove {run.planned_removed}; skipped for consent "
            f"{run.skipped_consent}, invalid/duplicate keys {run.skipped_invalid}"
        )
        for op in ("add", "change", "remove"):
            rows = (
                self.con.sql(
                    "SELECT * EXCLUDE (op, _rn, _hash) FROM _act_diff WHERE op = ? AND _rn <= ? "
                    "ORDER BY _rn",
                    params=[op, limit],
                )
                .to_arrow_table()
                .to_pylist()
            )
            for r in rows:
                key = r.pop(KEY)
                echo(f"  {op:<6} {key}  {_json_safe(r) if op != 'remove' else ''}".rstrip())
        total = run.planned_added + run.planned_changed + run.planned_removed
        if total > 3 * limit:
            echo(f"  ... ({total} records in total)")


def run_sync(
    con: duckdb.DuckDBPyConnection, sync: Sync, *, dry_run: bool = False, **kwargs: Any
) -> SyncRun:
    echo = kwargs.pop("echo", None)
    return SyncEngine(con, sync, **kwargs).run(dry_run=dry_run, echo=echo)


def last_runs(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    from cdp.warehouse import table_exists

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


def validate_sync_sql(
    syncs: list[Sync], path: Any, con: duckdb.DuckDBPyConnection | None = None
) -> None:
    """Compile each sync's source, key and fields in DuckDB; raise ConfigError naming the
    sync and file. Uses the real marts when they exist, else empty contract-shaped tables."""
    from activation.config import ConfigError
    from activation.contract import create_contract_tables
    from activation.segments import ensure_schema as ensure_seg
    from cdp.warehouse import table_exists

    own = None
    if con is None or not table_exists(con, "marts.customer_360"):
        own = duckdb.connect(":memory:")
        create_contract_tables(own)
        con = own
    try:
        if own is not None:
            ensure_seg(own)
        for sync in syncs:
            exprs = [f"CAST(({sync.key}) AS VARCHAR) AS _key", "s.person_id"]
            exprs += [f"({e}) AS {_q(n)}" for n, e in sync.fields.items()]
            try:
                if sync.source.segment is not None and own is None:
                    # the real warehouse: do not create anything, compile against the base
                    src = f"SELECT * FROM ({base_sql(con)}) AS b"
                else:
                    src = source_sql(con, sync)
                con.execute(f"SELECT {', '.join(exprs)} FROM ({src}) AS s LIMIT 0").fetchall()
            except duckdb.Error as exc:
                first = str(exc).splitlines()[0]
                raise ConfigError(
                    f"{path}: sync {sync.name!r}: source/key/fields do not compile: {first}"
                ) from None
    finally:
        if own is not None:
            own.close()
