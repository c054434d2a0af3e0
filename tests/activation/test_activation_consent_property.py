"""Property: whatever the persons, consent rows, destinations and modes, no record of a person
without valid consent (channel of the destination, purpose marketing, granted) is ever sent."""

from __future__ import annotations

import duckdb
from cdp_demo.fakes.marts import create_contract_marts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activation.destinations import destination_class
from activation.destinations.base import KEY, BatchResult, Destination
from activation.engine import run_sync
from tests.activation.act_helpers import Sleeps, make_sync

CHANNELS = ["email", "sms", "phone", "ads"]
DEST_OPTIONS = {
    "hubspot": {"token_env": "UNUSED"},
    "klaviyo": {"api_key_env": "UNUSED"},
    "webhook": {"url": "https://unused.invalid", "secret_env": "UNUSED", "channel": "sms"},
    "sftp": {
        "host": "h",
        "username": "u",
        "remote_dir": "/",
        "password_env": "U",
        "channel": "email",
    },
    "sql_table": {
        "driver": "sqlite",
        "path": "x",
        "table": "t",
        "key_column": "k",
        "columns": [],
        "channel": "phone",
    },
    "audience_file": {"platform": "google", "directory": "x"},
}


class Recorder(Destination):
    """Accepts everything and remembers what reached it (stands in for the wire)."""

    type = "recorder"
    supported_modes = frozenset({"upsert", "insert_only", "update_only", "mirror"})

    def __init__(self) -> None:
        self.batch_size = 7
        self.sent: list[str] = []

    def describe(self) -> str:
        return "recorder"

    def _ok(self, records):
        self.sent.extend(r[KEY] for r in records)
        return BatchResult(confirmed={r[KEY]: True for r in records})

    upsert = insert = update = _ok

    def delete(self, keys):
        return BatchResult(confirmed={k: True for k in keys})


consent_row = st.tuples(
    st.sampled_from(CHANNELS),
    st.sampled_from(["marketing", "profiling"]),
    st.one_of(st.booleans(), st.none()),
)
person_st = st.tuples(st.booleans(), st.lists(consent_row, max_size=4))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    persons=st.lists(person_st, min_size=1, max_size=25),
    dest_type=st.sampled_from(sorted(DEST_OPTIONS)),
    mode=st.sampled_from(["upsert", "insert_only", "update_only", "mirror"]),
    changes=st.lists(
        st.tuples(st.integers(0, 24), st.sampled_from(CHANNELS), st.booleans()), max_size=5
    ),
)
def test_no_record_without_consent_reaches_a_destination(persons, dest_type, mode, changes):
    con = duckdb.connect(":memory:")
    create_contract_marts(con)
    options = DEST_OPTIONS[dest_type]
    channel = destination_class(dest_type).consent_channel(options)
    for i, (has_email, rows) in enumerate(persons):
        pid = f"P{i:03d}"
        email = f"p{i}@example.com" if has_email else None
        con.execute(
            "INSERT INTO marts.customer_360 (person_id, email, first_name) VALUES (?, ?, ?)",
            [pid, email, f"n{i}"],
        )
        seen = set()
        for ch, purpose, granted in rows:
            if (ch, purpose) in seen:  # PK (person_id, channel, purpose)
                continue
            seen.add((ch, purpose))
            con.execute(
                "INSERT INTO marts.customer_consent "
                "(person_id, channel, purpose, is_granted, status_at, source) "
                "VALUES (?, ?, ?, ?, now(), 'test')",
                [pid, ch, purpose, granted],
            )
    sync = make_sync(
        dest_type,
        options,
        mode=mode,
        key="person_id",
        fields={"email": "email", "first_name": "first_name"},
    )
    rec = Recorder()

    def consented() -> set[str]:
        return {
            p
            for (p,) in con.execute(
                "SELECT person_id FROM marts.customer_consent WHERE channel = ? "
                "AND purpose = 'marketing' AND is_granted",
                [channel],
            ).fetchall()
        }

    for round_ in range(2):
        before = len(rec.sent)
        allowed = consented()
        run = run_sync(con, sync, destination=rec, sleep=Sleeps())
        sent_now = rec.sent[before:]
        assert set(sent_now) <= allowed
        total = len(persons)
        assert run.skipped_consent == total - len(allowed & {f"P{i:03d}" for i in range(total)})
        if round_ == 0:
            # consent changes between runs (withdrawals and new grants)
            for idx, ch, granted in changes:
                pid = f"P{idx % total:03d}"
                con.execute(
                    "DELETE FROM marts.customer_consent WHERE person_id = ? AND channel = ? "
                    "AND purpose = 'marketing'",
                    [pid, ch],
                )
                con.execute(
                    "INSERT INTO marts.customer_consent "
                    "(person_id, channel, purpose, is_granted, status_at, source) "
                    "VALUES (?, ?, 'marketing', ?, now(), 't')",
                    [pid, ch, granted],
                )
            con.execute("UPDATE marts.customer_360 SET first_name = first_name || 'x'")
    con.close()


def test_consent_channel_cannot_be_disabled_by_sync_options():
    for dest_type in DEST_OPTIONS:
        cls = destination_class(dest_type)
        if cls.channel is None:
            bad = {**DEST_OPTIONS[dest_type], "channel": None}
            try:
                cls.validate_options(bad)
            except ValueError as exc:
                assert "channel" in str(exc)
            else:
                raise AssertionError(f"{dest_type} accepted a sync without consent channel")


def test_missing_consent_mart_means_nobody_is_sent():
    con = duckdb.connect(":memory:")
    create_contract_marts(con)
    con.execute("DROP TABLE marts.customer_consent")
    con.execute("INSERT INTO marts.customer_360 (person_id, email) VALUES ('P1', 'a@b.co')")
    rec = Recorder()
    run = run_sync(con, make_sync("hubspot", {"token_env": "X"}), destination=rec, sleep=Sleeps())
    assert rec.sent == [] and run.skipped_consent == 1
