"""Helpers shared by the activation tests (a uniquely named module, on sys.path via pytest)."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from activation.config import Destination, Source, Sync
from cdp.settings import PROJECT_ROOT, Settings, get_settings

NOW = dt.datetime(2026, 11, 1, 12, 0, 0)


def person(i: int, **overrides: Any) -> dict[str, Any]:
    row = {
        "person_id": f"P{i:07d}",
        "is_identified": True,
        "first_name": f"First{i}",
        "last_name": f"Last{i}",
        "email": f"user{i}@example.com",
        "phone": f"+3361234{i:04d}",
        "orders_count": 3,
        "revenue_total": 1200,
        "revenue_12m": 600,
        "favourite_channel": "store",
        "favourite_store_id": "S001",
        "last_order_at": NOW - dt.timedelta(days=30),
        "first_order_at": NOW - dt.timedelta(days=700),
    }
    row.update(overrides)
    return row


def insert_persons(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    for r in rows:
        cols = ", ".join(f'"{c}"' for c in r)
        con.execute(
            f"INSERT INTO marts.customer_360 ({cols}) VALUES ({', '.join('?' * len(r))})",
            list(r.values()),
        )


def grant(
    con: duckdb.DuckDBPyConnection,
    person_ids: list[str],
    channel: str = "email",
    granted: bool = True,
    purpose: str = "marketing",
) -> None:
    for pid in person_ids:
        con.execute(
            "INSERT INTO marts.customer_consent "
            "(person_id, channel, purpose, is_granted, status_at, source) "
            "VALUES (?, ?, ?, ?, ?, 'preference_centre')",
            [pid, channel, purpose, granted, NOW],
        )


def make_sync(
    dest_type: str,
    options: dict[str, Any],
    *,
    name: str = "test_sync",
    mode: str = "upsert",
    sql: str = "SELECT * FROM marts.customer_360",
    key: str = "email",
    fields: dict[str, str] | None = None,
) -> Sync:
    return Sync(
        name=name,
        source=Source(sql=sql),
        destination=Destination(type=dest_type, options=options),
        mode=mode,
        key=key,
        fields=fields
        if fields is not None
        else {"firstname": "first_name", "lastname": "last_name"},
    )


class Sleeps(list):
    """Injectable sleep recording the requested delays instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def people(
    con: duckdb.DuckDBPyConnection, n: int, consent: bool = True, channel: str = "email", **over
):
    """Persons 1..n in customer_360, with marketing consent on `channel` unless told otherwise."""
    rows = [person(i, **over) for i in range(1, n + 1)]
    insert_persons(con, rows)
    if consent:
        grant(con, [r["person_id"] for r in rows], channel=channel)
    return rows


def state(con: duckdb.DuckDBPyConnection, name: str = "test_sync") -> dict[str, str]:
    return dict(
        con.execute(
            "SELECT key, hash FROM activation.sync_state WHERE sync_name = ?", [name]
        ).fetchall()
    )


def hs_sync(fake: Any, options: dict[str, Any] | None = None, **kw: Any) -> Sync:
    """A sync to the fake HubSpot whose token is in TEST_HS_TOKEN (the `hubspot` fixture)."""
    return make_sync(
        "hubspot", {"token_env": "TEST_HS_TOKEN", "host": fake.url, **(options or {})}, **kw
    )


def pg_sync(mode: str = "mirror", table: str = "cdp.vip_clients", **options: Any) -> Sync:
    """A sync of first name and phone into a PostgreSQL table (DSN in TEST_PG_DSN), by 3."""
    return make_sync(
        "sql_table",
        {
            "driver": "postgres",
            "dsn_env": "TEST_PG_DSN",
            "table": table,
            "key_column": "person_id",
            "columns": ["first_name", "phone"],
            "channel": "phone",
            "batch_size": 3,
            **options,
        },
        mode=mode,
        key="person_id",
        fields={"first_name": "first_name", "phone": "phone"},
    )


