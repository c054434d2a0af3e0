"""The PostgreSQL destination against a real server that stalls: a statement waiting on a
lock, a server process that stops answering, a commit whose answer is lost.

Each test checks what the table holds (0 lost, 0 written twice), the run status and the sync
state. A stall the client does not bound is ended by the test after tens of seconds (the
lock holder's session is terminated, the frozen process resumed), so a missing timeout makes
the test fail instead of hang. The unreachable host and port are in test_activation_faults.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading

import psycopg
import pytest

from activation.destinations.sql_table import SqlTable
from activation.engine import run_sync
from tests.activation.act_helpers import Sleeps, people, pg_sync

pytestmark = pytest.mark.services

TABLE = "(person_id TEXT PRIMARY KEY, first_name TEXT, phone TEXT)"


def rows(dsn: str, table: str) -> dict[str, str]:
    with psycopg.connect(dsn) as pg:
        return dict(pg.execute(f"SELECT person_id, first_name FROM {table}").fetchall())


def test_a_statement_waiting_on_a_lock_hits_the_statement_timeout(con, postgres, monkeypatch):
    """Another session holds the table locked: each attempt is cancelled by the server after
    read_timeout (statement_timeout) and rolled back; the run fails as `destination
    unavailable` with nothing written or marked sent; once the lock is gone the next run
    sends every record once."""
    monkeypatch.setenv("TEST_PG_DSN", postgres.dsn)
    people(con, 6, channel="phone")
    sync = pg_sync("upsert", table="cdp.locked", read_timeout=0.5)
    # the server ends the holder's transaction after 30 s: without a timeout the sync would
    # then go through, and the assertions below fail
    holder = psycopg.connect(postgres.dsn, options="-c idle_in_transaction_session_timeout=30000")
    try:
        holder.execute("CREATE SCHEMA IF NOT EXISTS cdp")
        holder.execute(f"CREATE TABLE cdp.locked {TABLE}")
        holder.commit()
        holder.execute("LOCK TABLE cdp.locked IN ACCESS EXCLUSIVE MODE")
        sleeps = Sleeps()
        r = run_sync(con, sync, sleep=sleeps, max_retries=2)
        holder.rollback()
    finally:
        holder.close()
    assert r.status == "failed" and r.error.startswith("destination unavailable")
    assert "statement timeout (0.5 s) reached" in r.error
    assert len(sleeps) == 2  # two retries, each cancelled too
    assert rows(postgres.dsn, "cdp.locked") == {}
    assert con.execute("SELECT count(*) FROM activation.sync_state").fetchall() == [(0,)]
    again = run_sync(con, sync, sleep=Sleeps())
    assert (again.status, again.added, again.failed) == ("success", 6, 0)
    assert rows(postgres.dsn, "cdp.locked") == {f"P000000{i}": f"First{i}" for i in range(1, 7)}


def test_a_server_process_that_stops_answering_is_given_up_and_read_back(
    con, postgres, monkeypatch
):
    """The server process of the sync's connection is frozen (SIGSTOP) right after the table
    is created: no server-side timer can fire, so the client's deadline (read_timeout +
    DEADLINE_GRACE) shuts the socket; the batch is read back (nothing was applied) and sent
    on a new connection. The frozen process is resumed after 40 s in any case."""
    monkeypatch.setenv("TEST_PG_DSN", postgres.dsn)
    people(con, 6, channel="phone")
    original, frozen, resume = SqlTable._connect, [], []

    def connect_then_freeze(self):
        conn = original(self)
        if not frozen:
            frozen.append(conn.info.backend_pid)
            os.kill(frozen[0], signal.SIGSTOP)
            resume.append(threading.Timer(40, os.kill, (frozen[0], signal.SIGCONT)))
            resume[0].start()
        return conn

    monkeypatch.setattr(SqlTable, "_connect", connect_then_freeze)
    sleeps = Sleeps()
    try:
        r = run_sync(con, pg_sync("upsert", table="cdp.frozen", read_timeout=0.5), sleep=sleeps)
    finally:
        for timer in resume:
            timer.cancel()
        if frozen:
            with contextlib.suppress(ProcessLookupError):  # resumed and ended already
                os.kill(frozen[0], signal.SIGCONT)
    assert (r.status, r.added, r.failed) == ("success", 6, 0)
    assert len(sleeps) == 1  # one transient error (the deadline), then the retry went through
    assert rows(postgres.dsn, "cdp.frozen") == {f"P000000{i}": f"First{i}" for i in range(1, 7)}


def test_a_commit_whose_answer_is_lost_is_not_written_again_and_stays_owned(
    con, postgres, monkeypatch
):
    """The first batch commits, then the connection drops before its answer arrives. The
    engine reads the rows back, finds them as sent and does not write them again (their
    xmin is still the lost commit's transaction), and keeps them as created by the sync, so
    the mirror removes them when they leave the audience. Before, the resend found them
    existing and recorded "not created by the sync": a leaver stayed in the table."""
    monkeypatch.setenv("TEST_PG_DSN", postgres.dsn)
    people(con, 6, channel="phone")
    real_commit, lost, commits = psycopg.Connection.commit, [], []

    def commit_then_lose_the_answer(self):
        commits.append(1)
        if len(commits) != 2:  # the first commit creates the table; the second is batch 1
            return real_commit(self)
        lost.append(self.execute("SELECT pg_current_xact_id()::text").fetchone()[0])
        real_commit(self)
        self.close()
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(psycopg.Connection, "commit", commit_then_lose_the_answer)
    r = run_sync(con, pg_sync("mirror", table="cdp.lost_ack"), sleep=Sleeps())
    monkeypatch.setattr(psycopg.Connection, "commit", real_commit)
    assert (r.status, r.added, r.failed) == ("success", 6, 0)
    with psycopg.connect(postgres.dsn) as pg:
        first_batch = pg.execute(
            "SELECT person_id FROM cdp.lost_ack WHERE xmin::text = %s ORDER BY 1", lost
        ).fetchall()
    assert first_batch == [("P0000001",), ("P0000002",), ("P0000003",)]  # written once
    owned = con.execute(
        "SELECT count(*) FROM activation.sync_state WHERE created_by_sync"
    ).fetchall()
    assert owned == [(6,)]
    con.execute("DELETE FROM marts.customer_360 WHERE person_id IN ('P0000001', 'P0000004')")
    r = run_sync(con, pg_sync("mirror", table="cdp.lost_ack"), sleep=Sleeps())
    assert (r.status, r.removed) == ("success", 2)
    assert sorted(rows(postgres.dsn, "cdp.lost_ack")) == [
        "P0000002",
        "P0000003",
        "P0000005",
        "P0000006",
    ]
