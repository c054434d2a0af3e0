"""A synthetic, larger serving snapshot for the search benchmark (not a test, not for BI).

    .venv/bin/python scripts/replicate_snapshot.py --source SNAPSHOT --copies 8 --out FILE

Generating and loading 1.4 million customers through the pipeline is too heavy for a shared
machine, but the search only reads `marts.customer_360` and the search index built from it
and from the order numbers of `marts.orders`. This copies those person rows `--copies` times
with new ids: person ids, e-mails, phone numbers, loyalty cards, shop/clienteling/ESP ids and
order numbers are made unique per copy (so an exact search still finds one person), names are
kept (so a name is shared by `--copies` times more people: the fuzzy name search has that many
more postings to join). The search index is then built by the app's own builder
(app.search_index.build_search_index) and `customer_360` is sorted and indexed by person id as
cdp.serving publishes it. Only the columns the search and the benchmark read are copied.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PEOPLE = """
    SELECT CASE WHEN i = 0 THEN person_id ELSE person_id || '_' || i END AS person_id,
           is_identified, first_name, last_name, city,
           CASE WHEN i = 0 THEN email ELSE 'c' || i || '.' || email END AS email,
           CASE WHEN i = 0 OR phone IS NULL THEN phone ELSE '+33' || lpad(
               ((right(regexp_replace(phone, '[^0-9]', '', 'g'), 9)::BIGINT + i * 7919)
                % 1000000000)::VARCHAR, 9, '0') END AS phone,
           {lists}
    FROM src.marts.customer_360, range($copies) AS r(i)"""
ID_LISTS = ("loyalty_card_ids", "shop_customer_ids", "clienteling_ids", "esp_contact_ids")
ORDERS = """
    SELECT CASE WHEN i = 0 THEN person_id ELSE person_id || '_' || i END AS person_id,
           CASE WHEN i = 0 THEN source_order_id ELSE source_order_id || '-' || i END
               AS source_order_id
    FROM src.marts.orders, range($copies) AS r(i) WHERE person_id IS NOT NULL"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="a published snapshot file")
    parser.add_argument("--copies", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="the scratch DuckDB file")
    args = parser.parse_args()

    import duckdb

    from app.search_index import build_search_index
    from cdp.serving import create_person_table

    if args.out.exists():
        raise SystemExit(f"{args.out} exists: give a new file")
    started = time.perf_counter()
    lists = ", ".join(
        f"CASE WHEN i = 0 THEN {c} ELSE list_transform({c}, lambda x: x || '-' || i) END AS {c}"
        for c in ID_LISTS
    )
    with duckdb.connect(str(args.out)) as con:
        con.execute(f"ATTACH '{args.source}' AS src (READ_ONLY)")
        con.execute("CREATE SCHEMA marts")
        select = PEOPLE.format(lists=lists).replace("$copies", str(int(args.copies)))
        create_person_table(con, "marts.customer_360", select)
        orders = ORDERS.replace("$copies", str(int(args.copies)))
        con.execute(f"CREATE TABLE marts.orders AS {orders}")
        con.execute("DETACH src")
        build_search_index(con)
        persons, terms = con.execute(
            "SELECT (SELECT count(*) FROM marts.customer_360), "
            "(SELECT count(*) FROM app.search_terms)"
        ).fetchall()[0]
        con.execute("CHECKPOINT")
    print(
        f"{args.out}: {persons:,} persons, {terms:,} search terms, "
        f"{time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
