"""Demo: one access request and one erasure processed end to end, after the demo syncs.

The erased person is the one the demo syncs delivered to the most destinations; the access
request is for another person. Both are recorded as requests and run by
`privacy.process.process_open` (what the `privacy/requests` asset does); every demo sync then
runs once more and sends the vendors' deletions. The lines printed hold request ids, counts
and sync names only, never an identifier; the check that no stand-in still holds the person
compares their e-mails in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from privacy import export, process, requests
from privacy.schema import REQUESTS
from privacy.subjects import SALT_ENV, Subject

#: persons delivered by the demo syncs, those the API stand-ins hold (`?`: their keys) first
PICK_SQL = """
    SELECT c.person_id FROM marts.customer_360 c
    JOIN activation.sync_state s ON s.key = c.email AND s.sync_name LIKE 'demo_%'
    GROUP BY 1
    ORDER BY bool_or(lower(c.email) IN (SELECT unnest(?))) DESC,
             count(DISTINCT s.sync_name) DESC, 1
    LIMIT 2"""


def _emails(con: duckdb.DuckDBPyConnection, person_id: str) -> set[str]:
    records = export._relation(con, export.RECORDS_MODEL)
    return {
        r[0]
        for r in con.execute(
            f"SELECT lower(r.email) FROM {export.IDENTITY_GRAPH} g JOIN {records} r "
            "USING (record_id) WHERE g.person_id = ? AND r.email IS NOT NULL",
            [person_id],
        ).fetchall()
    }


def _api_keys(targets: dict[str, Any]) -> list[str]:
    """The keys the API stand-ins (HubSpot, Klaviyo, webhook) hold, lower-cased."""
    held = [*targets["hubspot"].contacts, *targets["klaviyo"].profiles, *targets["webhook"].store]
    return [str(k).lower() for k in held]


def _held(targets: dict[str, Any], emails: set[str]) -> int:
    """How many records of the API stand-ins still hold one of `emails`."""
    return sum(1 for k in _api_keys(targets) if k in emails)


def run_privacy_round(
    con: duckdb.DuckDBPyConnection,
    settings: Any,
    targets: dict[str, Any],
    rerun: Callable[[], list[Any]],
) -> list[str]:
    """Record and process an access and an erasure request, run the syncs again (`rerun`
    returns their SyncRun objects) and describe what happened."""
    import os

    if len(os.environ.get(SALT_ENV, "")) < 16:
        return [f"skipped: {SALT_ENV} is not set (docs/privacy.md, Setup)"]
    picked = [r[0] for r in con.execute(PICK_SQL, [_api_keys(targets)]).fetchall()]
    if len(picked) < 2:
        return ["skipped: fewer than two persons were delivered by the demo syncs"]
    erased, accessed = picked
    emails = _emails(con, erased)
    before = _held(targets, emails)
    ids = {
        "access": requests.record(con, "access", Subject.from_values(person_id=accessed), "demo"),
        "erase": requests.record(con, "erase", Subject.from_values(person_id=erased), "demo"),
    }
    process.process_open(con, settings.landing_dir, settings.data_dir)
    lines = []
    for kind, request_id in ids.items():
        status, steps = con.execute(
            f"SELECT status, steps FROM {REQUESTS} WHERE request_id = ?", [request_id]
        ).fetchall()[0]
        detail = "; ".join(str(s.get("detail")) for s in _steps(steps).values())
        lines.append(f"{kind:<6} {request_id}: {status}; {detail}")
    runs = rerun()
    owed = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE status = 'confirmed'), "
        "count(*) FILTER (WHERE key IS NOT NULL) FROM activation.sync_erasures "
        "WHERE request_id = ?",
        [ids["erase"]],
    ).fetchall()[0]
    per_sync = ", ".join(f"{r.sync_name} {r.erased}" for r in runs if r.erased)
    lines.append(f"next sync run: deletions confirmed {owed[1]} of {owed[0]} ({per_sync})")
    lines.append(f"identifiers kept for pending deletions: {owed[2]}")
    lines.append(
        f"records of the person at HubSpot/Klaviyo/webhook: {before} before, "
        f"{_held(targets, emails)} after"
    )
    return lines


def _steps(value: Any) -> dict[str, Any]:
    import json

    return json.loads(value) if isinstance(value, str) else dict(value or {})
