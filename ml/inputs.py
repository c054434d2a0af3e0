"""The warehouse relations the models read, declared once (name -> SELECT over the marts).

`load_inputs` declares them as views over the warehouse (the recommender: a few queries) or
writes them once into a scratch DuckDB file (`scratch_inputs`: churn, propensity and leads,
dozens of feature queries), standardised
by the same code (`ChurnData.from_connection`, `BehaviourData.from_relations`). Either way
DuckDB runs every feature query under its `memory_limit` and only the per-person results reach
the process.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from cdp.warehouse import table_exists
from ml.behaviour import BehaviourData
from ml.features import ChurnData

INPUTS = "ml_inputs"  # the attached in-memory database of the input views
SCRATCH = "ml_scratch"  # the attached DuckDB file of the input tables
KEPT = "coalesce(lower(o.status), '') NOT IN ('canceled', 'cancelled')"
# moments a person is known (name, e-mail or account): every timeline row but anonymous visits
IDENTIFYING = "event_type <> 'web_session'"
TIMELINE_EVENTS = {
    # ChurnData table -> (select list, filter) on marts.customer_timeline
    "email_events": (
        "person_id AS customer_id, occurred_at, replace(event_type, 'campaign_', '') AS event_type",
        "starts_with(event_type, 'campaign_') AND channel = 'email'",
    ),
    "web_events": (
        "person_id AS customer_id, occurred_at, reference AS session_id",
        "event_type = 'web_session'",
    ),
    "carts": (
        "person_id AS customer_id, occurred_at AS abandoned_at, amount AS value",
        "event_type = 'cart_abandoned'",
    ),
}
CHURN_INPUTS = ("orders", "tickets", *TIMELINE_EVENTS)
BEHAVIOUR_INPUTS = ("product_events", "order_lines", "identified")
RECOMMENDER_INPUTS = ("orders", *BEHAVIOUR_INPUTS)


def sources(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> dict[str, str]:
    """The SELECT of each input of `names` that the warehouse holds (fully qualified, so that
    a view in another database reads the warehouse). Orders: `marts.orders` rows with a known
    person, cancelled orders left out (`channel`, `store_id` when the mart has them). Tickets:
    `marts.service_tickets`. E-mail events, web sessions, abandoned carts and the identifying
    moments: rows of `marts.customer_timeline`. Product events: product views and add-to-carts
    of the person's web sessions. Order lines: those of orders not cancelled."""
    db = con.execute("SELECT current_database()").fetchone()[0]

    def q(relation: str) -> str:
        return f'"{db}".{relation}'

    columns = {
        r[0]
        for r in con.execute(
            """SELECT column_name FROM information_schema.columns
            WHERE table_catalog = ? AND table_schema = 'marts' AND table_name = 'orders'""",
            [db],
        ).fetchall()
    }
    optional = "".join(f", {c}" for c in ("channel", "store_id") if c in columns)
    out = {
        "orders": f"""SELECT person_id AS customer_id, order_key AS order_id, ordered_at,
                   net_amount AS amount{optional}, is_return
            FROM {q("marts.orders")} o WHERE person_id IS NOT NULL AND {KEPT}""",
        "product_events": f"""SELECT s.person_id AS customer_id, e.occurred_at,
                   e.product_sku AS sku,
                   CASE e.event_type WHEN 'product_view' THEN 'view' ELSE e.event_type END
                       AS event_type
            FROM {q("staging.stg_web__events")} e
            JOIN {q("intermediate.int_web_sessions_attributed")} s USING (session_id)
            WHERE s.person_id IS NOT NULL AND e.product_sku IS NOT NULL
              AND e.event_type IN ('product_view', 'add_to_cart')""",
        "order_lines": f"""SELECT l.person_id AS customer_id, l.ordered_at, l.sku, l.quantity
            FROM {q("marts.order_lines")} l JOIN {q("marts.orders")} o USING (order_key)
            WHERE l.person_id IS NOT NULL AND {KEPT}""",
    }
    if table_exists(con, "marts.service_tickets"):
        out["tickets"] = f"""SELECT person_id AS customer_id, created_at, satisfaction
            FROM {q("marts.service_tickets")} WHERE person_id IS NOT NULL"""
    if table_exists(con, "marts.customer_timeline"):
        timeline = q("marts.customer_timeline")
        for name, (select, where) in TIMELINE_EVENTS.items():
            out[name] = f"SELECT {select} FROM {timeline} WHERE person_id IS NOT NULL AND {where}"
        out["identified"] = f"""SELECT person_id AS customer_id, occurred_at FROM {timeline}
            WHERE person_id IS NOT NULL AND {IDENTIFYING}"""
    return {name: sql for name, sql in out.items() if name in names}


def load_inputs(
    con: duckdb.DuckDBPyConnection,
    names: tuple[str, ...] = (*CHURN_INPUTS, *BEHAVIOUR_INPUTS),
    database: Path | None = None,
) -> BehaviourData:
    """The inputs of `names`, standardised, plus the catalogue's categories (a small copy,
    when the warehouse has the catalogue); the data is usable while `con` is open.

    Without `database`: views over the warehouse in the attached in-memory database
    `ml_inputs`, nothing copied (for a few queries). With `database` (a new DuckDB file):
    tables written once into that file, attached as `ml_scratch` — for many queries, since a
    view joins and casts the marts again at each one; the rows live on disk under DuckDB's
    buffer manager (its `memory_limit`), not in the process's heap."""
    con.execute("SET TimeZone = 'UTC'")
    alias = INPUTS if database is None else SCRATCH
    con.execute(f"ATTACH IF NOT EXISTS '{database or ':memory:'}' AS {alias}")
    ns = f"{alias}.main"
    relations = {}
    for name, sql in sources(con, names).items():
        con.execute(f"CREATE OR REPLACE VIEW {ns}.src_{name} AS {sql}")
        relations[name] = f"{ns}.src_{name}"
    views = database is None
    base = ChurnData.from_connection(
        con,
        orders=relations["orders"],
        **{n: relations.get(n) for n in CHURN_INPUTS if n != "orders"},
        ns=ns,
        views=views,
    )
    behaviour = {n: relations[n] for n in BEHAVIOUR_INPUTS if n in relations}
    data = BehaviourData.from_relations(base, behaviour, views=views)
    if table_exists(con, "staging.stg_catalog__products"):
        categories = con.sql(
            "SELECT sku, category AS item_group FROM staging.stg_catalog__products"
        ).to_arrow_table()
        data = data.with_item_groups(categories)
    if not views:
        con.execute(f"CHECKPOINT {alias}")  # nothing left to write when the file goes
    return data


@contextmanager
def scratch_inputs(
    con: duckdb.DuckDBPyConnection, names: tuple[str, ...] = (*CHURN_INPUTS, *BEHAVIOUR_INPUTS)
) -> Iterator[BehaviourData]:
    """`load_inputs` into a DuckDB file of a private temporary directory, detached and
    deleted on exit."""
    with tempfile.TemporaryDirectory(prefix="cdp-ml-") as tmp:
        data = load_inputs(con, names, Path(tmp) / "inputs.duckdb")
        try:
            yield data
        finally:
            con.execute(f"DETACH {SCRATCH}")
