"""The sync engine driven against local fakes through the official SDKs."""

from __future__ import annotations

import sqlite3

import pytest
from cdp_demo.fakes.fake_hubspot import FakeHubSpot
from cdp_demo.fakes.fake_klaviyo import FakeKlaviyo
from cdp_demo.fakes.webhook_receiver import WebhookReceiver

from activation.engine import run_sync
from tests.activation.act_helpers import Sleeps, grant, hs_sync, make_sync, people, state


def test_second_run_sends_nothing_and_a_change_sends_one(con, hubspot):
    people(con, 250)
    sync = hs_sync(hubspot)
    r1 = run_sync(con, sync, sleep=Sleeps())
    assert (r1.added, r1.changed, r1.failed, r1.status) == (250, 0, 0, "success")
    batches = [r for r in hubspot.requests if r[0] == "POST"]
    assert len(batches) == 3  # 100 + 100 + 50: the documented limit
    r2 = run_sync(con, sync, sleep=Sleeps())
    assert (r2.added, r2.changed) == (0, 0)
    assert len([r for r in hubspot.requests if r[0] == "POST"]) == 3
    con.execute("UPDATE marts.customer_360 SET first_name = 'Zoe' WHERE person_id = 'P0000007'")
    r3 = run_sync(con, sync, sleep=Sleeps())
    assert (r3.added, r3.changed) == (0, 1)
    assert hubspot.upserted.count("user7@example.com") == 2
    assert hubspot.contacts["user7@example.com"]["firstname"] == "Zoe"
    runs = con.execute(
        "SELECT added, changed FROM activation.sync_runs ORDER BY started_at"
    ).fetchall()
    assert runs == [(250, 0), (0, 0), (0, 1)]


def test_destination_failing_mid_run_loses_nothing_and_duplicates_nothing(con, hubspot):
    people(con, 250)
    sync = hs_sync(hubspot)
    hubspot.fail_after = 1  # first batch accepted, then 503 forever
    sleeps = Sleeps()
    r1 = run_sync(con, sync, sleep=sleeps, max_retries=3)
    assert r1.status == "failed" and r1.added == 100
    assert sleeps == [1.0, 2.0, 4.0]  # exponential backoff, injected
    assert len(state(con)) == 100
    hubspot.fail_after = None
    r2 = run_sync(con, sync, sleep=Sleeps())
    assert (r2.added, r2.status) == (150, "success")
    assert len(hubspot.upserted) == 250
    assert len(set(hubspot.upserted)) == 250  # nothing sent twice
    open_failures = con.execute(
        "SELECT count(*) FROM activation.sync_failures WHERE resolved_at IS NULL"
    ).fetchone()[0]
    assert open_failures == 0


def test_rate_limit_honours_retry_after(con, hubspot):
    people(con, 5)
    hubspot.inject(429, Retry_After="7")
    sleeps = Sleeps()
    r = run_sync(con, hs_sync(hubspot), sleep=sleeps)
    assert r.added == 5 and sleeps == [7.0]


