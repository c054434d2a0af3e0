"""kill -9 of a sync mid-batch, then a rerun: delivery by delivery at the fake, 0 lost and
0 duplicated, and the dead run marked `interrupted`.

The sync runs in a subprocess against a warehouse file; the fake runs in the test process and
holds the third batch open (applied or not yet applied) until the subprocess is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from cdp_demo.fakes.fake_hubspot import FakeHubSpot
from cdp_demo.fakes.http import Fault
from cdp_demo.fakes.marts import create_contract_marts
from cdp_demo.fakes.webhook_receiver import WebhookReceiver

from activation.engine import run_sync
from tests.activation.act_helpers import Sleeps, hs_sync, make_sync, people

ROOT = Path(__file__).resolve().parents[2]
N = 50
BATCH = 10
EMAILS = sorted(f"user{i}@example.com" for i in range(1, N + 1))

CHILD = textwrap.dedent(
    """
    import sys, duckdb
    from activation.engine import run_sync
    from tests.activation.act_helpers import Sleeps, make_sync
    db, dest, url, mode = sys.argv[1:5]
    opts = {"batch_size": BATCH}
    if dest == "webhook":
        opts.update(url=url, secret_env="TEST_WH_SECRET", channel="email")
    else:
        opts.update(host=url, token_env="TEST_HS_TOKEN")
    con = duckdb.connect(db)
    run_sync(con, make_sync(dest, opts, mode=mode), sleep=Sleeps())
    """
).replace("BATCH", str(BATCH))


def _fake(dest: str):
    return WebhookReceiver("s3cret") if dest == "webhook" else FakeHubSpot(token="tok-123")


def _delivered(fake) -> list[str]:
    return fake.applied if isinstance(fake, WebhookReceiver) else fake.upserted


def _sync(dest: str, fake, mode: str):
    if dest == "hubspot":
        return hs_sync(fake, {"batch_size": BATCH}, mode=mode)
    opts = {"url": fake.url, "secret_env": "TEST_WH_SECRET", "channel": "email"}
    return make_sync("webhook", {**opts, "batch_size": BATCH}, mode=mode)


@contextmanager
def killed_mid_batch(tmp_path: Path, dest: str, mode: str, applied: bool):
    """A sync of N persons in batches of BATCH, killed with SIGKILL while the fake holds its
    third batch (applied, the answer lost; or not yet applied). Yields the warehouse path
    and the fake, still serving."""
    db = tmp_path / "wh.duckdb"
    with duckdb.connect(str(db)) as con:
        create_contract_marts(con)
        people(con, N)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with _fake(dest) as fake:
        release = threading.Event()
        fake.faults.extend([Fault(status=0), Fault(status=0)])  # two batches go through
        # the third is held open: applied (the answer is lost) or not yet applied
        held = fake.script(Fault(status=0 if applied else 503, apply=applied, hold=release))
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(db), dest, fake.url, mode],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            if not held.reached.wait(120):
                out = child.stdout.read().decode() if child.poll() is not None else ""
                pytest.fail(f"the sync never reached the third batch: {out[-2000:]}")
            os.kill(child.pid, signal.SIGKILL)
            assert child.wait(60) == -signal.SIGKILL
        finally:
            release.set()
            if child.poll() is None:
                child.kill()
        assert len(_delivered(fake)) == (3 if applied else 2) * BATCH
        with duckdb.connect(str(db)) as con:
            pending = con.execute(
                "SELECT count(*) FROM activation.sync_journal WHERE resolved_at IS NULL"
            ).fetchall()[0][0]
        assert pending == BATCH  # the in-flight batch, journalled before the send
        yield db, fake


def kill_mid_batch(tmp_path: Path, dest: str, mode: str, applied: bool) -> None:
    with killed_mid_batch(tmp_path, dest, mode, applied) as (db, fake):
        with duckdb.connect(str(db)) as con:
            (dead,) = con.execute(
                "SELECT status FROM activation.sync_runs WHERE NOT dry_run"
            ).fetchall()[0]
            assert dead == "running"  # as the killed process left it
            r = run_sync(con, _sync(dest, fake, mode), sleep=Sleeps())
            assert (r.status, r.added, r.failed, r.resumed_batches) == (
                "success",
                N - 2 * BATCH,
                0,
                1,
            )
            statuses = [
                s
                for (s,) in con.execute(
                    "SELECT status FROM activation.sync_runs ORDER BY started_at"
                ).fetchall()
            ]
            assert statuses == ["interrupted", "success"]
            again = run_sync(con, _sync(dest, fake, mode), sleep=Sleeps())
            assert (again.added, again.changed) == (0, 0)
        assert sorted(_delivered(fake)) == EMAILS  # 0 lost, 0 duplicated


@pytest.mark.parametrize(
    ("dest", "mode", "applied"),
    [
        ("webhook", "insert_only", True),
        ("hubspot", "upsert", True),
        pytest.param("webhook", "upsert", False, marks=pytest.mark.slow),
        pytest.param("hubspot", "upsert", False, marks=pytest.mark.slow),
    ],
)
def test_kill_9_mid_batch_then_rerun_delivers_each_record_once(
    tmp_path, monkeypatch, dest, mode, applied
):
    monkeypatch.setenv("TEST_WH_SECRET", "s3cret")
    monkeypatch.setenv("TEST_HS_TOKEN", "tok-123")
    kill_mid_batch(tmp_path, dest, mode, applied)


@pytest.mark.parametrize("applied", [True, False])
def test_mirror_in_flight_additions_that_leave_before_the_rerun_are_removed(
    tmp_path, monkeypatch, applied
):
    """A mirror sync killed while its third batch of additions is in flight; before the
    rerun, half of that batch leaves the audience. The records journalled as in flight may
    have been delivered, so those that left get a removal (none stays a stale member), and
    the others are sent once (0 lost, 0 duplicated)."""
    monkeypatch.setenv("TEST_WH_SECRET", "s3cret")
    in_flight = EMAILS[2 * BATCH : 3 * BATCH]  # the diff sends keys in order
    left, stay = in_flight[:5], in_flight[5:]
    with killed_mid_batch(tmp_path, "webhook", "mirror", applied) as (db, fake):
        assert set(fake.store) == set(EMAILS[: (3 if applied else 2) * BATCH])
        with duckdb.connect(str(db)) as con:
            con.execute("DELETE FROM marts.customer_360 WHERE email IN (SELECT unnest(?))", [left])
            r = run_sync(con, _sync("webhook", fake, "mirror"), sleep=Sleeps())
            assert (r.status, r.added, r.removed, r.failed, r.resumed_batches) == (
                "success",
                N - 2 * BATCH - len(left),
                len(left),
                0,
                1,
            )
            again = run_sync(con, _sync("webhook", fake, "mirror"), sleep=Sleeps())
            assert (again.added, again.changed, again.removed) == (0, 0, 0)
            (open_rows,) = con.execute(
                "SELECT count(*) FROM activation.sync_journal WHERE resolved_at IS NULL"
            ).fetchall()[0]
            assert open_rows == 0
        members = sorted(set(EMAILS) - set(left))
        assert sorted(fake.store) == members  # no stale member, none lost
        upserted = [
            rec["key"] for b in fake.batches if b["operation"] == "upsert" for rec in b["records"]
        ]
        deleted = [
            rec["key"] for b in fake.batches if b["operation"] == "delete" for rec in b["records"]
        ]
        # each member applied once; a record that left was applied at most once, then removed
        assert sorted(k for k in upserted if k not in left) == members
        assert len(upserted) == len(set(upserted))
        assert sorted(deleted) == left
        assert set(stay) <= set(fake.store)
