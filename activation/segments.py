"""Segments: SQL conditions over marts.customer_profiles (customer_360 with the ML scores),
materialised with history.

`activation.segment_membership(segment_name, person_id, entered_at, exited_at)` keeps one row
per stay in a segment: a person who leaves gets `exited_at`, a later re-entry opens a new row.
`activation.segment_membership_current` is the view of open rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from activation.config import SegmentsFile, load_segments
from activation.contract import base_sql, compile_target
from cdp.config import ConfigError
from cdp.warehouse import ensure_table, table_exists

log = logging.getLogger(__name__)

MEMBERSHIP = "activation.segment_membership"
#: the columns of MEMBERSHIP: one row per stay of a person in a segment
MEMBERSHIP_COLUMNS = """segment_name VARCHAR NOT NULL, person_id VARCHAR NOT NULL,
    entered_at TIMESTAMPTZ NOT NULL, exited_at TIMESTAMPTZ"""
CURRENT = "activation.segment_membership_current"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    ensure_table(con, MEMBERSHIP, MEMBERSHIP_COLUMNS)
    con.execute(
        f"""CREATE VIEW IF NOT EXISTS {CURRENT} AS
            SELECT segment_name, person_id, entered_at
            FROM {MEMBERSHIP} WHERE exited_at IS NULL"""
    )


def validate_conditions(
    segments: SegmentsFile, path: Path, con: duckdb.DuckDBPyConnection | None = None
) -> None:
    """Compile every condition in DuckDB; raise ConfigError naming the segment and file.

    With a connection whose marts exist, conditions compile against the real columns;
    otherwise against empty contract-shaped tables in an in-memory database.
    """
    with compile_target(con) as (target, _):
        base = base_sql(target)
        for seg in segments.segments:
            try:
                target.execute(
                    f"SELECT person_id FROM ({base}) AS b WHERE ({seg.condition}) LIMIT 0"
                ).fetchall()
            except duckdb.Error as exc:
                first = str(exc).splitlines()[0]
                raise ConfigError(
                    f"{path}: segment {seg.name!r}: condition does not compile: {first}"
                ) from None


def load_and_validate(path: Path, con: duckdb.DuckDBPyConnection | None = None) -> SegmentsFile:
    segments = load_segments(path)
    validate_conditions(segments, path, con)
    return segments


@dataclass(frozen=True)
class SegmentResult:
    name: str
    members: int
    entered: int
    exited: int


def materialise(
    con: duckdb.DuckDBPyConnection,
    segments: SegmentsFile,
    path: Path,
    now: datetime | None = None,
) -> list[SegmentResult]:
    """Update the membership history to the current members of every configured segment."""
    now = now or datetime.now(UTC)
    validate_conditions(segments, path, con)
    ensure_schema(con)
    base = base_sql(con)
    parts = [
        f"SELECT '{seg.name}' AS segment_name, person_id FROM ({base}) AS b "
        f"WHERE ({seg.condition}) AND person_id IS NOT NULL"
        for seg in segments.segments
    ]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _seg_now (segment_name VARCHAR, person_id VARCHAR)"
        )
        if parts:
            con.execute(
                "INSERT INTO _seg_now SELECT DISTINCT * FROM (" + " UNION ALL ".join(parts) + ")"
            )
        exited = con.execute(
            f"""UPDATE {MEMBERSHIP} AS m SET exited_at = ?
                WHERE m.exited_at IS NULL AND NOT EXISTS (
                    SELECT 1 FROM _seg_now n
                    WHERE n.segment_name = m.segment_name AND n.person_id = m.person_id)""",
            [now],
        ).fetchall()
        con.execute(
            f"""INSERT INTO {MEMBERSHIP} (segment_name, person_id, entered_at, exited_at)
                SELECT n.segment_name, n.person_id, ?, NULL FROM _seg_now n
                WHERE NOT EXISTS (
                    SELECT 1 FROM {MEMBERSHIP} m
                    WHERE m.exited_at IS NULL AND m.segment_name = n.segment_name
                      AND m.person_id = n.person_id)""",
            [now],
        )
        stats = con.execute(
            f"""SELECT n.segment_name, count(*) AS members,
                       count(*) FILTER (WHERE m.entered_at = ?) AS entered
                FROM _seg_now n JOIN {MEMBERSHIP} m
                  ON m.segment_name = n.segment_name AND m.person_id = n.person_id
                 AND m.exited_at IS NULL
                GROUP BY 1""",
            [now],
        ).fetchall()
        exits = dict(
            con.execute(
                f"SELECT segment_name, count(*) FROM {MEMBERSHIP} WHERE exited_at = ? GROUP BY 1",
                [now],
            ).fetchall()
        )
        con.execute("DROP TABLE _seg_now")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    del exited
    by_name = {name: (members, entered) for name, members, entered in stats}
    results = []
    for seg in segments.segments:
        members, entered = by_name.get(seg.name, (0, 0))
        results.append(SegmentResult(seg.name, members, entered, exits.get(seg.name, 0)))
        log.info(
            "segment %s: %d members (%d entered, %d exited)",
            seg.name,
            members,
            entered,
            exits.get(seg.name, 0),
        )
    return results


def member_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    if not table_exists(con, MEMBERSHIP):
        return {}
    return dict(con.execute(f"SELECT segment_name, count(*) FROM {CURRENT} GROUP BY 1").fetchall())


__all__ = [
    "CURRENT",
    "MEMBERSHIP",
    "ConfigError",
    "SegmentResult",
    "ensure_schema",
    "load_and_validate",
    "materialise",
    "member_counts",
    "validate_conditions",
]
