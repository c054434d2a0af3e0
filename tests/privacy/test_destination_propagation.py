"""An erasure, a consent withdrawal and leaving the audience reach every destination through
the sync engine, and one that failed (a 5xx or a lock injected) is sent again by the next run
and then confirmed. Erasures go through `privacy.erase.erase` on a warehouse shaped like the
real one (contract marts plus the identity graph)."""

from __future__ import annotations

import csv
import hashlib
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from cdp_demo.fakes.fake_hubspot import FakeHubSpot
from cdp_demo.fakes.fake_klaviyo import FakeKlaviyo
from cdp_demo.fakes.http import Fault
from cdp_demo.fakes.marts import create_contract_marts
from cdp_demo.fakes.services import start_sftp
from cdp_demo.fakes.webhook_receiver import WebhookReceiver

from activation.destinations.hubspot import HubSpotContacts
from activation.engine import run_sync
from activation.erasures import ERASURES
from activation.hashing import normalise_email
from privacy.erase import erase
from privacy.subjects import Subject
from tests.activation.act_helpers import NOW, Sleeps, grant, insert_persons, make_sync, person

MARIE, JEAN = "user1@example.com", "user2@example.com"


@pytest.fixture
def con(tmp_path: Path):
    c = duckdb.connect(str(tmp_path / "wh.duckdb"))
    create_contract_marts(c)
    rows = [person(1), person(2)]
    insert_persons(c, rows)
    grant(c, ["P0000001", "P0000002"])
    grant(c, ["P0000001", "P0000002"], channel="ads")
    c.execute("CREATE SCHEMA identity; CREATE SCHEMA intermediate")
    c.execute(
        "CREATE TABLE intermediate.int_identity_records_unioned AS "
        "SELECT 'shop:' || person_id AS record_id, email, phone FROM marts.customer_360"
    )
    c.execute(
        "CREATE TABLE identity.identity_graph AS "
        "SELECT 'shop:' || person_id AS record_id, person_id FROM marts.customer_360"
    )
    yield c
    c.close()


def _erase_marie(con, tmp_path: Path) -> None:
    plan = erase(con, Subject.from_values(email=MARIE), "req-test", tmp_path / "data")
    assert plan.queued >= 1
    assert con.execute(
        "SELECT count(*) FROM activation.sync_state WHERE key = ?", [MARIE]
    ).fetchall() == [(0,)]


def _erasures(con) -> list[tuple]:
    return con.execute(f"SELECT status, key, attempts FROM {ERASURES} ORDER BY 1").fetchall()


def _confirmed_without_identifier(con) -> None:
    rows = con.execute(f"SELECT status, key, key_hash FROM {ERASURES}").fetchall()
    assert rows and all(s == "confirmed" and k is None for s, k, _ in rows)
    assert all(MARIE not in h for _, _, h in rows)


def _withdraw_marie_leave_jean(con) -> None:
    """Marie withdraws e-mail consent; Jean drops out of the sync's source (no orders)."""
    con.execute(
        "UPDATE marts.customer_consent SET is_granted = false "
        "WHERE person_id = 'P0000001' AND channel = 'email'"
    )
    con.execute("UPDATE marts.customer_360 SET orders_count = 0 WHERE person_id = 'P0000002'")


SOURCE = "SELECT * FROM marts.customer_360 WHERE orders_count > 0"


@contextmanager
def _hubspot(monkeypatch, sql: str | None = None, **options):
    """The HubSpot fake and a sync to it (token from TEST_HS_TOKEN), with extra `options`."""
    monkeypatch.setenv("TEST_HS_TOKEN", "tok")
    with FakeHubSpot(token="tok") as fake:
        opts = {"token_env": "TEST_HS_TOKEN", "host": fake.url, **options}
        yield fake, make_sync("hubspot", opts, **({"sql": sql} if sql else {}))


