"""A synthetic serving snapshot with a real name distribution, for the search benchmark only.

    .venv/bin/python scripts/synthetic_snapshot.py --persons 1420000 --out FILE [--seed 1]

The demo generator draws names from a few hundred given names and surnames: at 1.4 million
people nearly every full name would be shared by hundreds, so neither the ranking nor the
cost of a typo-tolerant search would look like a real customer file. Here first names and
surnames are drawn from the US census 1990 frequency files shipped by the `names` package
(4,275 female and 1,219 male given names, 88,799 surnames covering 90.5 % of the population;
the 69,960 surnames listed with a frequency under 0.0005 % share what the cumulative column
leaves them), independently, half women and half men: data the project did not generate, with
natural homonyms and a long tail of rare names. Every person is an identified customer with
an e-mail, a phone, ids in the shop/ESP (some a loyalty card, a clienteling id) and 0-3 orders,
all unique. Only the columns the search and its benchmark read are written; the search index
is then built by the app's own builder (app.search_index.build_search_index) and `customer_360`
is sorted and indexed by person id as cdp.serving publishes it. Memory: DuckDB is capped at
3 GB (spilling to a folder next to the output file).

`--profiles-from SNAPSHOT` (a snapshot published by `cdp demo`) also makes the profile page
servable: each synthetic person gets the rows of one identified demo person (its template,
assigned in turn) in every table the page reads (PROFILE_TABLES: timeline, orders and lines,
consent, golden record, scores, segments, identity, contact points), under the synthetic
person id and with the synthetic name, e-mail, phone and ids; so per-person volumes follow
the demo's, and the tables are sorted and indexed by person id as a publication does.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CITIES = ("Paris", "Lyon", "Marseille", "Lille", "Nantes", "Bordeaux", "Toulouse", "Nice")
#: per-person tables the profile page reads (app/queries.py), copied from the templates
PROFILE_TABLES = (
    "marts.customer_360",
    "marts.orders",
    "marts.order_lines",
    "marts.customer_timeline",
    "marts.customer_consent",
    "marts.consent_history",
    "intermediate.int_persons_golden",
    "intermediate.int_contact_points_resolved",
    "intermediate.int_campaign_events_attributed",
    "ml.churn_scores",
    "activation.segment_membership",
    "app.person_records",
    "app.person_possible_matches",
)
#: tables without a person id the page joins (copied as they are)
SHARED_TABLES = ("staging.stg_esp__campaigns",)


def census(file: str) -> tuple[np.ndarray, np.ndarray]:
    """(names in title case, probabilities) of one census file of the `names` package."""
    import names

    rows = [line.split() for line in (Path(names.__file__).parent / file).read_text().splitlines()]
    pool = np.array([r[0].title() for r in rows], dtype=object)
    freq = np.array([float(r[1]) for r in rows])
    covered = float(rows[-1][2])  # the cumulative share of the last name listed
    zero = freq == 0
    if zero.any():  # listed, rounded to 0.000 %: the share the cumulative column leaves them
        freq[zero] = max(covered - freq[~zero].sum(), 0.0) / zero.sum()
    return pool, freq / freq.sum()


def persons(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    female, male, last = (
        census("dist.female.first"),
        census("dist.male.first"),
        census("dist.all.last"),
    )
    women = rng.random(n) < 0.5
    first = np.empty(n, dtype=object)
    first[women] = rng.choice(female[0], int(women.sum()), p=female[1])
    first[~women] = rng.choice(male[0], int((~women).sum()), p=male[1])
    surname = rng.choice(last[0], n, p=last[1])
    i = np.arange(n)
    ids = pd.Series(i).astype(str).str.zfill(7)
    lower = pd.Series(first).str.lower() + "." + pd.Series(surname).str.lower()
    phone = "+336" + pd.Series(rng.permutation(n) + 10_000_000).astype(str)
    has = {k: rng.random(n) < p for k, p in (("card", 0.4), ("shop", 0.7), ("cl", 0.1))}

    def ids_if(mask: np.ndarray, prefix: str) -> list:
        return [[prefix + x] if m else None for x, m in zip(ids, mask, strict=True)]

    return pd.DataFrame(
        {
            "person_id": "s" + ids,
            "is_identified": True,
            "first_name": first,
            "last_name": surname,
            "email": (lower + ids.str[-4:] + "@example.test").to_numpy(),
            "phone": phone.to_numpy(),
            "city": np.array(CITIES, dtype=object)[rng.integers(0, len(CITIES), n)],
            "loyalty_card_ids": ids_if(has["card"], "LC"),
            "shop_customer_ids": ids_if(has["shop"], "SH"),
            "clienteling_ids": ids_if(has["cl"], "CL"),
            "esp_contact_ids": ids_if(np.ones(n, dtype=bool), "ESP"),
            "orders": rng.integers(0, 4, n),
        }
    )


def _people(con, people: pd.DataFrame) -> None:
    """marts.customer_360 (sorted and indexed by person id) and marts.orders."""
    from cdp.serving import create_person_table

    con.register("people", people)
    con.execute("CREATE SCHEMA marts")
    create_person_table(con, "marts.customer_360", "SELECT * EXCLUDE (orders) FROM people")
    con.execute(
        """CREATE TABLE marts.orders AS
        SELECT person_id, (100000000 + row_number() OVER ())::VARCHAR AS source_order_id
        FROM people, range(orders) AS r(k)"""
    )
    con.unregister("people")


def _profiles(con, people: pd.DataFrame, source: Path) -> None:
    """PROFILE_TABLES from the templates' rows of `source` (see the module docstring); the
    order numbers are renumbered so that each stays unique."""
    from cdp.serving import create_person_table

    con.execute(f"ATTACH '{source}' AS demo (READ_ONLY)")
    con.execute(
        """CREATE TEMP TABLE templates AS
        SELECT person_id AS template, row_number() OVER (ORDER BY hash(person_id)) - 1 AS k
        FROM demo.marts.customer_360 WHERE is_identified AND first_name IS NOT NULL"""
    )
    con.register("people", people.drop(columns="orders"))
    con.execute(
        """CREATE TEMP TABLE persons AS SELECT p.*, t.template FROM people p
        JOIN templates t ON t.k = substr(p.person_id, 2)::BIGINT % (SELECT count(*) FROM templates)"""
    )
    own = set(people.columns)
    for table in PROFILE_TABLES:
        schema = table.split(".")[0]
        types = dict(
            con.execute(f"SELECT column_name, column_type FROM (DESCRIBE demo.{table})").fetchall()
        )
        mine = [c for c in types if c in own]
        if table == "marts.orders":
            mine.append("source_order_id")
        replace = ", ".join(
            "(100000000 + row_number() OVER ())::VARCHAR AS source_order_id"
            if c == "source_order_id"
            else f"p.{c}::{types[c]} AS {c}"
            for c in mine
        )
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        create_person_table(
            con,
            table,
            f"SELECT t.* REPLACE ({replace}) FROM persons p "
            f"JOIN demo.{table} t ON t.person_id = p.template",
        )
    for table in SHARED_TABLES:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM demo.{table}")
    con.unregister("people")
    con.execute("DETACH demo")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="the scratch DuckDB file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--reindex", action="store_true", help="only build the search index of --out again"
    )
    parser.add_argument(
        "--profiles-from", type=Path, help="a demo snapshot whose persons' rows fill the profiles"
    )
    args = parser.parse_args()

    import duckdb

    from app.search_index import DELETES, INITIALS, PAIRS, TERMS, VOCAB, build_search_index

    if args.out.exists() != args.reindex:
        raise SystemExit(f"{args.out}: give a new file, or an existing one with --reindex")
    started = time.perf_counter()
    with duckdb.connect(str(args.out)) as con:
        spill = args.out.with_suffix(".spill")
        con.execute(f"SET memory_limit = '3GB'; SET temp_directory = '{spill}'")
        if args.reindex:
            for table in (TERMS, VOCAB, DELETES, PAIRS, INITIALS):
                con.execute(f"DROP TABLE IF EXISTS {table}")
        elif args.profiles_from:
            _profiles(con, persons(args.persons, args.seed), args.profiles_from.resolve())
        else:
            _people(con, persons(args.persons, args.seed))
        build_search_index(con)
        con.execute("CHECKPOINT")
        sizes = {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            for table in (
                *(PROFILE_TABLES if args.profiles_from else ["marts.customer_360"]),
                *(TERMS, VOCAB, DELETES, PAIRS, INITIALS),
            )
        }
    rows = ", ".join(f"{table} {n:,}" for table, n in sizes.items())
    print(f"{args.out} in {time.perf_counter() - started:.0f} s: {rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
