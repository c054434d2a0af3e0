"""A SQL table in another database: PostgreSQL (psycopg 3) or SQLite.

The table holds the key column (`key_column`, primary key) and the mapped fields as text.
upsert: INSERT ... ON CONFLICT (key) DO UPDATE ... RETURNING (xmax = 0) tells new rows;
insert_only: ON CONFLICT DO NOTHING; update_only: UPDATE ... RETURNING (missing rows are
`not_found`); mirror: upsert plus DELETE for removed keys. One transaction per batch; a data
error rolls the batch back and the engine splits it.
Options: `driver` (postgres|sqlite), `dsn_env` (env var with the libpq conninfo, postgres)
or `path` (sqlite file), `table` (schema.table), `key_column`, `columns` (list of field
names, creates the table if missing), `channel` (consent channel); `connect_timeout`
(libpq) and `read_timeout` (SQLite: the lock wait).

PostgreSQL timeouts, each a TransientError the engine retries: `connect_timeout` for the
whole connection start-up; `read_timeout` as the server's `statement_timeout` (a statement
waiting on a lock or running long is cancelled and rolled back); and, for a server that
stops answering altogether (a frozen process or host, where no server-side timer runs), a
client deadline `read_timeout` + `DEADLINE_GRACE` after which the socket is shut. A
connection lost after a statement was sent may have committed: `reconcile` reads the rows
back so that nothing is written twice and the rows keep their "created by the sync" flag.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

from activation.destinations.base import (
    KEY,
    BatchRejected,
    BatchResult,
    Destination,
    TransientError,
    secret_from_env,
)
from activation.destinations.files import cell

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
#: seconds past `read_timeout` before the client gives up on a server that does not answer
#: (after the server's own statement_timeout, which cancels cleanly, had its chance)
DEADLINE_GRACE = 5.0


class SqlTable(Destination):
    type = "sql_table"
    channel = None
    supported_modes = frozenset({"upsert", "insert_only", "update_only", "mirror"})
    default_batch_size = 1_000
    max_batch_size = 50_000
    required_options = ("driver", "table", "key_column", "columns", "channel")

    @classmethod
    def validate_options(cls, options):
        super().validate_options(options)
        if options.get("driver") not in ("postgres", "sqlite"):
            raise ValueError("sql_table: driver must be postgres or sqlite")
        if options["driver"] == "postgres" and not options.get("dsn_env"):
            raise ValueError("sql_table: postgres needs dsn_env")
        if options["driver"] == "sqlite" and not options.get("path"):
            raise ValueError("sql_table: sqlite needs path")
        names = [options["table"], options["key_column"], *options["columns"]]
        bad = [n for n in names if not IDENT.match(str(n))]
        if bad:
            raise ValueError(f"sql_table: invalid identifiers {bad}")

    def __init__(self, options, sync_name, run_id):
        super().__init__(options, sync_name, run_id)
        self.driver = options["driver"]
        self.table = str(options["table"])
        self.key_column = str(options["key_column"])
        self.columns = [str(c) for c in options["columns"] if c != self.key_column]
        self._conn = None
        self._severed = False  # the client deadline shut the socket

    def describe(self) -> str:
        return f"{self.driver} table {self.table}"

    def _ph(self) -> str:
        return "%s" if self.driver == "postgres" else "?"

    def _connect(self):
        if self._conn is not None:
            return self._conn
        if self.driver == "postgres":
            import psycopg

            try:
                self._conn = psycopg.connect(
                    secret_from_env(self.options, "dsn_env"),
                    connect_timeout=max(1, round(self.delivery.connect_timeout)),
                    # a statement the server has not finished in time is cancelled
                    options=f"-c statement_timeout={round(self.delivery.read_timeout * 1000)}",
                )
            except psycopg.errors.ConnectionTimeout:
                raise TransientError(
                    f"postgres: cannot connect: timed out after "
                    f"{max(2, round(self.delivery.connect_timeout))} s"
                ) from None
            except psycopg.OperationalError:
                raise TransientError("postgres: cannot connect") from None
        else:
            import sqlite3

            self._conn = sqlite3.connect(
                str(self.options["path"]), timeout=self.delivery.read_timeout
            )
            # deleted rows (erasures, mirror removals) are overwritten, not left in free pages
            self._conn.execute("PRAGMA secure_delete = ON")
        cols = ", ".join(f"{c} TEXT" for c in self.columns)
        cols = (", " + cols) if cols else ""
        with self._deadline(), self._tx() as cur:
            if self.driver == "postgres" and "." in self.table:
                cur.execute(f"CREATE SCHEMA IF NOT EXISTS {self.table.split('.')[0]}")
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} "
                f"({self.key_column} TEXT PRIMARY KEY{cols})"
            )
        return self._conn

    @contextlib.contextmanager
    def _deadline(self) -> Iterator[None]:
        """PostgreSQL: shut the socket if the server has not answered `read_timeout` +
        DEADLINE_GRACE seconds into the block; libpq then fails the call at once."""
        if self.driver != "postgres":
            yield
            return
        fd = self._conn.fileno()

        def sever() -> None:
            self._severed = True
            with contextlib.suppress(OSError):
                sock = socket.socket(fileno=os.dup(fd))  # shutdown acts on the shared socket
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()

        timer = threading.Timer(self.delivery.read_timeout + DEADLINE_GRACE, sever)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def _tx(self):
        destination = self

        class _Tx:
            def __enter__(self):
                self.cur = destination._conn.cursor()
                return self.cur

            def __exit__(self, et, ev, tb):
                if et is None:
                    destination._conn.commit()
                else:
                    destination._conn.rollback()
                self.cur.close()
                return False

        return _Tx()

    def _run(self, fn) -> Any:
        try:
            self._connect()  # inside: a lock or lost server while creating the table counts too
            with self._deadline(), self._tx() as cur:
                return fn(cur)
        except Exception as exc:
            raise self._translate(exc) from None

    def _translate(self, exc: Exception) -> Exception:
        if self.driver == "postgres":
            import psycopg

            if isinstance(exc, psycopg.errors.QueryCanceled):  # rolled back by the server
                return TransientError(
                    f"postgres: statement timeout ({self.delivery.read_timeout:g} s) reached"
                )
            if isinstance(exc, psycopg.OperationalError):
                severed, self._severed = self._severed, False
                self._drop_connection()
                # the statement, even its commit, may have been applied: read back first
                if severed:
                    return TransientError(
                        f"postgres: no answer within "
                        f"{self.delivery.read_timeout + DEADLINE_GRACE:g} s",
                        maybe_applied=True,
                    )
                return TransientError("postgres: connection lost", maybe_applied=True)
            if isinstance(exc, psycopg.Error):
                return BatchRejected(f"postgres: {type(exc).__name__}")
        else:
            import sqlite3

            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                return TransientError("sqlite: database locked")
            if isinstance(exc, sqlite3.Error):
                return BatchRejected(f"sqlite: {type(exc).__name__}")
        return exc

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def reconcile(self, op, records):
        """After a connection lost mid-batch: the keys whose row already holds every value
        as sent (the lost transaction committed); created is unknown (None)."""
        if op not in ("add", "change") or not records:
            return None
        ph = self._ph()
        cols = [self.key_column, *self.columns]
        sql = (
            f"SELECT {', '.join(cols)} FROM {self.table} "
            f"WHERE {self.key_column} IN ({', '.join([ph] * len(records))})"
        )
        wanted = {row[0]: tuple(row) for row in self._values(records)}

        def go(cur):
            cur.execute(sql, list(wanted))
            return cur.fetchall()

        rows = self._run(go)
        return {row[0]: None for row in rows if wanted.get(row[0]) == tuple(row)}

    def _values(self, records) -> list[list[Any]]:
        out = []
        for r in records:
            row = [r[KEY]]
            for c in self.columns:
                v = cell(r.get(c))
                row.append(None if v is None else str(v))
            out.append(row)
        return out

    def _rows_sql(self, n: int) -> str:
        ph = self._ph()
        one = "(" + ", ".join([ph] * (1 + len(self.columns))) + ")"
        return ", ".join([one] * n)

    def _flat(self, records) -> list[Any]:
        return [v for row in self._values(records) for v in row]

    def upsert(self, records):
        cols = [self.key_column, *self.columns]
        sets = ", ".join(f"{c} = excluded.{c}" for c in self.columns) or (
            f"{self.key_column} = excluded.{self.key_column}"
        )
        created = "(xmax = 0)" if self.driver == "postgres" else "NULL"
        ph = self._ph()
        existing_sql = (
            f"SELECT {self.key_column} FROM {self.table} "
            f"WHERE {self.key_column} IN ({', '.join([ph] * len(records))})"
        )
        sql = (
            f"INSERT INTO {self.table} ({', '.join(cols)}) VALUES {self._rows_sql(len(records))} "
            f"ON CONFLICT ({self.key_column}) DO UPDATE SET {sets} "
            f"RETURNING {self.key_column}, {created}"
        )

        def go(cur):
            existing = None
            if self.driver != "postgres":  # SQLite has no xmax: look first, same transaction
                cur.execute(existing_sql, [r[KEY] for r in records])
                existing = {r[0] for r in cur.fetchall()}
            cur.execute(sql, self._flat(records))
            rows = cur.fetchall()
            if existing is not None:
                rows = [(k, k not in existing) for k, _ in rows]
            return rows

        rows = self._run(go)
        return BatchResult(confirmed={k: bool(c) for k, c in rows})

    def insert(self, records):
        cols = [self.key_column, *self.columns]
        sql = (
            f"INSERT INTO {self.table} ({', '.join(cols)}) VALUES {self._rows_sql(len(records))} "
            f"ON CONFLICT ({self.key_column}) DO NOTHING RETURNING {self.key_column}"
        )

        def go(cur):
            cur.execute(sql, self._flat(records))
            return {r[0] for r in cur.fetchall()}

        inserted = self._run(go)
        # rows that already existed are left untouched (insert only) and not ours to remove
        return BatchResult(confirmed={r[KEY]: r[KEY] in inserted for r in records})

    def update(self, records):
        ph = self._ph()
        sets = ", ".join(f"{c} = {ph}" for c in self.columns)

        def go(cur):
            found = set()
            for row in self._values(records):
                if sets:
                    cur.execute(
                        f"UPDATE {self.table} SET {sets} WHERE {self.key_column} = {ph} "
                        f"RETURNING {self.key_column}",
                        [*row[1:], row[0]],
                    )
                else:
                    cur.execute(
                        f"SELECT {self.key_column} FROM {self.table} "
                        f"WHERE {self.key_column} = {ph}",
                        [row[0]],
                    )
                found.update(r[0] for r in cur.fetchall())
            return found

        found = self._run(go)
        return BatchResult(
            confirmed={r[KEY]: False for r in records if r[KEY] in found},
            not_found={r[KEY] for r in records if r[KEY] not in found},
        )

    def delete(self, keys):
        ph = self._ph()
        sql = f"DELETE FROM {self.table} WHERE {self.key_column} IN ({', '.join([ph] * len(keys))})"

        def go(cur):
            cur.execute(sql, list(keys))

        self._run(go)
        # a key already gone is as good as deleted
        return BatchResult(confirmed={k: None for k in keys})

    def finish(self) -> None:
        self._drop_connection()
