"""Vendor faults at the fakes: late and dropped answers, both Retry-After forms, auth errors.

Every test checks what reached the fake record by record (0 lost, 0 duplicated), the failure
rows and the run status. Client timeouts are a fraction of a second and the fakes answer a
second late, so nothing here waits long; sleeps between retries are injected.
"""

from __future__ import annotations

import datetime as dt
import os
from email.utils import format_datetime
from pathlib import Path

import pytest
from cdp_demo.fakes.fake_klaviyo import FakeKlaviyo
from cdp_demo.fakes.http import DROPPED, Fault
from cdp_demo.fakes.webhook_receiver import WebhookReceiver

from activation.config import load_syncs
from activation.destinations.base import retry_after_seconds
from activation.engine import run_sync
from cdp.config import ConfigError
from tests.activation.act_helpers import (
    Sleeps,
    grant,
    hs_sync,
    killed_after_second_drop,
    make_sync,
    people,
    pg_sync,
    port_that_accepts_late,
    silent_server,
    state,
)

FAST = {"connect_timeout": 5, "read_timeout": 1.0}
LATE = 2.5  # seconds the fake takes to answer: beyond FAST's read timeout
# Under a heavily loaded machine an ordinary answer may also miss the read timeout, so the
# tests pin what must hold whatever the timing (0 lost, 0 duplicated, the fault met) and
# count retries and read-backs as "at least".
EMAILS = [f"user{i}@example.com" for i in range(1, 151)]


def open_failures(con) -> int:
    return con.execute(
        "SELECT count(*) FROM activation.sync_failures WHERE resolved_at IS NULL"
    ).fetchall()[0][0]


def runs(con) -> list[tuple]:
    return con.execute(
        "SELECT status, added, failed FROM activation.sync_runs ORDER BY started_at"
    ).fetchall()


@pytest.fixture
def webhook(monkeypatch):
    monkeypatch.setenv("TEST_WH_SECRET", "s3cret")
    with WebhookReceiver("s3cret") as rx:
        yield rx


def wh_sync(rx, **kw):
    opts = {"url": rx.url, "secret_env": "TEST_WH_SECRET", "channel": "email", "batch_size": 50}
    return make_sync("webhook", {**opts, **FAST}, **kw)


