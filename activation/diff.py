"""The diff of a sync: its source mapped to `_key` + fields in DuckDB, filtered by consent for
the destination's channel and hashed, against `activation.sync_state` (what the destination
confirmed): added, changed and (mirror only) removed records, read back in chunks."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterator
from typing import Any

import duckdb

from activation import journal
from activation.config import Sync
from activation.consent import consent_table_sql
from activation.contract import base_sql
from activation.destinations import destination_class
from activation.destinations.base import KEY
from activation.erasures import ensure_erasures, owed_keys_sql
from activation.segments import CURRENT
from activation.segments import ensure_schema as ensure_segment_schema
from activation.state import REMOVING, STATE, SyncRun

FETCH_ROWS = 20_000


def _json_safe(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def source_sql(con: duckdb.DuckDBPyConnection, sync: Sync) -> str:
    if sync.source.segment is not None:
        ensure_segment_schema(con)
        name = sync.source.segment.replace("'", "''")
        return (
            f"SELECT b.* FROM ({base_sql(con)}) AS b JOIN {CURRENT} AS m "
            f"ON m.person_id = b.person_id AND m.segment_name = '{name}'"
        )
    return str(sync.source.sql)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SyncDiff:
    """Computing and reading the diff of a run (a part of
    :class:`activation.engine.SyncEngine`)."""

    con: duckdb.DuckDBPyConnection
    sync: Sync
    channel: str

    def compute_diff(self, run: SyncRun) -> None:
        """Create temp table `_act_diff` (op, _rn, _key, _hash, fields...) and count skips.

        The full population is reduced to a narrow (key, person, hash) table and diffed
        against the state in one join; mapped fields are computed again only for the keys
        in the diff, so a run with few changes stays cheap at millions of persons.
        """
        con, sync = self.con, self.sync
        fields = sync.fields
        src = source_sql(con, sync)
        ensure_erasures(con)
        cols = con.execute(f"DESCRIBE SELECT * FROM ({src}) AS s").fetchall()
        if "person_id" not in {c[0] for c in cols}:
            raise ValueError(f"sync {sync.name}: the source must return a person_id column")
        struct = ", ".join(f"'{n}': ({e})" for n, e in fields.items()) or "'_': NULL"
        key_expr = f"CAST(({sync.key}) AS VARCHAR)"
        # one pass over the source: key, person, consent flag, and the hash of the mapped
        # fields for consented rows with a key
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _act_src AS
            SELECT _key, _person_id, _consented,
                   CASE WHEN _consented AND _key IS NOT NULL
                        THEN md5(CAST(to_json(_fields) AS VARCHAR)) END AS _hash
            FROM (
                SELECT {key_expr} AS _key, s.person_id AS _person_id,
                       coalesce(s.person_id IN ({consent_table_sql(con, self.channel)}), false)
                         AS _consented,
                       {{{struct}}} AS _fields
                FROM ({src}) AS s
            )"""
        )
        skipped_consent, null_keys = con.execute(
            """SELECT count(*) FILTER (WHERE NOT _consented),
                      count(*) FILTER (WHERE _consented AND _key IS NULL)
               FROM _act_src"""
        ).fetchall()[0]
        # one row per key (the lowest person_id wins a shared key)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _act_desired AS
            SELECT _key, min(_person_id) AS _person_id, arg_min(_hash, _person_id) AS _hash,
                   count(*) AS _n
            FROM _act_src WHERE _consented AND _key IS NOT NULL
              AND _key NOT IN ({owed_keys_sql(sync.name)})
            GROUP BY _key"""
        )
        # keys still in the source whose person lost consent (a withdrawal, not a departure)
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _act_unconsented AS
            SELECT DISTINCT _key FROM _act_src WHERE NOT _consented AND _key IS NOT NULL"""
        )
        (duplicates,) = con.execute("SELECT coalesce(sum(_n - 1), 0) FROM _act_desired").fetchall()[
            0
        ]
        con.execute("DROP TABLE _act_src")
        run.skipped_consent = int(skipped_consent)
        run.skipped_invalid = int(null_keys) + int(duplicates)

        mode = sync.mode
        name = sync.name.replace("'", "''")
        conds = ["s.key IS NULL"]
        if mode != "insert_only":
            conds.append("(d._key IS NOT NULL AND s.key IS NOT NULL AND d._hash <> s.hash)")
        gone = "'remove'"
        if mode == "mirror":
            conds.append("(d._key IS NULL AND s.created_by_sync)")
        elif destination_class(sync.destination.type).withdraws:
            conds.append("d._key IS NULL")
            gone = "CASE WHEN u._key IS NULL THEN 'leave' ELSE 'unsubscribe' END"
        # What the destination may hold: the confirmed state, and the keys of batches a dead
        # run sent without an answer (possibly delivered). Those still desired go out again
        # as additions (resumed under their batch id); those that left get a removal.
        held = f"""SELECT key, hash, created_by_sync FROM {STATE} WHERE sync_name = '{name}'
            UNION ALL
            SELECT f.key, NULL, true FROM ({journal.in_flight_keys_sql()}) f
            WHERE f.key NOT IN (SELECT key FROM {STATE} WHERE sync_name = '{name}')
              AND f.key NOT IN (SELECT _key FROM _act_desired)
              AND f.key NOT IN ({owed_keys_sql(sync.name)})"""
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _act_ops AS
            SELECT CASE WHEN s.key IS NULL THEN 'add'
                        WHEN d._key IS NULL THEN {gone} ELSE 'change' END AS op,
                   coalesce(d._key, s.key) AS _key, d._hash, d._person_id
            FROM _act_desired d
            FULL JOIN ({held}) s ON s.key = d._key
            LEFT JOIN _act_unconsented u ON u._key = s.key
            WHERE {" OR ".join(conds)}""",
            [sync.name, sorted(journal.LIVE_RUNS)],
        )
        con.execute("DROP TABLE _act_unconsented")
        mapped = ", ".join(f"({expr}) AS {_q(n)}" for n, expr in fields.items())
        mapped = (", " + mapped) if mapped else ""
        m_fields = ", ".join(f"m.{_q(n)}" for n in fields)
        m_fields = (", " + m_fields) if m_fields else ""
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _act_diff AS
            SELECT o.op, o._key, o._hash {m_fields},
                   row_number() OVER (PARTITION BY o.op ORDER BY o._key) AS _rn
            FROM _act_ops o
            LEFT JOIN (
                -- explicit window column: DuckDB may bind QUALIFY aliases to the outer
                -- query inside a joined subquery (an implicit lateral join)
                SELECT * EXCLUDE (_dup) FROM (
                    SELECT {key_expr} AS _key, s.person_id AS _person_id {mapped},
                           row_number() OVER (
                               PARTITION BY s.person_id, {key_expr}) AS _dup
                    FROM ({src}) AS s
                    SEMI JOIN (SELECT _person_id FROM _act_ops WHERE op IN ('add', 'change')) p
                      ON p._person_id = s.person_id
                ) WHERE _dup = 1
            ) m ON o.op IN ('add', 'change') AND m._key = o._key AND m._person_id = o._person_id
            ORDER BY o.op, _rn"""
        )
        con.execute("DROP TABLE _act_ops")
        counts = dict(con.execute("SELECT op, count(*) FROM _act_diff GROUP BY op").fetchall())
        run.planned_added = int(counts.get("add", 0))
        run.planned_changed = int(counts.get("change", 0))
        run.planned_removed = sum(int(counts.get(op, 0)) for op in REMOVING)

    def _rows(self, op: str) -> Iterator[list[dict[str, Any]]]:
        """The diff rows of `op` in chunks, minus those resumed under an old batch id."""
        (last,) = self.con.execute(
            "SELECT coalesce(max(_rn), 0) FROM _act_diff WHERE op = ?", [op]
        ).fetchall()[0]
        for start in range(1, int(last) + 1, FETCH_ROWS):
            tbl = self.con.sql(
                "SELECT * EXCLUDE (op, _rn) FROM _act_diff WHERE op = ? AND _rn BETWEEN ? AND ? "
                "AND _key NOT IN (SELECT _key FROM _act_resume WHERE op = ?) ORDER BY _rn",
                params=[op, start, start + FETCH_ROWS - 1, op],
            ).to_arrow_table()
            if tbl.num_rows:
                yield [{k: _json_safe(v) for k, v in r.items()} for r in tbl.to_pylist()]

    def _resumed_rows(self, batch_id: str, op: str) -> list[dict[str, Any]]:
        tbl = self.con.sql(
            """SELECT * EXCLUDE (op, _rn) FROM _act_diff WHERE op = ? AND _key IN
               (SELECT _key FROM _act_resume WHERE batch_id = ? AND op = ?) ORDER BY _rn""",
            params=[op, batch_id, op],
        ).to_arrow_table()
        return [{k: _json_safe(v) for k, v in r.items()} for r in tbl.to_pylist()]

    def _print_diff(self, run: SyncRun, echo: Callable[[str], None], limit: int = 20) -> None:
        echo(
            f"dry run of sync {self.sync.name} ({self.sync.mode} -> "
            f"{self.sync.destination.type}): would add {run.planned_added}, change "
            f"{run.planned_changed}, remove {run.planned_removed}; skipped for consent "
            f"{run.skipped_consent}, invalid/duplicate keys {run.skipped_invalid}"
        )
        for op in ("add", "change", *REMOVING):
            rows = (
                self.con.sql(
                    "SELECT * EXCLUDE (op, _rn, _hash) FROM _act_diff WHERE op = ? AND _rn <= ? "
                    "ORDER BY _rn",
                    params=[op, limit],
                )
                .to_arrow_table()
                .to_pylist()
            )
            for r in rows:
                key = r.pop(KEY)
                echo(f"  {op:<6} {key}  {_json_safe(r) if op not in REMOVING else ''}".rstrip())
        total = run.planned_added + run.planned_changed + run.planned_removed
        if total > 3 * limit:
            echo(f"  ... ({total} records in total)")
