"""File and SQL destinations against real servers started by the tests (OpenSSH sshd or a
paramiko SFTP server, a throw-away PostgreSQL cluster), plus hashed audience files."""

from __future__ import annotations

import csv
import hashlib

import pytest
from cdp_demo.fakes.services import (
    sftp_server_binary,
    sshd_binary,
    start_sftp,
)

from activation.engine import run_sync
from activation.hashing import normalise_email, normalise_phone_google, normalise_phone_meta
from tests.activation.act_helpers import (
    Sleeps,
    grant,
    insert_persons,
    killed_after_second_drop,
    make_sync,
    people,
    person,
    pg_sync,
)
from tests.ci import missing_service

HAVE_SSHD = bool(sshd_binary() and sftp_server_binary())


def sftp_sync(svc, **kw):
    return make_sync(
        "sftp",
        {
            "host": svc.host,
            "port": svc.port,
            "username": svc.username,
            "key_path_env": "TEST_SFTP_KEY",
            "known_hosts": svc.known_hosts,
            "remote_dir": svc.remote_dir,
            "channel": "email",
            "rows_per_file": 4,
            "key_column": "email",
        },
        **kw,
    )


def _check_drop(con, svc, monkeypatch):
    monkeypatch.setenv("TEST_SFTP_KEY", svc.client_key_path)
    people(con, 10)
    sync = sftp_sync(
        svc,
        mode="mirror",
        key="lower(email)",
        fields={"first_name": "first_name", "revenue_total": "revenue_total"},
    )
    r = run_sync(con, sync, sleep=Sleeps())
    assert (r.added, r.failed) == (10, 0)
    files = sorted(svc.root.iterdir())
    assert not [f for f in files if f.name.endswith(".tmp")]  # renamed atomically
    assert [len(f.read_bytes().splitlines()) - 1 for f in files] == [4, 4, 2]
    raw = files[0].read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8").splitlines()))
    assert rows[0] == ["email", "first_name", "revenue_total"]
    assert rows[1][0] == "user10@example.com"  # diff rows are sent in key order
    con.execute("DELETE FROM marts.customer_360 WHERE person_id = 'P0000002'")
    r = run_sync(con, sync, sleep=Sleeps())
    assert (r.added, r.removed) == (0, 1)
    removal = [f for f in svc.root.iterdir() if f.name.endswith("_remove.csv")]
    assert removal[0].read_text().splitlines() == ["email", "user2@example.com"]


@pytest.mark.services
def test_sftp_drop_against_openssh(con, tmp_path, monkeypatch):
    if not HAVE_SSHD:
        missing_service(
            "OpenSSH sshd/sftp-server not installed (scripts/install-services.sh installs them)"
        )
    svc = start_sftp(tmp_path / "sshd", prefer_openssh=True)
    try:
        assert svc.kind == "openssh"
        _check_drop(con, svc, monkeypatch)
    finally:
        svc.stop()


@pytest.fixture
def paramiko_sftp(tmp_path, monkeypatch):
    """A paramiko SFTP server for the test, its client key in TEST_SFTP_KEY."""
    svc = start_sftp(tmp_path / "pm", prefer_openssh=False)
    monkeypatch.setenv("TEST_SFTP_KEY", svc.client_key_path)
    try:
        yield svc
    finally:
        svc.stop()


@pytest.mark.services
def test_sftp_drop_against_paramiko_server(con, paramiko_sftp, monkeypatch):
    _check_drop(con, paramiko_sftp, monkeypatch)


@pytest.mark.services
def test_sftp_drop_killed_after_the_rename_is_not_dropped_again(
    con, paramiko_sftp, tmp_path, monkeypatch
):
    """Killed after a file was renamed into place, before the warehouse recorded it, and the
    reader took the files meanwhile: the rerun finds the receipt and drops nothing twice."""
    from activation.destinations.sftp import SftpCsv

    svc = paramiko_sftp
    people(con, 10)
    sync = sftp_sync(svc, key="lower(email)", fields={"first_name": "first_name"})
    taken = tmp_path / "taken"
    killed_after_second_drop(con, sync, SftpCsv, monkeypatch, svc.root, taken)
    r = run_sync(con, sync, sleep=Sleeps())
    assert (r.status, r.added, r.resumed_batches) == ("success", 6, 1)
    dropped = [*svc.root.glob("*.csv"), *taken.glob("*.csv")]
    lines = [ln for f in dropped for ln in f.read_text().splitlines()[1:]]
    assert len(dropped) == 3 and len(lines) == len(set(lines)) == 10
    assert [f.name for f in svc.root.iterdir() if f.name.startswith(".")] == []


@pytest.mark.services
def test_sftp_unknown_host_key_is_refused(con, paramiko_sftp, tmp_path):
    svc = paramiko_sftp
    (tmp_path / "empty_known_hosts").write_text("")
    people(con, 2)
    sync = sftp_sync(svc)
    opts = {**sync.destination.options, "known_hosts": str(tmp_path / "empty_known_hosts")}
    sync = make_sync("sftp", opts)
    with pytest.raises(Exception, match="unknown host key"):
        run_sync(con, sync, sleep=Sleeps())
    assert list(svc.root.iterdir()) == []


PG_COLUMNS = "person_id TEXT PRIMARY KEY, first_name TEXT, phone TEXT"


