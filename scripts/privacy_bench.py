"""Timings of the right of access and the right to erasure at scale (not a test).

    .venv/bin/python scripts/privacy_bench.py --source WAREHOUSE --copies 1000 \\
        --out /tmp/x/privacy_bench.duckdb --persons 5

Building a warehouse of 100,000 customers or more through the whole pipeline is too heavy
for a shared machine, so this replicates a warehouse the pipeline built (`cdp demo` or
`cdp bench` at a small size) `--copies` times: every base table, each row once per copy, with
the identifiers of copy i > 0 made unique (e-mails prefixed `c<i>.`, phones shifted, other
text suffixed `~<i>`, integers offset by i * 10^9), so every copy is a different set of
persons with the same shape. It then times, for `--persons` persons of the original copy:
- the access export (`privacy.export.collect` and writing the JSON file),
- the erasure dry run, and the erasure itself (`privacy.erase.erase`, committed),
and prints one line per person and the medians. The warehouse file is left for a re-run;
delete it when done.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")


def _expr(column: str, data_type: str) -> str:
    from privacy.subjects import IDENTIFIER_COLUMNS

    c = f'"{column}"'
    kind = next((k for k, pattern in IDENTIFIER_COLUMNS if pattern.search(column)), None)
    if data_type == "VARCHAR" and kind == "email":
        new = f"'c' || i || '.' || {c}"
    elif data_type == "VARCHAR" and kind == "phone":
        digits = f"right(regexp_replace({c}, '[^0-9]', '', 'g'), 9)"
        new = (
            f"CASE WHEN length({digits}) = 9 THEN '+33' || lpad((({digits}::BIGINT + i * 7919) "
            f"% 1000000000)::VARCHAR, 9, '0') ELSE {c} || '~' || i END"
        )
    elif data_type == "VARCHAR":
        new = f"{c} || '~' || i"
    elif data_type == "VARCHAR[]":
        new = f"list_transform({c}, lambda x: x || '~' || i)"
    elif data_type in INTEGERS:
        new = f"{c}::BIGINT + i * 1000000000"
    else:
        return c
    return f"CASE WHEN i = 0 THEN {c} ELSE {new} END AS {c}"


def replicate(con, source: Path, copies: int) -> int:
    """Copy every base table of `source` `copies` times into `con`; returns the rows written."""
    con.execute(f"ATTACH '{source}' AS src (READ_ONLY)")
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'src' "
        "ORDER BY 1, 2"
    ).fetchall()
    rows = 0
    for schema, table in tables:
        columns = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'src' "
            "AND schema_name = ? AND table_name = ? ORDER BY column_index",
            [schema, table],
        ).fetchall()
        select = ", ".join(_expr(c, t) for c, t in columns)
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        con.execute(
            f'CREATE TABLE "{schema}"."{table}" AS SELECT {select} '
            f'FROM src."{schema}"."{table}", range({copies}) AS r(i)'
        )
        rows += con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
    con.execute("DETACH src")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="a warehouse the pipeline built")
    parser.add_argument("--copies", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="the scratch warehouse file")
    parser.add_argument("--persons", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("CDP_PRIVACY_SALT", "privacy-bench-salt-0123456789")

    import duckdb

    from privacy import export
    from privacy.erase import erase
    from privacy.subjects import Subject

    con = duckdb.connect(str(args.out))
    if not con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0]:
        started = time.perf_counter()
        rows = replicate(con, args.source, args.copies)
        con.execute("CHECKPOINT")
        print(
            f"replicated {args.copies} copies: {rows:,} rows in {time.perf_counter() - started:.0f} s"
        )
    customers = con.execute(
        "SELECT count(*) FROM marts.customer_360 WHERE is_identified"
    ).fetchone()[0]
    rows = sum(r[0] for r in con.execute("SELECT estimated_size FROM duckdb_tables()").fetchall())
    print(f"warehouse: {customers:,} identified persons, about {rows:,} rows")
    persons = [
        p
        for (p,) in con.execute(
            "SELECT person_id FROM marts.customer_360 WHERE is_identified "
            "AND person_id NOT LIKE '%~%' ORDER BY hash(person_id) LIMIT ?",
            [args.persons],
        ).fetchall()
    ]
    timings: dict[str, list[float]] = {"access": [], "dry run": [], "erase": []}
    with tempfile.TemporaryDirectory(prefix="privacy-bench-") as tmp:
        for n, person in enumerate(persons):
            subject = Subject.from_values(person_id=person)
            started = time.perf_counter()
            data = export.collect(con, subject)
            export.write_export(data, Path(tmp) / f"{n}.json")
            timings["access"].append(time.perf_counter() - started)
            started = time.perf_counter()
            erase(con, subject, f"bench-{n}", Path(tmp), dry_run=True)
            timings["dry run"].append(time.perf_counter() - started)
            started = time.perf_counter()
            plan = erase(con, subject, f"bench-{n}", Path(tmp))
            timings["erase"].append(time.perf_counter() - started)
            print(
                f"person {n + 1}: access {timings['access'][-1]:.1f} s, dry run "
                f"{timings['dry run'][-1]:.1f} s, erase {timings['erase'][-1]:.1f} s "
                f"({plan.detail()})",
                flush=True,
            )
    print(
        "median: "
        + ", ".join(
            f"{k} {statistics.median(v):.1f} s (max {max(v):.1f})" for k, v in timings.items()
        )
    )
    con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
