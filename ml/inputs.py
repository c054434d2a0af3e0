"""The warehouse relations the models read, declared once (name -> SELECT over the marts).

`load_inputs` declares them as views over the warehouse or writes them into a DuckDB file,
standardised by the same code (`ChurnData.from_connection`, `BehaviourData.from_relations`).
The pipeline writes them once per run (`write_inputs`, the `ml/inputs` asset) into
`shared_path(warehouse)`, which every model then attaches read-only (`shared_inputs`): at 1.4M
customers writing them costs 40-90 s, which each of the seven model steps paid again before.
A step without a current shared file writes its own (`scratch_inputs`). Either way DuckDB runs
every feature query under its `memory_limit` and only the per-person results reach the
process.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from cdp.warehouse import table_exists
from ml.behaviour import BehaviourData
from ml.features import ChurnData
from ml.input_relations import RELATIONS

INPUTS = "ml_inputs"  # the attached in-memory database of the input views
SCRATCH = "ml_scratch"  # the attached DuckDB file of the input tables
WORK = "ml_work"  # beside a shared read-only file: the tables derived while training
MANIFEST = "_manifest"  # in a shared file: what `BehaviourData` needs to read it again
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
# the inputs read only when the warehouse holds their relations (dbt model names); orders always
NEEDS = {
    "product_events": ("stg_web__events", "int_web_sessions_attributed"),
    "order_lines": ("order_lines",),
    "tickets": ("service_tickets",),
    **{name: ("customer_timeline",) for name in (*TIMELINE_EVENTS, "identified")},
}


def sources(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> dict[str, str]:
    """The SELECT of each input of `names` that the warehouse holds (fully qualified, so that
    a view in another database reads the warehouse). Orders: `marts.orders` rows with a known
    person, cancelled orders left out (`channel`, `store_id` when the mart has them). Tickets:
    `marts.service_tickets`. E-mail events, web sessions, abandoned carts and the identifying
    moments: rows of `marts.customer_timeline`. Product events: product views and add-to-carts
    of the person's web sessions. Order lines: those of orders not cancelled. An input whose
    relations the warehouse lacks (`NEEDS`) is left out."""
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
            FROM {q(RELATIONS["orders"])} o WHERE person_id IS NOT NULL AND {KEPT}""",
        "product_events": f"""SELECT s.person_id AS customer_id, e.occurred_at,
                   e.product_sku AS sku,
                   CASE e.event_type WHEN 'product_view' THEN 'view' ELSE e.event_type END
                       AS event_type
            FROM {q(RELATIONS["stg_web__events"])} e
            JOIN {q(RELATIONS["int_web_sessions_attributed"])} s USING (session_id)
            WHERE s.person_id IS NOT NULL AND e.product_sku IS NOT NULL
              AND e.event_type IN ('product_view', 'add_to_cart')""",
        "order_lines": f"""SELECT l.person_id AS customer_id, l.ordered_at, l.sku, l.quantity
            FROM {q(RELATIONS["order_lines"])} l JOIN {q(RELATIONS["orders"])} o USING (order_key)
            WHERE l.person_id IS NOT NULL AND {KEPT}""",
    }
    out["tickets"] = f"""SELECT person_id AS customer_id, created_at, satisfaction
        FROM {q(RELATIONS["service_tickets"])} WHERE person_id IS NOT NULL"""
    timeline = q(RELATIONS["customer_timeline"])
    for name, (select, where) in TIMELINE_EVENTS.items():
        out[name] = f"SELECT {select} FROM {timeline} WHERE person_id IS NOT NULL AND {where}"
    out["identified"] = f"""SELECT person_id AS customer_id, occurred_at FROM {timeline}
        WHERE person_id IS NOT NULL AND {IDENTIFYING}"""
    held = {m for m in RELATIONS if table_exists(con, RELATIONS[m])}
    return {
        name: sql for name, sql in out.items() if name in names and set(NEEDS.get(name, ())) <= held
    }


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
    if table_exists(con, RELATIONS["stg_catalog__products"]):
        categories = con.sql(
            f"SELECT sku, category AS item_group FROM {RELATIONS['stg_catalog__products']}"
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


def shared_path(warehouse: Path) -> Path:
    """Where the run's shared inputs of the warehouse file `warehouse` live: beside it, so
    that each warehouse (the demo's, a test's, a bench's) has its own."""
    return warehouse.with_name(f"{warehouse.stem}.ml_inputs.duckdb")


def write_inputs(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, int]:
    """Every input (`CHURN_INPUTS`, `BEHAVIOUR_INPUTS`, the catalogue's categories) written
    into a new DuckDB file that replaces `path` in one rename (a step reading the old file
    keeps reading it), with a manifest for `shared_inputs`. Returns the rows per table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        data = load_inputs(con, (*CHURN_INPUTS, *BEHAVIOUR_INPUTS), tmp)
        base = data.base
        rows = {
            t: con.execute(f"SELECT count(*) FROM {data.ns}.{t}").fetchone()[0]
            for t in data.all_tables
        }
        manifest = {
            "has_channel": base.has_channel,
            "has_store": base.has_store,
            "extras": list(base.extras),
            "tables": list(data.tables),
        }
        con.execute(
            f"CREATE TABLE {data.ns}.{MANIFEST} AS SELECT ? AS manifest", [json.dumps(manifest)]
        )
        views = con.execute(
            "SELECT view_name FROM duckdb_views() WHERE database_name = ? AND NOT internal",
            [SCRATCH],
        ).fetchall()
        for (view,) in views:
            # the views over the warehouse the tables were written from: they name its database
            con.execute(f"DROP VIEW {data.ns}.{view}")
        con.execute(f"CHECKPOINT {SCRATCH}")
        con.execute(f"DETACH {SCRATCH}")
        os.replace(tmp, path)
    finally:
        con.execute(f"DETACH DATABASE IF EXISTS {SCRATCH}")
        tmp.unlink(missing_ok=True)
    return rows


@contextmanager
def shared_inputs(con: duckdb.DuckDBPyConnection, path: Path) -> Iterator[BehaviourData]:
    """The inputs `write_inputs` wrote to `path`, attached read-only (several steps may read
    the file at once), with the tables a training derives (samples, weights) in a scratch
    file of a private temporary directory, deleted on exit."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"ATTACH '{path}' AS {SCRATCH} (READ_ONLY)")
    try:
        with tempfile.TemporaryDirectory(prefix="cdp-ml-") as tmp:
            con.execute(f"ATTACH '{Path(tmp) / 'work.duckdb'}' AS {WORK}")
            try:
                ns = f"{SCRATCH}.main"
                (text,) = con.execute(f"SELECT manifest FROM {ns}.{MANIFEST}").fetchone()
                manifest = json.loads(text)
                base = ChurnData(
                    con=con,
                    has_channel=manifest["has_channel"],
                    has_store=manifest["has_store"],
                    extras=tuple(manifest["extras"]),
                    ns=ns,
                    work=f"{WORK}.main",
                )
                yield BehaviourData(base, tuple(manifest["tables"]))
            finally:
                con.execute(f"DETACH {WORK}")
    finally:
        con.execute(f"DETACH {SCRATCH}")