def _pg_table(con, postgres, monkeypatch, persons: int, table: str, columns: str, *values):
    """Point TEST_PG_DSN at `postgres`, add `persons` people with phone consent, and create
    `table` (`columns`) there holding the rows `values` (SQL tuples)."""
    import psycopg

    monkeypatch.setenv("TEST_PG_DSN", postgres.dsn)
    people(con, persons, channel="phone")
    with psycopg.connect(postgres.dsn, autocommit=True) as pg:
        pg.execute("CREATE SCHEMA IF NOT EXISTS cdp")
        pg.execute(f"CREATE TABLE {table} ({columns})")
        if values:
            pg.execute(f"INSERT INTO {table} VALUES {', '.join(values)}")


def _pg_first_names(postgres, table: str) -> dict[str, str]:
    import psycopg

    with psycopg.connect(postgres.dsn) as pg:
        return dict(pg.execute(f"SELECT person_id, first_name FROM {table}").fetchall())


@pytest.mark.services
def test_postgres_upsert_mirror_and_own_records_only(con, postgres, monkeypatch):
    _pg_table(
        con,
        postgres,
        monkeypatch,
        5,
        "cdp.vip_clients",
        PG_COLUMNS,
        "('P0000001', 'Store', NULL)",
        "('MANUAL-1', 'Advisor entry', NULL)",
    )
    r = run_sync(con, pg_sync(), sleep=Sleeps())
    assert (r.added, r.failed) == (5, 0)
    con.execute("UPDATE marts.customer_360 SET first_name = 'Changed' WHERE person_id = 'P0000003'")
    con.execute("DELETE FROM marts.customer_360 WHERE person_id IN ('P0000001', 'P0000002')")
    r = run_sync(con, pg_sync(), sleep=Sleeps())
    assert (r.added, r.changed, r.removed) == (0, 1, 1)
    rows = _pg_first_names(postgres, "cdp.vip_clients")
    # P0000001 pre-existed (not created by the sync) and MANUAL-1 was never ours: both stay
    assert rows == {
        "P0000001": "First1",
        "MANUAL-1": "Advisor entry",
        "P0000003": "Changed",
        "P0000004": "First4",
        "P0000005": "First5",
    }


@pytest.mark.services
def test_postgres_rejected_row_is_isolated(con, postgres, monkeypatch):
    _pg_table(
        con,
        postgres,
        monkeypatch,
        6,
        "cdp.checked",
        "person_id TEXT PRIMARY KEY, first_name TEXT CHECK (first_name <> 'First4'), phone TEXT",
    )
    r = run_sync(con, pg_sync("upsert", table="cdp.checked"), sleep=Sleeps())
    assert (r.added, r.failed) == (5, 1)
    failed = con.execute("SELECT key FROM activation.sync_failures").fetchall()
    assert failed == [("P0000004",)]


@pytest.mark.services
def test_postgres_insert_only_and_update_only(con, postgres, monkeypatch):
    _pg_table(con, postgres, monkeypatch, 3, "cdp.modes", PG_COLUMNS, "('P0000002', 'Keep', NULL)")
    r = run_sync(con, pg_sync("update_only", table="cdp.modes"), sleep=Sleeps())
    assert (r.added, r.not_found) == (1, 2)
    r = run_sync(
        con,
        make_sync(
            "sql_table",
            {**pg_sync(table="cdp.modes").destination.options},
            name="ins",
            mode="insert_only",
            key="person_id",
            fields={"first_name": "first_name", "phone": "phone"},
        ),
        sleep=Sleeps(),
    )
    assert r.added == 3
    rows = _pg_first_names(postgres, "cdp.modes")
    assert rows == {"P0000001": "First1", "P0000002": "First2", "P0000003": "First3"}


def sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def test_normalisation_rules():
    assert normalise_email("  Marie.Dupont@Gmail.COM ") == "marie.dupont@gmail.com"
    assert normalise_phone_google("+33 6 12 34 56 78") == "+33612345678"
    assert normalise_phone_meta("+33 6 12 34 56 78") == "33612345678"
    assert normalise_phone_meta("0033612345678") == "33612345678"
    assert normalise_phone_google(None) is None


@pytest.mark.parametrize("platform", ["google", "meta"])
def test_audience_files_are_hashed_per_platform(con, tmp_path, platform):
    rows = [person(1, email="  Marie.Dupont@Gmail.com ", phone="+33612345678"), person(2)]
    insert_persons(con, rows)
    grant(con, ["P0000001", "P0000002"], channel="ads")
    grant(con, ["P0000002"], channel="email")
    insert_persons(con, [person(3)])
    grant(con, ["P0000003"], channel="email")  # e-mail consent is not ads consent
    sync = make_sync(
        "audience_file",
        {"platform": platform, "directory": str(tmp_path / "aud"), "rows_per_file": 10},
        key="person_id",
        fields={"email": "email", "phone": "phone"},
    )
    r = run_sync(con, sync, sleep=Sleeps())
    assert (r.added, r.skipped_consent) == (2, 1)
    (f,) = list((tmp_path / "aud").iterdir())
    lines = list(csv.reader(f.read_text().splitlines()))
    if platform == "google":
        assert lines[0] == ["Email", "Phone"]
        assert lines[1] == [sha("marie.dupont@gmail.com"), sha("+33612345678")]
    else:
        assert lines[0] == ["email", "phone"]
        assert lines[1] == [sha("marie.dupont@gmail.com"), sha("33612345678")]
    text = f.read_text()
    assert "@" not in text and "user3" not in text