# a SQL sync into a local SQLite table (DB: its path), shared by the tests on synthetic marts
VIP_TABLE_SYNC = """
  - name: vip_table
    source: {sql: "SELECT * FROM marts.customer_360 WHERE revenue_total >= 2000"}
    destination:
      type: sql_table
      options: {driver: sqlite, path: DB, table: vip, key_column: person_id,
                columns: [first_name], channel: phone}
    mode: upsert
    key: person_id
    fields: {first_name: first_name}
"""


def synthetic_env(cdp_env: Path, monkeypatch: Any, syncs_yaml: str) -> Settings:
    """A config dir with the shipped segments and `syncs_yaml` (DIR and DB replaced by paths
    under `cdp_env`), and a warehouse of 500 synthetic persons."""
    from cdp_demo.fakes.synthetic import create_synthetic_marts

    cfg = cdp_env / "config"
    cfg.mkdir()
    # identity.yaml: the dbt UDF plugin reads its blocklist when dbt compiles the marts
    for name in ("segments.yaml", "identity.yaml"):
        shutil.copy(PROJECT_ROOT / "config" / name, cfg / name)
    (cfg / "syncs.yaml").write_text(
        syncs_yaml.replace("DIR", str(cdp_env / "aud")).replace("DB", str(cdp_env / "vip.db"))
    )
    monkeypatch.setenv("CDP_CONFIG_DIR", str(cfg))
    settings = get_settings()
    with duckdb.connect(str(settings.warehouse)) as con:
        create_synthetic_marts(con, 500)
    return settings


def killed_after_second_drop(con, sync, cls, monkeypatch, reader_dir=None, taken=None) -> None:
    """Run `sync` with `cls.upsert` dying (KeyboardInterrupt stands in for a kill) right after
    its second file was renamed into place; then, if given, the reader takes every `*.csv` of
    `reader_dir` into `taken`. The rerun is the caller's."""
    import pytest

    from activation.engine import run_sync

    original, calls = cls.upsert, []

    def dies_after_second_file(self, records):
        result = original(self, records)
        calls.append(len(records))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return result

    monkeypatch.setattr(cls, "upsert", dies_after_second_file)
    with pytest.raises(KeyboardInterrupt):
        run_sync(con, sync, sleep=Sleeps())
    monkeypatch.setattr(cls, "upsert", original)
    if reader_dir is not None:
        taken.mkdir(exist_ok=True)
        for f in reader_dir.glob("*.csv"):
            f.rename(taken / f.name)


@contextlib.contextmanager
def silent_server(close_after: float | None = None) -> Iterator[tuple[int, list[socket.socket]]]:
    """A loopback TCP port that accepts connections and never sends a byte (a host that hangs
    after the TCP handshake); yields the port and the accepted sockets. With `close_after`,
    each connection is closed after that many seconds, so that a client without a timeout
    makes its test fail instead of hang."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted: list[socket.socket] = []
    opened: dict[socket.socket, float] = {}
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                conn = server.accept()[0]
                accepted.append(conn)
                opened[conn] = time.monotonic()
            if close_after is not None:
                for conn, since in list(opened.items()):
                    if time.monotonic() - since > close_after:
                        conn.close()
                        del opened[conn]

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(5)
        for conn in accepted:
            conn.close()
        server.close()


@contextlib.contextmanager
def port_that_accepts_late(target_url: str, accept_after: float) -> Iterator[str]:
    """A loopback URL whose accept queue is full, so a client's TCP connect hangs (its SYN is
    dropped, as by a host behind a dead route) until `accept_after` seconds have passed; then
    each connection is accepted and forwarded to `target_url`. A client without a connect
    timeout thus gets through late, which its test can tell from a timed-out connect."""
    target = ("127.0.0.1", int(target_url.rsplit(":", 1)[1]))
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    opened = [socket.create_connection(("127.0.0.1", port))]  # fills the one-place queue
    stop = threading.Event()

    def pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)

    def serve() -> None:
        if stop.wait(accept_after):
            return
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                client = server.accept()[0]
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(target)
            opened.extend((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(5)
        for sock in opened:
            sock.close()
        server.close()