def test_rate_limit_without_retry_after_uses_hubspot_window(con, hubspot):
    people(con, 5)
    hubspot.faults.append(
        __import__("cdp_demo.fakes.http", fromlist=["Fault"]).Fault(
            429, {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
        )
    )
    sleeps = Sleeps()
    run_sync(con, hs_sync(hubspot), sleep=sleeps)
    assert sleeps == [10.0]


def test_batch_split_isolates_bad_record_and_retries_next_run(con, hubspot):
    rows = people(con, 40)
    con.execute("UPDATE marts.customer_360 SET email = 'not-an-email' WHERE person_id = 'P0000013'")
    del rows
    r1 = run_sync(con, hs_sync(hubspot), sleep=Sleeps())
    assert (r1.added, r1.failed, r1.status) == (39, 1, "partial")
    fail = con.execute(
        "SELECT key, operation FROM activation.sync_failures WHERE resolved_at IS NULL"
    ).fetchall()
    assert fail == [("not-an-email", "add")]
    # the record is fixed at the source: the next run sends it and resolves the failure
    con.execute(
        "UPDATE marts.customer_360 SET email = 'fixed13@example.com' WHERE person_id = 'P0000013'"
    )
    r2 = run_sync(con, hs_sync(hubspot), sleep=Sleeps())
    assert (r2.added, r2.failed) == (1, 0)
    assert (
        con.execute(
            "SELECT resolution FROM activation.sync_failures WHERE key = 'not-an-email'"
        ).fetchone()[0]
        == "no longer pending"
    )


def test_207_per_record_errors_are_failures_retried_next_run(con, hubspot):
    people(con, 10)
    hubspot.reject_in_207.add("user3@example.com")
    r1 = run_sync(con, hs_sync(hubspot), sleep=Sleeps())
    assert (r1.added, r1.failed) == (9, 1)
    hubspot.reject_in_207.clear()
    r2 = run_sync(con, hs_sync(hubspot), sleep=Sleeps())
    assert (r2.added, r2.failed) == (1, 0)
    assert con.execute(
        "SELECT resolved_at IS NOT NULL FROM activation.sync_failures WHERE key = 'user3@example.com'"
    ).fetchone()[0]


def test_update_only_on_hubspot_reports_not_found(con, hubspot):
    people(con, 3)
    hubspot.contacts["user1@example.com"] = {"email": "user1@example.com"}
    hubspot.ids["user1@example.com"] = "1"
    r = run_sync(con, hs_sync(hubspot, mode="update_only"), sleep=Sleeps())
    assert (r.added, r.not_found) == (1, 2)
    assert set(hubspot.contacts) == {"user1@example.com"}


def test_dry_run_prints_diff_without_sending_or_touching_state(con, hubspot):
    people(con, 3)
    out: list[str] = []
    r = run_sync(con, hs_sync(hubspot), dry_run=True, echo=out.append)
    assert r.dry_run and r.planned_added == 3 and r.added == 0
    assert "would add 3" in out[0] and any("user2@example.com" in line for line in out)
    assert hubspot.requests == [] and state(con) == {}
    assert con.execute("SELECT dry_run FROM activation.sync_runs").fetchone()[0] is True


def test_consent_is_enforced_and_counted(con, hubspot):
    people(con, 6, consent=False)
    grant(con, ["P0000001", "P0000002"])  # email marketing
    grant(con, ["P0000003"], granted=False)  # withdrawn
    grant(con, ["P0000004"], channel="sms")  # other channel
    grant(con, ["P0000005"], purpose="profiling")  # other purpose
    r = run_sync(con, hs_sync(hubspot), sleep=Sleeps())
    assert (r.added, r.skipped_consent) == (2, 4)
    assert set(hubspot.contacts) == {"user1@example.com", "user2@example.com"}
    assert con.execute("SELECT skipped_consent FROM activation.sync_runs").fetchone()[0] == 4


def test_withdrawn_consent_removes_from_mirror(con, tmp_path):
    people(con, 3)
    path = tmp_path / "clienteling.sqlite"
    sync = make_sync(
        "sql_table",
        {
            "driver": "sqlite",
            "path": str(path),
            "table": "vip",
            "key_column": "person_id",
            "columns": ["first_name"],
            "channel": "email",
        },
        mode="mirror",
        key="person_id",
        fields={"first_name": "first_name"},
    )
    run_sync(con, sync, sleep=Sleeps())
    con.execute("UPDATE marts.customer_consent SET is_granted = false WHERE person_id = 'P0000002'")
    r = run_sync(con, sync, sleep=Sleeps())
    assert (r.removed, r.skipped_consent) == (1, 1)
    keys = {k for (k,) in sqlite3.connect(path).execute("SELECT person_id FROM vip")}
    assert keys == {"P0000001", "P0000003"}


def sqlite_sync(path, mode):
    return make_sync(
        "sql_table",
        {
            "driver": "sqlite",
            "path": str(path),
            "table": "clients",
            "key_column": "person_id",
            "columns": ["first_name"],
            "channel": "email",
        },
        mode=mode,
        key="person_id",
        fields={"first_name": "first_name"},
    )


def table(path):
    return dict(sqlite3.connect(path).execute("SELECT person_id, first_name FROM clients"))


def seed_foreign_row(path):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE clients (person_id TEXT PRIMARY KEY, first_name TEXT)")
    db.execute("INSERT INTO clients VALUES ('P0000001', 'Typed-in-store'), ('X-OTHER', 'Keep')")
    db.commit()
    db.close()


def test_mode_insert_only_never_overwrites_and_ignores_changes(con, tmp_path):
    path = tmp_path / "t.sqlite"
    seed_foreign_row(path)
    people(con, 2)
    r = run_sync(con, sqlite_sync(path, "insert_only"), sleep=Sleeps())
    assert r.added == 2
    assert table(path) == {"P0000001": "Typed-in-store", "X-OTHER": "Keep", "P0000002": "First2"}
    con.execute("UPDATE marts.customer_360 SET first_name = 'New'")
    r = run_sync(con, sqlite_sync(path, "insert_only"), sleep=Sleeps())
    assert (r.added, r.changed) == (0, 0)
    assert table(path)["P0000002"] == "First2"


def test_mode_update_only_touches_existing_rows_only(con, tmp_path):
    path = tmp_path / "t.sqlite"
    seed_foreign_row(path)
    people(con, 2)
    r = run_sync(con, sqlite_sync(path, "update_only"), sleep=Sleeps())
    assert (r.added, r.not_found) == (1, 1)
    assert table(path) == {"P0000001": "First1", "X-OTHER": "Keep"}


def test_mode_upsert_then_mirror_removes_only_own_records(con, tmp_path):
    path = tmp_path / "t.sqlite"
    seed_foreign_row(path)
    people(con, 3)
    sync = sqlite_sync(path, "mirror")
    run_sync(con, sync, sleep=Sleeps())
    assert table(path) == {
        "P0000001": "First1",
        "P0000002": "First2",
        "P0000003": "First3",
        "X-OTHER": "Keep",
    }
    # everybody leaves the source
    con.execute("DELETE FROM marts.customer_360")
    r = run_sync(con, sync, sleep=Sleeps())
    # P0000001 existed before the sync (typed in store) and X-OTHER was never ours: both stay
    assert table(path) == {"P0000001": "First1", "X-OTHER": "Keep"}
    assert r.removed == 2


def test_mode_upsert_updates_and_never_removes(con, tmp_path):
    path = tmp_path / "t.sqlite"
    people(con, 2)
    sync = sqlite_sync(path, "upsert")
    run_sync(con, sync, sleep=Sleeps())
    con.execute("DELETE FROM marts.customer_360 WHERE person_id = 'P0000002'")
    con.execute("UPDATE marts.customer_360 SET first_name = 'Up'")
    r = run_sync(con, sync, sleep=Sleeps())
    assert (r.changed, r.removed) == (1, 0)
    assert table(path) == {"P0000001": "Up", "P0000002": "First2"}


def test_webhook_batches_are_signed_and_verified(con, monkeypatch):
    monkeypatch.setenv("TEST_WH_SECRET", "s3cret")
    people(con, 7)
    with WebhookReceiver("s3cret") as rx:
        sync = make_sync(
            "webhook",
            {
                "url": rx.url + "/hook",
                "secret_env": "TEST_WH_SECRET",
                "channel": "email",
                "batch_size": 3,
            },
            mode="mirror",
        )
        r = run_sync(con, sync, sleep=Sleeps())
        assert r.added == 7 and rx.bad_signatures == 0
        assert [len(b["records"]) for b in rx.batches] == [3, 3, 1]
        con.execute("DELETE FROM marts.customer_360 WHERE person_id = 'P0000004'")
        r = run_sync(con, sync, sleep=Sleeps())
        assert r.removed == 1 and rx.batches[-1]["operation"] == "delete"
        assert "user4@example.com" not in rx.store


def test_webhook_with_wrong_secret_is_refused_by_receiver(con, monkeypatch):
    monkeypatch.setenv("TEST_WH_SECRET", "wrong")
    people(con, 2)
    with WebhookReceiver("s3cret") as rx:
        sync = make_sync(
            "webhook", {"url": rx.url, "secret_env": "TEST_WH_SECRET", "channel": "email"}
        )
        r = run_sync(con, sync, sleep=Sleeps())
        # a 401 stops the sync: one request, no split, no per-record failure rows
        assert (r.added, r.failed, r.status) == (0, 0, "failed")
        assert r.error.startswith("auth error") and rx.bad_signatures == 1
        assert state(con) == {}


def test_webhook_split_isolates_bad_record(con, monkeypatch):
    monkeypatch.setenv("TEST_WH_SECRET", "s3cret")
    people(con, 16)
    with WebhookReceiver("s3cret", reject_keys={"user11@example.com"}) as rx:
        sync = make_sync(
            "webhook",
            {"url": rx.url, "secret_env": "TEST_WH_SECRET", "channel": "email", "batch_size": 16},
        )
        r = run_sync(con, sync, sleep=Sleeps())
        assert (r.added, r.failed) == (15, 1)
        assert set(rx.store) == {f"user{i}@example.com" for i in range(1, 17)} - {
            "user11@example.com"
        }


def test_klaviyo_through_sdk_with_import_errors_and_429(con, monkeypatch):
    monkeypatch.setenv("TEST_KL_KEY", "pk_abc")
    people(con, 12)
    con.execute("UPDATE marts.customer_360 SET email = 'broken' WHERE person_id = 'P0000005'")
    with FakeKlaviyo(api_key="pk_abc", polls_before_complete=2) as fake:
        fake.inject(429, Retry_After="4")
        sync = make_sync(
            "klaviyo",
            {
                "api_key_env": "TEST_KL_KEY",
                "test_host": fake.url,
                "batch_size": 5,
                "poll_interval": 0,
            },
            fields={"first_name": "first_name", "ltv": "revenue_total"},
        )
        sleeps = Sleeps()
        r = run_sync(con, sync, sleep=sleeps)
        assert (r.added, r.failed) == (11, 1)
        assert 4.0 in sleeps
        assert fake.profiles["user1@example.com"]["properties"] == {"ltv": 1200.0}
        r2 = run_sync(con, sync, sleep=Sleeps())
        assert (r2.added, r2.changed, r2.failed) == (0, 0, 1)  # the bad one is retried
        assert len(fake.imported) == 11


def test_klaviyo_fake_enforces_documented_limit(monkeypatch):
    import json
    import urllib.error
    import urllib.request

    with FakeKlaviyo(api_key="k") as fake:
        body = {
            "data": {
                "type": "profile-bulk-import-job",
                "attributes": {
                    "profiles": {
                        "data": [
                            {"type": "profile", "attributes": {"email": f"a{i}@x.io"}}
                            for i in range(10_001)
                        ]
                    }
                },
            }
        }
        req = urllib.request.Request(
            fake.url + "/api/profile-bulk-import-jobs",
            data=json.dumps(body).encode(),
            headers={
                "Authorization": "Klaviyo-API-Key k",
                "revision": "2026-10-15",
                "Content-Type": "application/json",
            },
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(req)
        assert exc.value.code == 400


def test_hubspot_fake_rejects_more_than_100_inputs():
    import json
    import urllib.error
    import urllib.request

    with FakeHubSpot(token="t") as fake:
        body = {
            "inputs": [
                {"id": f"a{i}@x.io", "idProperty": "email", "properties": {}} for i in range(101)
            ]
        }
        req = urllib.request.Request(
            fake.url + "/crm/v3/objects/contacts/batch/upsert",
            data=json.dumps(body).encode(),
            headers={"Authorization": "Bearer t", "Content-Type": "application/json"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(req)
        assert exc.value.code == 400


def test_destination_batch_size_above_documented_limit_is_a_config_error():
    from activation.destinations import destination_class

    with pytest.raises(ValueError):
        destination_class("hubspot").validate_options({"token_env": "X", "batch_size": 101})


def test_no_pii_in_logs_even_at_debug(con, hubspot, monkeypatch, caplog):
    import logging

    monkeypatch.setenv("TEST_KL_KEY", "pk_abc")
    monkeypatch.setenv("TEST_WH_SECRET", "s3cret")
    people(con, 5)
    con.execute("UPDATE marts.customer_360 SET email = 'broken-mail' WHERE person_id = 'P0000002'")
    hubspot.inject(429, Retry_After="1")
    hubspot.inject(503)
    caplog.set_level(logging.DEBUG)
    with FakeKlaviyo(api_key="pk_abc") as kl, WebhookReceiver("s3cret") as rx:
        syncs = [
            hs_sync(hubspot),
            make_sync(
                "klaviyo",
                {"api_key_env": "TEST_KL_KEY", "test_host": kl.url, "poll_interval": 0},
                name="kl",
            ),
            make_sync(
                "webhook",
                {"url": rx.url, "secret_env": "TEST_WH_SECRET", "channel": "email"},
                name="wh",
            ),
        ]
        for sync in syncs:
            run_sync(con, sync, sleep=Sleeps())
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records  # the engine does log (counts)
    for needle in ("@example.com", "broken-mail", "First1", "tok-123", "pk_abc", "s3cret"):
        assert needle not in text