def test_hubspot_gdpr_delete_retried_then_confirmed(con, tmp_path, monkeypatch):
    with _hubspot(monkeypatch) as (fake, sync):
        assert run_sync(con, sync, sleep=Sleeps()).added == 2
        _erase_marie(con, tmp_path)
        fake.inject(503)
        r = run_sync(con, sync, sleep=Sleeps(), max_retries=0)
        assert r.status == "failed" and fake.gdpr_deleted == []
        assert _erasures(con) == [("failed", MARIE, 1)]
        r = run_sync(con, sync, sleep=Sleeps())
        assert (r.status, r.erased) == ("success", 1)
        assert fake.gdpr_deleted == [MARIE] and MARIE not in fake.contacts
        assert fake.contacts[JEAN]["firstname"] == "First2"
        _confirmed_without_identifier(con)
        assert run_sync(con, sync, sleep=Sleeps()).erased == 0  # nothing sent twice


def test_hubspot_withdrawal_and_leaving_clear_the_properties(con, monkeypatch):
    with _hubspot(monkeypatch, sql=SOURCE) as (fake, sync):
        run_sync(con, sync, sleep=Sleeps())
        _withdraw_marie_leave_jean(con)
        fake.inject(503)
        assert run_sync(con, sync, sleep=Sleeps(), max_retries=0).status == "failed"
        assert fake.contacts[MARIE]["firstname"] == "First1"
        r = run_sync(con, sync, sleep=Sleeps())
        assert (r.status, r.removed) == ("success", 2)
        for email in (MARIE, JEAN):
            assert fake.contacts[email]["firstname"] == "" == fake.contacts[email]["lastname"]
        assert run_sync(con, sync, sleep=Sleeps()).removed == 0


def test_hubspot_withdrawal_unsubscribes_from_the_subscription_types(con, monkeypatch):
    """With `unsubscribe_from`, a withdrawal also goes through the Communication Preferences
    API; an answer lost after HubSpot applied it is sent again and HubSpot's 'already
    unsubscribed' confirms it. Leaving the audience unsubscribes nobody."""
    with _hubspot(monkeypatch, sql=SOURCE, unsubscribe_from=["7"]) as (fake, sync):
        run_sync(con, sync, sleep=Sleeps())
        _withdraw_marie_leave_jean(con)
        con.execute("UPDATE marts.customer_360 SET orders_count = 1 WHERE person_id = 'P0000002'")
        fake.script(Fault())  # the properties cleared; then the unsubscribe applied, answer lost
        fake.script(Fault(503, apply=True))
        assert run_sync(con, sync, sleep=Sleeps(), max_retries=0).status == "failed"
        assert fake.subscriptions == {MARIE: {"7": "NOT_SUBSCRIBED"}}
        r = run_sync(con, sync, sleep=Sleeps())
        assert (r.status, r.removed, r.failed) == ("success", 1, 0)
        assert fake.contacts[MARIE]["firstname"] == "" and fake.contacts[JEAN]["firstname"]
        assert run_sync(con, sync, sleep=Sleeps()).removed == 0
        con.execute("UPDATE marts.customer_360 SET orders_count = 0 WHERE person_id = 'P0000002'")
        assert run_sync(con, sync, sleep=Sleeps()).removed == 1  # Jean left: properties only
        assert JEAN not in fake.subscriptions


def test_hubspot_unknown_subscription_type_fails_the_record_without_its_address(con, monkeypatch):
    with _hubspot(monkeypatch, sql=SOURCE, unsubscribe_from=["404"]) as (fake, sync):
        run_sync(con, sync, sleep=Sleeps())
        _withdraw_marie_leave_jean(con)
        r = run_sync(con, sync, sleep=Sleeps())
        assert r.failed == 1 and fake.subscriptions == {}
        errors = con.execute("SELECT error FROM activation.sync_failures").fetchall()
        assert errors and all("404" in e and "@" not in e for (e,) in errors)
    bad = {"token_env": "T", "unsubscribe_from": ["7"], "id_property": "hs_object_id"}
    with pytest.raises(ValueError, match="id_property email"):
        HubSpotContacts.validate_options(bad)
    with pytest.raises(ValueError, match="legal_basis"):
        HubSpotContacts.validate_options(
            {"token_env": "T", "unsubscribe_from": [7], "legal_basis": "X"}
        )


def _klaviyo(fake, **kw):
    opts = {"api_key_env": "TEST_KL_KEY", "test_host": fake.url, "poll_interval": 0}
    return make_sync(
        "klaviyo", opts, fields={"first_name": "first_name", "tier": "favourite_channel"}, **kw
    )