# ------------------------------------------------------------------ Retry-After parsing
def test_retry_after_both_forms():
    now = dt.datetime(2026, 12, 6, 12, 0, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds("Sun, 06 Dec 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Sun, 06 Dec 2026 11:00:00 GMT", now) == 0.0  # in the past
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_timeouts_and_cap_are_validated_with_file_and_field(tmp_path):
    path = tmp_path / "syncs.yaml"
    path.write_text(
        "syncs:\n  - name: s\n    source: {sql: 'SELECT 1 AS person_id'}\n    key: '1'\n"
        "    destination: {type: hubspot, options: {token_env: T, read_timeout: -1}}\n"
    )
    with pytest.raises(ConfigError, match=r"syncs\.yaml: syncs\['s'\].*read_timeout"):
        load_syncs(path)


# ------------------------------------------------------------------ HubSpot
def test_hubspot_answer_late_times_out_and_is_not_sent_twice(con, hubspot):
    """The batch is applied and answered after the read timeout: the engine reads the
    contacts back, finds them as sent and does not send them again."""
    people(con, 150)
    hubspot.script(Fault(apply=True, delay=LATE))
    sleeps = Sleeps()
    r = run_sync(con, hs_sync(hubspot, FAST), sleep=sleeps)
    assert (r.status, r.added, r.failed) == ("success", 150, 0)
    assert sorted(hubspot.upserted) == sorted(EMAILS)  # 0 lost, 0 duplicated
    assert sleeps[0] == 1.0  # a backoff, then the read-back
    reads = [p for m, p, _ in hubspot.requests if p.endswith("/batch/read")]
    assert len(reads) >= 1


def test_hubspot_slow_gateway_timeout_not_applied_is_resent(con, hubspot):
    people(con, 150)
    hubspot.script(Fault(status=504, delay=LATE))
    r = run_sync(con, hs_sync(hubspot, FAST), sleep=Sleeps())
    assert (r.status, r.added) == ("success", 150)
    assert sorted(hubspot.upserted) == sorted(EMAILS)


@pytest.mark.parametrize("applied", [False, True])
def test_hubspot_dropped_connection_is_retried_without_duplicate(con, hubspot, applied):
    people(con, 150)
    hubspot.script(Fault(drop=True, apply=applied))
    r = run_sync(con, hs_sync(hubspot, FAST), sleep=Sleeps())
    assert (r.status, r.added, r.failed) == ("success", 150, 0)
    assert sorted(hubspot.upserted) == sorted(EMAILS)
    assert DROPPED in [s for _, _, s in hubspot.requests]


@pytest.mark.parametrize("status", [401, 403])
def test_hubspot_auth_error_stops_without_splitting(con, hubspot, status):
    people(con, 200)
    hubspot.inject(status)
    r = run_sync(con, hs_sync(hubspot), sleep=Sleeps())
    assert r.status == "failed" and r.error.startswith("auth error")
    assert len(hubspot.requests) == 1 and hubspot.upserted == []
    assert (r.failed, open_failures(con)) == (0, 0)
    # fixed credentials: the next run sends everything once
    r2 = run_sync(con, hs_sync(hubspot), sleep=Sleeps())
    assert (r2.status, r2.added) == ("success", 200)
    assert len(hubspot.upserted) == len(set(hubspot.upserted)) == 200


def test_hubspot_wrong_token_is_one_request(con, hubspot, monkeypatch):
    monkeypatch.setenv("TEST_HS_TOKEN", "wrong")
    people(con, 200)
    r = run_sync(con, hs_sync(hubspot), sleep=Sleeps())
    assert r.status == "failed" and "HTTP 401" in r.error
    assert len(hubspot.requests) == 1 and open_failures(con) == 0


# ------------------------------------------------------------------ webhook
def test_webhook_late_acknowledgement_is_deduplicated_by_idempotency_key(con, webhook):
    people(con, 150)
    webhook.script(Fault(apply=True, delay=LATE))
    r = run_sync(con, wh_sync(webhook), sleep=Sleeps())
    assert (r.status, r.added, r.failed) == ("success", 150, 0)
    assert sorted(webhook.applied) == sorted(EMAILS)  # applied once each
    assert webhook.replays >= 1  # the retry was answered from the stored answer
    assert len(webhook.answers) == 3


@pytest.mark.parametrize("applied", [False, True])
def test_webhook_dropped_connection(con, webhook, applied):
    people(con, 150)
    webhook.script(Fault(drop=True, apply=applied))
    r = run_sync(con, wh_sync(webhook, mode="insert_only"), sleep=Sleeps())
    assert (r.status, r.added) == ("success", 150)
    assert sorted(webhook.applied) == sorted(EMAILS)
    assert webhook.replays >= int(applied)


def test_webhook_5xx_then_success(con, webhook):
    people(con, 150)
    webhook.inject(502, times=2)
    sleeps = Sleeps()
    r = run_sync(con, wh_sync(webhook), sleep=sleeps)
    assert (r.status, r.added) == ("success", 150) and sleeps[:2] == [1.0, 2.0]
    assert sorted(webhook.applied) == sorted(EMAILS)


# ------------------------------------------------------------------ Retry-After, every vendor
@pytest.fixture
def klaviyo(monkeypatch):
    """(fake Klaviyo, a sync to it in batches of 50, the profiles it imported)."""
    monkeypatch.setenv("TEST_KL_KEY", "pk_abc")
    with FakeKlaviyo(api_key="pk_abc", polls_before_complete=0) as fake:
        opts = {"api_key_env": "TEST_KL_KEY", "test_host": fake.url, "batch_size": 50}
        sync = make_sync("klaviyo", {**opts, "poll_interval": 0, **FAST})
        yield fake, sync, lambda: fake.imported


@pytest.fixture(params=["hubspot", "klaviyo", "webhook"])
def vendor(request):
    """(fake, sync, delivered records) for each vendor that answers 429."""
    if request.param == "hubspot":
        fake = request.getfixturevalue("hubspot")
        yield fake, hs_sync(fake, {"batch_size": 50, **FAST}), lambda: fake.upserted
    elif request.param == "klaviyo":
        yield request.getfixturevalue("klaviyo")
    else:
        fake = request.getfixturevalue("webhook")
        yield fake, wh_sync(fake), lambda: fake.applied


def test_retry_after_as_http_date_is_waited_for(con, vendor):
    fake, sync, delivered = vendor
    people(con, 150)
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    fake.inject(429, Retry_After=format_datetime(when, usegmt=True))
    sleeps = Sleeps()
    r = run_sync(con, sync, sleep=sleeps)
    assert (r.status, r.added) == ("success", 150)
    assert 0 < sleeps[0] <= 30 and all(s <= 30 for s in sleeps)
    assert sorted(delivered()) == sorted(EMAILS)


def test_retry_after_over_the_cap_defers_the_rest(con, vendor):
    fake, sync, delivered = vendor
    people(con, 150)
    fake.write_requests = 0
    fake.fail_after = None
    ok = run_sync(con, sync, sleep=Sleeps())  # warm: nothing pending afterwards
    assert ok.added == 150
    con.execute("UPDATE marts.customer_360 SET first_name = first_name || 'x'")
    fake.inject(429, Retry_After="86400")
    sleeps = Sleeps()
    r = run_sync(con, sync, sleep=sleeps)
    assert r.status == "deferred" and r.changed == 0 and all(s < 300 for s in sleeps)
    assert r.deferred_until is not None and "86400" in r.error
    assert open_failures(con) == 0
    # a run inside the window sends nothing; a run after it sends the rest once
    r2 = run_sync(con, sync, sleep=Sleeps())
    assert (r2.status, r2.changed) == ("deferred", 0)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    r3 = run_sync(con, sync, sleep=Sleeps(), now=lambda: later)
    assert (r3.status, r3.changed) == ("success", 150)
    assert sorted(delivered()) == sorted(EMAILS * 2)  # each record: first send + its change


def test_a_connect_that_hangs_times_out_and_sends_nothing(con, vendor):
    """The vendor's host drops the TCP handshake: each attempt ends after connect_timeout
    (0.5 s), the run fails as `destination unavailable` after its retries and nothing is
    sent or marked sent. The host starts accepting after 20 s, so a client without a connect
    timeout would get through and deliver, failing the assertions."""
    fake, sync, delivered = vendor
    people(con, 150)
    with port_that_accepts_late(fake.url, accept_after=20) as late_url:
        options = {
            name: value.replace(fake.url, late_url) if isinstance(value, str) else value
            for name, value in sync.destination.options.items()
        }
        options["connect_timeout"] = 0.5
        late = sync.model_copy(
            update={"destination": sync.destination.model_copy(update={"options": options})}
        )
        r = run_sync(con, late, sleep=Sleeps(), max_retries=2)
    assert r.status == "failed" and r.error.startswith("destination unavailable"), r.error
    assert delivered() == [] and state(con) == {}


def test_klaviyo_auth_error_and_timeout(con, klaviyo):
    fake, sync, delivered = klaviyo
    people(con, 120)
    fake.inject(403)
    r = run_sync(con, sync, sleep=Sleeps())
    assert r.status == "failed" and r.error.startswith("auth error")
    assert len([q for q in fake.requests if q[0] == "POST"]) == 1
    fake.script(Fault(status=503, delay=LATE))  # slow and not applied
    r2 = run_sync(con, sync, sleep=Sleeps())
    assert (r2.status, r2.added) == ("success", 120)
    assert sorted(delivered()) == sorted(EMAILS[:120])
    assert len(state(con)) == 120


@pytest.mark.parametrize("applied", [False, True])
def test_klaviyo_dropped_connection_is_retried_without_duplicate(con, klaviyo, applied):
    """The connection closes without an answer, before or after the import was accepted:
    retried as transient, the profiles read back first, each imported once."""
    fake, sync, delivered = klaviyo
    people(con, 120)
    fake.script(Fault(drop=True, apply=applied))
    r = run_sync(con, sync, sleep=Sleeps())
    assert (r.status, r.added, r.failed) == ("success", 120, 0)
    assert sorted(delivered()) == sorted(EMAILS[:120])
    assert DROPPED in [s for _, _, s in fake.requests]


def test_klaviyo_import_answered_late_is_read_back_not_imported_twice(con, klaviyo):
    fake, sync, delivered = klaviyo
    people(con, 150)
    fake.script(Fault(apply=True, delay=LATE))
    r = run_sync(con, sync, sleep=Sleeps())
    assert (r.status, r.added, r.failed) == ("success", 150, 0)
    assert sorted(delivered()) == sorted(EMAILS)  # the first batch imported once
    reads = [p for m, p, _ in fake.requests if p.startswith("/api/profiles")]
    assert len(reads) >= 1


def test_klaviyo_import_errors_are_read_page_by_page(con, klaviyo):
    fake, sync, delivered = klaviyo
    people(con, 150)
    # 2 of 3 rejected: about 33 import errors per job of 50, over 2 pages of 20
    fake.reject = {f"user{i}@example.com" for i in range(1, 151) if i % 3}
    r = run_sync(con, sync, sleep=Sleeps())
    assert (r.status, r.added, r.failed) == ("partial", 50, 100)
    assert sorted(delivered()) == sorted(set(EMAILS) - fake.reject)
    pages = [p for m, p, _ in fake.requests if "/import-errors" in p]
    assert any("page%5Bcursor%5D" in p or "page[cursor]" in p for p in pages)


@pytest.mark.parametrize("reader_took_the_files", [False, True], ids=["files_kept", "files_taken"])
def test_file_drop_interrupted_after_the_rename_is_not_dropped_again(
    con, tmp_path, monkeypatch, reader_took_the_files
):
    """The process dies after a file is renamed into place but before the state commit; the
    uploader may have taken (moved away) the files meanwhile. The rerun finds the batch's receipt
    and no temporary file: delivered, so it confirms the batch without writing it again, and
    the reader sees each record once."""
    from activation.destinations.audience import AudienceFile

    sync, out = _audience_sync(con, tmp_path)
    taken = tmp_path / "taken"
    reader = out if reader_took_the_files else None
    killed_after_second_drop(con, sync, AudienceFile, monkeypatch, reader, taken)
    r = run_sync(con, sync, sleep=Sleeps())
    assert (r.status, r.added, r.resumed_batches) == ("success", 20, 1)
    assert [s for s, *_ in runs(con)] == ["interrupted", "success"]
    _assert_each_record_dropped_once(out, taken, files=3)


def test_file_drop_interrupted_before_the_rename_is_written_again(con, tmp_path, monkeypatch):
    """Killed between the temporary file (and its receipt) and the rename: nothing was
    delivered, so the rerun writes the batch to its own file name."""
    import activation.destinations.audience as audience

    sync, out = _audience_sync(con, tmp_path)
    renames = []
    replace = os.replace

    def dies_at_second_rename(src, dst):
        if Path(dst).parent == out:
            renames.append(dst)
            if len(renames) == 2:
                raise KeyboardInterrupt
        replace(src, dst)

    monkeypatch.setattr(audience.os, "replace", dies_at_second_rename)
    with pytest.raises(KeyboardInterrupt):
        run_sync(con, sync, sleep=Sleeps())
    assert len(list(out.glob(".*.tmp"))) == 1 and len(list(out.glob("*.csv"))) == 1
    monkeypatch.undo()
    r = run_sync(con, sync, sleep=Sleeps())
    assert (r.status, r.added, r.resumed_batches) == ("success", 20, 1)
    _assert_each_record_dropped_once(out, tmp_path / "none", files=3)


def _audience_sync(con, tmp_path):
    rows = people(con, 30, consent=False)
    grant(con, [r["person_id"] for r in rows], channel="ads")
    out = tmp_path / "aud"
    sync = make_sync(
        "audience_file",
        {"platform": "meta", "directory": str(out), "rows_per_file": 10},
        fields={"email": "email", "phone": "phone"},
    )
    return sync, out


def _assert_each_record_dropped_once(out, taken, files: int) -> None:
    dropped = [*out.glob("*.csv"), *taken.glob("*.csv")]
    lines = [ln for f in dropped for ln in f.read_text().splitlines()[1:]]
    assert len(dropped) == files and len(lines) == len(set(lines)) == 30
    # receipts and temporary files are gone once the warehouse recorded every batch
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []


# ------------------------------------------------------------------ SFTP
def test_sftp_server_that_never_answers_times_out_and_loses_nothing(con, monkeypatch, tmp_path):
    """A host that accepts the TCP connection and never sends its SSH banner: each attempt
    ends after connect_timeout as a transient error, the run fails as `destination
    unavailable` after its retries instead of hanging, and nothing is marked sent."""
    monkeypatch.setenv("TEST_SFTP_PASSWORD", "pw")
    known = tmp_path / "known_hosts"
    known.write_text("")
    people(con, 20)
    with silent_server() as (port, accepted):
        opts = {
            "host": "127.0.0.1",
            "port": port,
            "username": "cdp",
            "password_env": "TEST_SFTP_PASSWORD",
            "known_hosts": str(known),
            "remote_dir": "/upload",
            "channel": "email",
            "connect_timeout": 0.5,
        }
        r = run_sync(con, make_sync("sftp", opts), sleep=Sleeps(), max_retries=2)
        attempts = len(accepted)
    assert r.status == "failed" and r.error.startswith("destination unavailable")
    assert attempts == 3  # the first attempt and two retries, each timed out
    assert state(con) == {} and open_failures(con) == 20


# ------------------------------------------------------------------ PostgreSQL
def test_postgres_server_that_never_answers_the_connection_times_out(con, monkeypatch):
    """A host that accepts the TCP connection and never answers libpq's start-up: each
    attempt ends after connect_timeout (psycopg's default would wait 130 s), the run fails
    as `destination unavailable` naming the timeout, and nothing is marked sent. The silent
    host closes each connection after 20 s, so a client without the timeout fails the
    assertions instead of hanging."""
    people(con, 20, channel="phone")
    with silent_server(close_after=20) as (port, accepted):
        monkeypatch.setenv("TEST_PG_DSN", f"host=127.0.0.1 port={port} user=cdp dbname=cdp")
        r = run_sync(con, pg_sync("upsert", connect_timeout=2), sleep=Sleeps(), max_retries=1)
        attempts = len(accepted)
    assert r.status == "failed" and r.error.startswith("destination unavailable")
    assert "postgres: cannot connect: timed out after 2 s" in r.error
    assert attempts == 2  # the first attempt and one retry
    assert state(con) == {} and open_failures(con) == 3  # the batch in flight; the rest unsent


def test_postgres_port_nobody_listens_on_is_a_transient_error(con, monkeypatch):
    people(con, 5, channel="phone")
    with silent_server() as (port, _):
        pass  # the port is free again: connections are refused
    monkeypatch.setenv("TEST_PG_DSN", f"host=127.0.0.1 port={port} user=cdp dbname=cdp")
    sleeps = Sleeps()
    r = run_sync(con, pg_sync("upsert", connect_timeout=2), sleep=sleeps, max_retries=2)
    assert r.status == "failed" and "postgres: cannot connect (gave up after 2 retries)" in r.error
    assert len(sleeps) == 2  # retried as transient, never split into single records
    assert state(con) == {} and open_failures(con) == 3  # the batch in flight; the rest unsent


# ------------------------------------------------------------------ SQLite
def test_sqlite_table_locked_by_another_writer_waits_read_timeout(con, tmp_path):
    """Another process holds the database file's write lock: each attempt gives up after
    read_timeout (0.2 s) as a transient error, the run fails as `destination unavailable`
    and nothing is written. The holder lets go after 10 s, so a client waiting longer (the
    driver's default is 5 s) would get through and fail the assertions."""
    import sqlite3
    import threading

    path = tmp_path / "vip.db"
    people(con, 5)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(10, holder.rollback)
    release.start()
    options = {"driver": "sqlite", "path": str(path), "table": "vip", "key_column": "person_id"}
    options |= {"columns": ["first_name"], "channel": "email", "read_timeout": 0.2}
    sync = make_sync("sql_table", options, key="person_id", fields={"first_name": "first_name"})
    try:
        r = run_sync(con, sync, sleep=Sleeps(), max_retries=2)
    finally:
        release.cancel()
        holder.close()
    assert r.status == "failed" and "sqlite: database locked" in r.error, r.error
    assert state(con) == {} and open_failures(con) == 5
    again = run_sync(con, sync, sleep=Sleeps())
    assert (again.status, again.added) == ("success", 5)
