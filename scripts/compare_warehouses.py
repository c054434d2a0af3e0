"""Compare the dbt tables of two warehouses row for row: the check behind a dbt speed change.

Build the same models on two copies of one warehouse, one with the old SQL and one with the
new, then:

    .venv/bin/python scripts/compare_warehouses.py OLD.duckdb NEW.duckdb [--schemas staging ...]

Every table or view of the schemas (default: staging, intermediate, marts) present in either
file is compared: the same columns with the same types in the same order, and `EXCEPT ALL`
both ways returns no row (duplicates count). Prints one line per differing relation and exits
1 when any differs. Both files are opened read-only.
"""

from __future__ import annotations

import argparse
import sys

import duckdb

from cdp.warehouse import configure

DEFAULT_SCHEMAS = ("staging", "intermediate", "marts")


def relations(con: duckdb.DuckDBPyConnection, catalog: str, schemas: list[str]) -> set[str]:
    """`schema.name` of the tables and views of `catalog` in `schemas`."""
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = $c "
        "union select schema_name, view_name from duckdb_views() "
        "where database_name = $c and not internal",
        {"c": catalog},
    ).fetchall()
    return {f"{schema}.{name}" for schema, name in rows if schema in schemas}


def compare(old: str, new: str, schemas: list[str]) -> dict[str, str]:
    """relation -> what differs, for every relation of `schemas` that is not identical."""
    differences: dict[str, str] = {}
    with configure(duckdb.connect()) as con:  # the platform's memory limit and threads
        con.execute(f"attach '{old}' as old (read_only)")
        con.execute(f"attach '{new}' as new (read_only)")
        before, after = relations(con, "old", schemas), relations(con, "new", schemas)
        for name in sorted(before ^ after):
            differences[name] = "only in " + ("old" if name in before else "new")
        for name in sorted(before & after):
            columns = [
                con.execute(f"describe select * from {side}.{name}").fetchall()
                for side in ("old", "new")
            ]
            if [c[:2] for c in columns[0]] != [c[:2] for c in columns[1]]:
                differences[name] = f"columns {columns[0]} != {columns[1]}"
                continue
            only_old, only_new = (
                con.execute(
                    f"select count(*) from (select * from {a}.{name} except all "
                    f"select * from {b}.{name})"
                ).fetchall()[0][0]
                for a, b in (("old", "new"), ("new", "old"))
            )
            if only_old or only_new:
                differences[name] = f"{only_old} rows only in old, {only_new} only in new"
    return differences


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--schemas", nargs="+", default=list(DEFAULT_SCHEMAS))
    args = parser.parse_args()
    differences = compare(args.old, args.new, args.schemas)
    for name, what in differences.items():
        print(f"{name}: {what}")
    print("identical" if not differences else f"{len(differences)} relation(s) differ")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
