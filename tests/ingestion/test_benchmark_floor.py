"""The floor of the till database (`ingestion.benchmark.sqlite_floor`) reads every row of each
table into a DuckDB table with the till's columns."""

from __future__ import annotations

import sqlite3

import duckdb

from ingestion.benchmark import sqlite_floor
from tests.ingestion.ingestion_fixtures import write_landing


def test_sqlite_floor_reads_every_row_of_each_table(tmp_path):
    expected = write_landing(tmp_path)
    database = tmp_path / "pos/pos.sqlite"
    tables = ["stores", "loyalty_cards", "receipts", "receipt_lines"]
    con = duckdb.connect()
    rows = sqlite_floor(con, database, tables)
    assert rows == sum(expected[f"raw_pos.{t}"] for t in tables)
    with sqlite3.connect(database) as till:
        for table in tables:
            names = [r[1] for r in till.execute(f"PRAGMA table_info({table})")]
            assert [d[0] for d in con.execute(f"select * from pos_{table}").description] == names
            assert (
                con.execute(f"select count(*) from pos_{table}").fetchone()[0]
                == (expected[f"raw_pos.{table}"])
            )
