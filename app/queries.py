"""What each page shows, read from the serving snapshot (tables of cdp.serving.SERVED_SCHEMAS).

Every query takes a cursor on the snapshot and returns plain dicts for the templates; bulk
work stays in DuckDB. Tables a first run may not have yet (scores, syncs) read as empty.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import yaml

from app.person_tables import POSSIBLE, RECORDS
from cdp.settings import Settings
from cdp.warehouse import table_exists

TIMELINE_LIMIT = 300
CONTACT_POINTS = "intermediate.int_contact_points_resolved"
MEMBERS_LIMIT = 200
GOLDEN_FIELDS = (  # (label, value columns, source column, date column) of the golden record
    ("Name", ("first_name", "last_name"), "name_source", "name_updated_at"),
    ("E-mail", ("email",), "email_source", "email_updated_at"),
    ("Phone", ("phone",), "phone_source", "phone_updated_at"),
    ("Birth date", ("birth_date",), "birth_date_source", "birth_date_updated_at"),
    ("Address", ("street", "postcode", "city", "country"), "address_source", "address_updated_at"),
)
ID_COLUMNS = (
    ("Shop account", "shop_customer_ids"),
    ("Loyalty card", "loyalty_card_ids"),
    ("Clienteling", "clienteling_ids"),
    ("E-mail platform", "esp_contact_ids"),
)


def _rows(cur: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[dict]:
    """Rows as dicts (fetchall: a page reads a few rows, Arrow's conversion costs more)."""
    cur.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _one(cur: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> dict | None:
    rows = _rows(cur, sql, params)
    return rows[0] if rows else None


def _lists(cur: duckdb.DuckDBPyConnection, parts: dict[str, tuple[str, str]], params: dict) -> dict:
    """Several lists of rows of one person in one query: `parts` maps a name to a SELECT
    (filtered on `$p`) and the order of its rows (columns of that SELECT); each comes back
    as a list of dicts (DuckDB structs)."""
    columns = ", ".join(
        f"coalesce((SELECT list(r ORDER BY {order}) FROM ({sql}) r), []) AS {name}"
        for name, (sql, order) in parts.items()
    )
    return _one(cur, f"SELECT {columns}", params) or {name: [] for name in parts}


def profile(cur: duckdb.DuckDBPyConnection, person_id: str) -> dict | None:
    """customer_360 of the person, with the golden record's value, source and date and the
    churn and value scores (`scores`, None when not scored), in one query."""
    scores = (
        "(SELECT s FROM ml.churn_scores s WHERE s.person_id = $p LIMIT 1)"
        if table_exists(cur, "ml.churn_scores")
        else "NULL"
    )
    p = _one(
        cur,
        "SELECT c.*, (SELECT g FROM intermediate.int_persons_golden g WHERE g.person_id = $p "
        f"LIMIT 1) AS _golden, {scores} AS _scores "
        "FROM marts.customer_360 c WHERE c.person_id = $p",
        {"p": person_id},
    )
    if p is None:
        return None
    golden, p["scores"] = p.pop("_golden"), p.pop("_scores")
    p["golden"] = [
        {
            "label": label,
            "value": " ".join(str(golden[c]) for c in cols if golden.get(c) is not None),
            "source": golden.get(source),
            "updated_at": golden.get(date),
        }
        for label, cols, source, date in GOLDEN_FIELDS
        if golden is not None
    ]
    p["ids"] = [(label, p.get(col) or []) for label, col in ID_COLUMNS]
    p["records_count"] = golden.get("records_count") if golden else None
    return p


def contact(cur: duckdb.DuckDBPyConnection, person_id: str) -> dict[str, list[dict]]:
    """Contact points (every e-mail and phone seen on the person's records, with how many
    persons share each; none in a snapshot published before they were served), current
    consent per channel and purpose, and its history (newest first)."""
    points = (
        "SELECT contact_point_type AS kind, contact_point_value AS value, persons_count "
        f"FROM {CONTACT_POINTS} WHERE person_id = $p"
        if table_exists(cur, CONTACT_POINTS)
        else "SELECT NULL AS kind, NULL AS value, NULL AS persons_count WHERE false"
    )
    return _lists(
        cur,
        {
            "points": (points, "kind, value"),
            "current": (
                "SELECT channel, purpose, is_granted, status_at, source, "
                "has_unreadable_statement FROM marts.customer_consent WHERE person_id = $p",
                "channel, purpose",
            ),
            "history": (
                "SELECT occurred_at, channel, purpose, status, is_granted, source_system, "
                "source FROM marts.consent_history WHERE person_id = $p",
                "occurred_at DESC",
            ),
        },
        {"p": person_id},
    )


def timeline(cur: duckdb.DuckDBPyConnection, person_id: str, channel: str | None) -> dict:
    """The person's channels, and interactions newest first (`events`, of `channel` or all):
    e-mails and SMS with the campaign's name, orders with their lines."""
    events = f"""WITH events AS (
                SELECT * FROM marts.customer_timeline
                WHERE person_id = $p AND ($c IS NULL OR channel = $c)
                ORDER BY occurred_at DESC, event_sequence DESC LIMIT {TIMELINE_LIMIT}
            ),
            lines AS (
                SELECT order_key, list(struct_pack(sku := sku, category := category,
                                       quantity := quantity, amount := line_amount)) AS lines
                FROM marts.order_lines WHERE person_id = $p GROUP BY order_key
            ),
            campaigns AS (
                SELECT e.event_id, c.campaign_name
                FROM intermediate.int_campaign_events_attributed e
                JOIN staging.stg_esp__campaigns c USING (campaign_id)
                WHERE e.person_id = $p
            )
            SELECT t.occurred_at, t.event_sequence, t.channel, t.event_type, t.source_system,
                   t.reference, t.amount, c.campaign_name, l.lines
            FROM events t
            LEFT JOIN campaigns c ON t.source_system = 'esp' AND c.event_id = t.reference
            LEFT JOIN lines l ON l.order_key = t.channel || ':' || t.reference"""
    found = _lists(
        cur,
        {
            "channels": (
                "SELECT DISTINCT channel FROM marts.customer_timeline WHERE person_id = $p",
                "channel",
            ),
            "events": (events, "occurred_at DESC, event_sequence DESC"),
        },
        {"p": person_id, "c": channel},
    )
    return {"channels": [r["channel"] for r in found["channels"]], "events": found["events"]}


def charts(cur: duckdb.DuckDBPyConnection, person_id: str) -> dict[str, list[dict]]:
    """Data of the three charts: spend by month and channel, category mix, engagement."""
    return _lists(
        cur,
        {
            "spend": (
                "SELECT strftime(date_trunc('month', ordered_at), '%Y-%m') AS month, channel, "
                "sum(net_amount)::DOUBLE AS amount FROM marts.orders "
                "WHERE person_id = $p AND NOT is_return GROUP BY ALL",
                "month, channel",
            ),
            "categories": (
                "SELECT coalesce(category, 'unknown') AS category, "
                "sum(line_amount)::DOUBLE AS amount FROM marts.order_lines "
                "WHERE person_id = $p GROUP BY ALL",
                "amount DESC, category",
            ),
            "engagement": (
                "SELECT strftime(date_trunc('month', occurred_at), '%Y-%m') AS month, "
                "event_type, count(*) AS events FROM marts.customer_timeline "
                "WHERE person_id = $p AND event_type IN "
                "('campaign_open', 'campaign_click', 'web_session', 'web_login') GROUP BY ALL",
                "month, event_type",
            ),
        },
        {"p": person_id},
    )


def identity(cur: duckdb.DuckDBPyConnection, person_id: str) -> dict[str, list[dict]]:
    """The records merged into the person (rule, best edge score) and possible matches, from
    the per-person tables of app.person_tables."""
    return _lists(
        cur,
        {
            "records": (
                "SELECT record_id, source_system, source_key, match_rule, best_score, "
                f"edge_rules FROM {RECORDS} WHERE person_id = $p",
                "source_system, source_key",
            ),
            "possible": (
                "SELECT record_id_a, record_id_b, score, reason, other_person "
                f"FROM {POSSIBLE} WHERE person_id = $p",
                "score DESC, record_id_a, record_id_b",
            ),
        },
        {"p": person_id},
    )


def person_segments(cur: duckdb.DuckDBPyConnection, person_id: str) -> list[dict]:
    if not table_exists(cur, "activation.segment_membership"):
        return []
    return _rows(
        cur,
        "SELECT segment_name, entered_at, exited_at FROM activation.segment_membership "
        "WHERE person_id = ? ORDER BY exited_at IS NULL DESC, entered_at DESC",
        [person_id],
    )


def segment_definitions(settings: Settings) -> dict[str, dict]:
    """config/segments.yaml as written (its validation is activation's: `cdp segments`)."""
    path = Path(settings.config_dir) / "segments.yaml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    return {s["name"]: s for s in data.get("segments", []) if isinstance(s, dict) and "name" in s}


def segments(cur: duckdb.DuckDBPyConnection, settings: Settings) -> list[dict]:
    counts: dict[str, int] = {}
    if table_exists(cur, "activation.segment_membership"):
        counts = dict(
            cur.execute(
                "SELECT segment_name, count(*) FILTER (WHERE exited_at IS NULL) "
                "FROM activation.segment_membership GROUP BY 1"
            ).fetchall()
        )
    defined = segment_definitions(settings)
    names = list(defined) + sorted(set(counts) - set(defined))
    return [
        {"name": n, "members": counts.get(n), "description": defined.get(n, {}).get("description")}
        for n in names
    ]


def segment(cur: duckdb.DuckDBPyConnection, settings: Settings, name: str) -> dict | None:
    """Definition, daily size over time (from entry/exit dates) and current members."""
    definition = segment_definitions(settings).get(name)
    if not table_exists(cur, "activation.segment_membership"):
        return None if definition is None else {"name": name, "definition": definition}
    known = cur.execute(
        "SELECT count(*) FROM activation.segment_membership WHERE segment_name = ?", [name]
    ).fetchall()[0][0]
    if definition is None and not known:
        return None
    size = _rows(
        cur,
        """WITH m AS (SELECT * FROM activation.segment_membership WHERE segment_name = $n),
           days AS (SELECT unnest(generate_series(
               (SELECT min(entered_at)::DATE FROM m), current_date, INTERVAL 1 DAY))::DATE AS day)
           SELECT strftime(day, '%Y-%m-%d') AS day,
                  (SELECT count(*) FROM m WHERE m.entered_at::DATE <= day
                     AND (m.exited_at IS NULL OR m.exited_at::DATE > day)) AS members
           FROM days ORDER BY day""",
        {"n": name},
    )
    members = _rows(
        cur,
        f"""SELECT c.person_id, c.first_name, c.last_name, c.city, m.entered_at
            FROM activation.segment_membership m JOIN marts.customer_360 c USING (person_id)
            WHERE m.segment_name = ? AND m.exited_at IS NULL
            ORDER BY m.entered_at DESC, c.person_id LIMIT {MEMBERS_LIMIT}""",
        [name],
    )
    current = size[-1]["members"] if size else 0
    return {
        "name": name,
        "definition": definition,
        "size": size,
        "members": members,
        "current": current,
        "shown": MEMBERS_LIMIT,
    }


def syncs(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    if not table_exists(cur, "activation.sync_runs"):
        return []
    return _rows(
        cur,
        """SELECT sync_name, count(*) AS runs, max(started_at) AS last_started,
                  arg_max(status, started_at) AS last_status,
                  sum(failed) FILTER (WHERE NOT dry_run) AS failed
           FROM activation.sync_runs GROUP BY sync_name ORDER BY sync_name""",
    )


def sync_runs(cur: duckdb.DuckDBPyConnection, name: str) -> list[dict]:
    if not table_exists(cur, "activation.sync_runs"):
        return []
    return _rows(
        cur,
        "SELECT * FROM activation.sync_runs WHERE sync_name = ? ORDER BY started_at DESC",
        [name],
    )


def sync_run(cur: duckdb.DuckDBPyConnection, run_id: str) -> dict | None:
    """One run (added/changed/removed/failed) with its failed records and their reasons."""
    if not table_exists(cur, "activation.sync_runs"):
        return None
    run = _one(cur, "SELECT * FROM activation.sync_runs WHERE run_id = ?", [run_id])
    if run is not None:
        run["failures"] = _rows(
            cur,
            "SELECT key, operation, error, failed_at, resolved_at, resolution "
            "FROM activation.sync_failures WHERE run_id = ? ORDER BY failed_at, key",
            [run_id],
        )
    return run