def test_klaviyo_deletion_job_after_a_429_and_a_failed_run(con, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_KL_KEY", "pk_t")
    with FakeKlaviyo(api_key="pk_t") as fake:
        sync = _klaviyo(fake)
        run_sync(con, sync, sleep=Sleeps())
        _erase_marie(con, tmp_path)
        fake.inject(503)
        assert run_sync(con, sync, sleep=Sleeps(), max_retries=0).status == "failed"
        assert fake.deletion_requests == [] and MARIE in fake.profiles
        fake.inject(429, Retry_After="7")
        sleeps = Sleeps()
        r = run_sync(con, sync, sleep=sleeps)
        assert (r.status, r.erased, 7.0 in sleeps) == ("success", 1, True)
        assert fake.deletion_requests == [MARIE] and MARIE not in fake.profiles
        assert JEAN in fake.profiles
        _confirmed_without_identifier(con)


def test_klaviyo_fake_holds_to_the_deletion_contract():
    """One identifier per job and the 3/s burst limit, as Klaviyo documents them."""
    import json
    import urllib.error
    import urllib.request

    with FakeKlaviyo(api_key="k") as fake:

        def post(attrs):
            body = {
                "data": {
                    "type": "data-privacy-deletion-job",
                    "attributes": {"profile": {"data": {"type": "profile", "attributes": attrs}}},
                }
            }
            req = urllib.request.Request(
                fake.url + "/api/data-privacy-deletion-jobs",
                data=json.dumps(body).encode(),
                headers={"Authorization": "Klaviyo-API-Key k", "revision": "2026-10-15"},
            )
            try:
                return urllib.request.urlopen(req).status
            except urllib.error.HTTPError as exc:
                return exc.code

        assert post({"email": "a@b.co", "phone_number": "+33612345678"}) == 400
        assert [post({"email": f"{i}@b.co"}) for i in range(4)] == [202, 202, 202, 429]


def test_klaviyo_withdrawal_suppresses_leaving_and_nulls_clear(con, monkeypatch):
    monkeypatch.setenv("TEST_KL_KEY", "pk_t")
    with FakeKlaviyo(api_key="pk_t") as fake:
        sync = _klaviyo(fake, sql=SOURCE)
        run_sync(con, sync, sleep=Sleeps())
        assert fake.profiles[MARIE]["properties"] == {"tier": "store"}
        # a value that became null is sent as null and cleared (the bulk import ignores nulls)
        con.execute("UPDATE marts.customer_360 SET favourite_channel = NULL")
        assert run_sync(con, sync, sleep=Sleeps()).changed == 2
        assert fake.profiles[MARIE]["properties"] == {} and fake.profiles[MARIE]["first_name"]
        _withdraw_marie_leave_jean(con)
        fake.inject(503)
        assert run_sync(con, sync, sleep=Sleeps(), max_retries=0).status == "failed"
        r = run_sync(con, sync, sleep=Sleeps())
        assert (r.status, r.removed) == ("success", 2)
        assert fake.suppressed == {MARIE}  # consent withdrawn: suppressed
        assert "first_name" not in fake.profiles[JEAN]  # left the audience: fields cleared


def test_webhook_signed_erase_and_withdrawal_events(con, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_WH_SECRET", "s3cret")
    with WebhookReceiver("s3cret") as rx:
        opts = {"url": rx.url, "secret_env": "TEST_WH_SECRET", "channel": "email"}
        sync = make_sync("webhook", opts, sql=SOURCE)
        run_sync(con, sync, sleep=Sleeps())
        _erase_marie(con, tmp_path)
        rx.inject(502)
        assert run_sync(con, sync, sleep=Sleeps(), max_retries=0).status == "failed"
        assert run_sync(con, sync, sleep=Sleeps()).erased == 1
        assert rx.erased == [MARIE] and rx.bad_signatures == 0 and MARIE not in rx.store
        _confirmed_without_identifier(con)
        _withdraw_marie_leave_jean(con)
        assert run_sync(con, sync, sleep=Sleeps()).removed == 1
        assert rx.withdrawn == [("leave", JEAN)]


def test_sql_table_delete_after_a_lock(con, tmp_path):
    path = tmp_path / "dest.sqlite"
    opts = {
        "driver": "sqlite",
        "path": str(path),
        "table": "contacts",
        "key_column": "email",
        "columns": ["firstname"],
        "channel": "email",
        "read_timeout": 0.2,
    }
    sync = make_sync("sql_table", opts, fields={"firstname": "first_name"})
    run_sync(con, sync, sleep=Sleeps())
    _erase_marie(con, tmp_path)
    lock = sqlite3.connect(str(path))
    lock.execute("BEGIN EXCLUSIVE")
    assert run_sync(con, sync, sleep=Sleeps(), max_retries=0).status == "failed"
    lock.rollback()
    lock.close()
    assert run_sync(con, sync, sleep=Sleeps()).erased == 1
    held = sqlite3.connect(str(path)).execute("SELECT email FROM contacts").fetchall()
    assert held == [(JEAN,)]
    _confirmed_without_identifier(con)


def test_sftp_removal_file_after_a_failed_upload(con, tmp_path, monkeypatch):
    svc = start_sftp(tmp_path / "sftp", prefer_openssh=False)
    try:
        monkeypatch.setenv("TEST_SFTP_KEY", svc.client_key_path)
        (svc.root / "in").mkdir()
        opts = {
            "host": svc.host,
            "port": svc.port,
            "username": svc.username,
            "key_path_env": "TEST_SFTP_KEY",
            "known_hosts": svc.known_hosts,
            "remote_dir": f"{svc.remote_dir.rstrip('/')}/in",
            "channel": "email",
        }
        sync = make_sync("sftp", opts, mode="mirror", fields={"first_name": "first_name"})
        run_sync(con, sync, sleep=Sleeps())
        _erase_marie(con, tmp_path)
        (svc.root / "in").rename(svc.root / "moved")
        assert run_sync(con, sync, sleep=Sleeps(), max_retries=0).status == "failed"
        (svc.root / "in").mkdir()
        con.execute("UPDATE marts.customer_360 SET first_name = 'Jeanne'")
        r = run_sync(con, sync, sleep=Sleeps())
        assert (r.erased, r.changed) == (1, 1)
        files = {p.name.rsplit("_", 1)[1]: p for p in (svc.root / "in").glob("*.csv")}
        assert set(files) == {"erase.csv", "upsert.csv"}
        assert list(csv.reader(files["erase.csv"].open())) == [["email"], [MARIE]]
        assert MARIE not in files["upsert.csv"].read_text()  # excluded from the next file
        _confirmed_without_identifier(con)
    finally:
        svc.stop()


def test_audience_removal_list_after_a_failed_write(con, tmp_path):
    folder = tmp_path / "aud"
    opts = {"platform": "meta", "directory": str(folder)}
    sync = make_sync("audience_file", opts, mode="mirror", fields={"email": "email"})
    run_sync(con, sync, sleep=Sleeps())
    _erase_marie(con, tmp_path)
    folder.rename(tmp_path / "aud_sent")
    folder.write_text("not a folder")  # the write fails: a transient error
    assert run_sync(con, sync, sleep=Sleeps(), max_retries=0).status == "failed"
    folder.unlink()
    assert run_sync(con, sync, sleep=Sleeps()).erased == 1
    (removal,) = folder.glob("*_remove.csv")
    digest = hashlib.sha256(normalise_email(MARIE).encode()).hexdigest()
    assert list(csv.reader(removal.open())) == [["email", "phone"], [digest, ""]]
    (added,) = (tmp_path / "aud_sent").glob("*_add.csv")  # moved away: left as it was
    assert digest in added.read_text()
    added.rename(folder / added.name)
    con.execute("UPDATE marts.customer_360 SET first_name = 'x'")  # any change: no new file
    # a second erasure request for the same person: the hashed key leaves the earlier add file
    from activation.erasures import queue

    queue(con, "req-again", [("test_sync", MARIE, "h")], NOW)
    assert run_sync(con, sync, sleep=Sleeps()).erased == 1
    text = (folder / added.name).read_text()
    assert digest not in text and hashlib.sha256(JEAN.encode()).hexdigest() in text
    _confirmed_without_identifier(con)
