"""Per-person tables of the profile page, computed once when a snapshot is published.

The identity panel needs, for one person, each merged record with its best edge score and
the possible matches touching any of its records. Edges and possible matches are keyed by
record pair, not by person: asked per page, that is a join over every edge (seconds at
100,000 customers). Here it is done once for everybody, and the results are keyed, sorted
and indexed by person id like the served tables (cdp.serving.create_person_table).
"""

from __future__ import annotations

import duckdb

from cdp.serving import create_person_table

RECORDS = "app.person_records"
POSSIBLE = "app.person_possible_matches"


def build_person_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables from `identity` in the connection's default catalog (the snapshot)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS app")
    for table in (RECORDS, POSSIBLE):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    create_person_table(
        con,
        RECORDS,
        """WITH ends AS (
                SELECT record_id_a AS record_id, rule, score FROM identity.identity_edges
                UNION ALL SELECT record_id_b, rule, score FROM identity.identity_edges
            ),
            best AS (
                SELECT record_id, max(score) AS best_score,
                       string_agg(DISTINCT rule, ', ' ORDER BY rule) AS edge_rules
                FROM ends GROUP BY record_id
            )
            SELECT g.person_id, g.record_id, g.source_system, g.source_key, g.match_rule,
                   b.best_score, b.edge_rules
            FROM identity.identity_graph g LEFT JOIN best b USING (record_id)""",
    )
    create_person_table(
        con,
        POSSIBLE,
        """WITH sides AS (
                SELECT record_id_a AS mine, record_id_b AS other, * FROM identity.possible_matches
                UNION ALL
                SELECT record_id_b, record_id_a, * FROM identity.possible_matches
            )
            SELECT DISTINCT me.person_id, s.record_id_a, s.record_id_b, s.score, s.reason,
                   them.person_id AS other_person
            FROM sides s
            JOIN identity.identity_graph me ON me.record_id = s.mine
            JOIN identity.identity_graph them ON them.record_id = s.other""",
    )
