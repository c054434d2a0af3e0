"""Behaviour data for purchase propensity, lead scoring and recommendations, as of a cutoff.

Extends `ChurnData` (orders, e-mail, web sessions, abandoned carts in one DuckDB connection)
with three time-stamped tables in the same schema:
`product_events(customer_id, occurred_at, sku, event_type)` (web `view` / `add_to_cart`),
`order_lines(customer_id, ordered_at, sku, quantity)` and
`identified(customer_id, occurred_at)`: moments a person is known by name or address (a login,
an event sign-up, a consent statement, a campaign message, a ticket, a purchase). Everything is
read strictly before the end of the cutoff day, as in `ml/features.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import duckdb
import pandas as pd

from ml.features import ChurnData, _ts

# name -> (timestamp column, other columns as SQL expressions) for the extra tables
BEHAVIOUR_TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "product_events": (
        "occurred_at",
        {
            "sku": "upper(CAST(sku AS VARCHAR))",
            "event_type": "lower(CAST(event_type AS VARCHAR))",
        },
    ),
    "order_lines": (
        "ordered_at",
        {"sku": "upper(CAST(sku AS VARCHAR))", "quantity": "CAST(quantity AS DOUBLE)"},
    ),
    "identified": ("occurred_at", {}),
}

# Activity features: name -> SQL aggregate over the CTE's table (alias in brackets below).
PRODUCT_FEATURES = {
    "product_views_7d": "count(*) FILTER (WHERE event_type = 'view' AND occurred_at >= {c} - INTERVAL 7 DAY)",
    "product_views_30d": "count(*) FILTER (WHERE event_type = 'view' AND occurred_at >= {c} - INTERVAL 30 DAY)",
    "add_to_carts_7d": "count(*) FILTER (WHERE event_type = 'add_to_cart' AND occurred_at >= {c} - INTERVAL 7 DAY)",
    "add_to_carts_30d": "count(*) FILTER (WHERE event_type = 'add_to_cart' AND occurred_at >= {c} - INTERVAL 30 DAY)",
    "distinct_products_viewed_30d": "count(DISTINCT sku) FILTER (WHERE occurred_at >= {c} - INTERVAL 30 DAY)",
    "days_since_last_product_view": "date_diff('second', max(occurred_at) FILTER (WHERE event_type = 'view'), {c}) / 86400.0",
    "days_since_last_add_to_cart": "date_diff('second', max(occurred_at) FILTER (WHERE event_type = 'add_to_cart'), {c}) / 86400.0",
}
SESSION_FEATURES = {
    "web_sessions_7d": "count(DISTINCT session_id) FILTER (WHERE occurred_at >= {c} - INTERVAL 7 DAY)",
    "web_sessions_30d": "count(DISTINCT session_id) FILTER (WHERE occurred_at >= {c} - INTERVAL 30 DAY)",
    "web_sessions_90d": "count(DISTINCT session_id) FILTER (WHERE occurred_at >= {c} - INTERVAL 90 DAY)",
    "days_since_last_web_visit": "date_diff('second', max(occurred_at), {c}) / 86400.0",
}
CART_FEATURES = {
    "abandoned_carts_30d": "count(*) FILTER (WHERE abandoned_at >= {c} - INTERVAL 30 DAY)",
    "abandoned_cart_value_30d": "coalesce(sum(value) FILTER (WHERE abandoned_at >= {c} - INTERVAL 30 DAY), 0)",
    "days_since_last_abandoned_cart": "date_diff('second', max(abandoned_at), {c}) / 86400.0",
}
EMAIL_FEATURES = {
    "email_opens_30d": "count(*) FILTER (WHERE event_type = 'open' AND occurred_at >= {c} - INTERVAL 30 DAY)",
    "email_opens_90d": "count(*) FILTER (WHERE event_type = 'open' AND occurred_at >= {c} - INTERVAL 90 DAY)",
    "email_clicks_30d": "count(*) FILTER (WHERE event_type = 'click' AND occurred_at >= {c} - INTERVAL 30 DAY)",
    "days_since_last_email_open": "date_diff('second', max(occurred_at) FILTER (WHERE event_type = 'open'), {c}) / 86400.0",
}
IDENTITY_FEATURES = {
    "days_since_identified": "date_diff('second', min(occurred_at), {c}) / 86400.0",
    "identified_touches_90d": "count(*) FILTER (WHERE occurred_at >= {c} - INTERVAL 90 DAY)",
    "days_since_last_touch": "date_diff('second', max(occurred_at), {c}) / 86400.0",
}
# table in the schema -> its feature block; a block is used only when its table was given
BLOCKS: dict[str, dict[str, str]] = {
    "product_events": PRODUCT_FEATURES,
    "web": SESSION_FEATURES,
    "carts": CART_FEATURES,
    "email": EMAIL_FEATURES,
    "identified": IDENTITY_FEATURES,
}
TIMESTAMP = {"product_events": "occurred_at", "web": "occurred_at", "carts": "abandoned_at"}


@dataclass
class BehaviourData:
    """`ChurnData` plus product events, order lines and identification moments."""

    base: ChurnData
    tables: tuple[str, ...]
    cache: dict = field(default_factory=dict, repr=False)  # labelled frames by (task, cutoff)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.base.con

    @property
    def ns(self) -> str:
        return self.base.ns

    @property
    def work_ns(self) -> str:
        return self.base.work_ns

    @property
    def all_tables(self) -> tuple[str, ...]:
        """Every table of schema `ns`: the churn tables and the behaviour tables."""
        return ("orders", "purchase_days", *self.base.extras, *self.tables)

    @classmethod
    def from_frames(cls, orders: pd.DataFrame, **frames: pd.DataFrame | None) -> BehaviourData:
        """Standard column names; `frames` are the tables of `BEHAVIOUR_TABLES` and the
        optional tables of `ChurnData.from_frames`."""
        behaviour = {name: frames.pop(name) for name in BEHAVIOUR_TABLES if name in frames}
        return cls.extend(ChurnData.from_frames(orders, **frames), **behaviour)

    @classmethod
    def extend(cls, base: ChurnData, **frames: pd.DataFrame | None) -> BehaviourData:
        """Add the tables of `BEHAVIOUR_TABLES` (DataFrames or Arrow tables) to `base`."""
        given = {name: frame for name, frame in frames.items() if frame is not None}
        for name, frame in given.items():
            base.con.register(f"_src_{name}", frame)
        try:
            return cls.from_relations(base, {name: f"_src_{name}" for name in given})
        finally:
            for name in given:
                base.con.unregister(f"_src_{name}")

    @classmethod
    def from_relations(
        cls, base: ChurnData, relations: dict[str, str], views: bool = False
    ) -> BehaviourData:
        """Standardise the relations (name in `BEHAVIOUR_TABLES` -> table or view in `con`)
        into tables of `base`'s schema (with `views`, views over the relations)."""
        kind = "VIEW" if views else "TABLE"
        for name, relation in relations.items():
            ts, columns = BEHAVIOUR_TABLES[name]
            select = "".join(f", {expr} AS {alias}" for alias, expr in columns.items())
            base.con.execute(
                f"""CREATE OR REPLACE {kind} {base.ns}.{name} AS
                SELECT CAST(customer_id AS VARCHAR) AS customer_id,
                       CAST({ts} AS TIMESTAMP) AS {ts}{select}
                FROM {relation} WHERE customer_id IS NOT NULL AND {ts} IS NOT NULL"""
            )
        return cls(base=base, tables=tuple(relations))

    def with_item_groups(self, frame: pd.DataFrame) -> BehaviourData:
        """Add `item_groups(sku, item_group)`: the catalogue's categories (several rows for a
        product in several). Read as they are today: a category is a product attribute, not
        an event, so it has no date to cut at."""
        self.con.register("_src_item_groups", frame)
        self.con.execute(
            f"""CREATE OR REPLACE TABLE {self.ns}.item_groups AS
            SELECT DISTINCT upper(CAST(sku AS VARCHAR)) AS sku,
                   CAST(item_group AS VARCHAR) AS item_group
            FROM _src_item_groups WHERE sku IS NOT NULL AND item_group IS NOT NULL"""
        )
        self.con.unregister("_src_item_groups")
        return BehaviourData(self.base, (*self.tables, "item_groups"), self.cache)

    def restricted(self, persons: str, ns: str) -> BehaviourData:
        """A copy of every table with the rows of the persons of `persons` (SQL giving
        customer ids) only, in schema `ns` (tables without persons, the categories, as views):
        a person's features read nothing but that person's rows, so the features of a sample
        computed on the copy are those computed on the whole data, for one scan of each table
        instead of one per cutoff. The caller drops the schema."""
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {ns}")
        self.con.execute(
            f"CREATE OR REPLACE TABLE {ns}._persons AS SELECT DISTINCT customer_id FROM ({persons})"
        )
        for name in self.all_tables:
            source = f"{self.ns}.{name}"
            columns = self.con.sql(f"SELECT * FROM {source} LIMIT 0").columns
            if "customer_id" in columns:
                self.con.execute(
                    f"""CREATE OR REPLACE TABLE {ns}.{name} AS SELECT * FROM {source}
                    WHERE customer_id IN (SELECT customer_id FROM {ns}._persons)"""
                )
            else:
                self.con.execute(f"CREATE OR REPLACE VIEW {ns}.{name} AS SELECT * FROM {source}")
        return BehaviourData(replace(self.base, ns=ns, work="", cache={}), self.tables)

    # ------------------------------------------------------------------ populations
    def has(self, table: str) -> bool:
        return table in self.tables or table in self.base.extras

    def lead_population_sql(self, cutoff: date) -> str:
        """Persons identified before the end of `cutoff` who never bought before it."""
        c = _ts(cutoff)
        if not self.has("identified"):
            raise ValueError("lead scoring needs the `identified` table")
        return f"""SELECT DISTINCT customer_id FROM {self.ns}.identified
            WHERE occurred_at < {c} AND customer_id NOT IN (
                SELECT customer_id FROM {self.ns}.orders WHERE NOT is_return AND ordered_at < {c})"""

    def buyer_population_sql(self, cutoff: date) -> str:
        c = _ts(cutoff)
        return f"""SELECT DISTINCT customer_id FROM {self.ns}.orders
            WHERE NOT is_return AND ordered_at < {c}"""

    # ------------------------------------------------------------------ features
    def activity_names(self, skip: set[str] = frozenset()) -> list[str]:
        names = []
        for table, block in BLOCKS.items():
            if self.has(table):
                names += [n for n in block if n not in skip]
        return names

    def activity_at(
        self, cutoff: date, population_sql: str, skip: set[str] = frozenset()
    ) -> pd.DataFrame:
        """`customer_id` + the activity features of every person of `population_sql`,
        nothing read on or after the end of the cutoff day; counts default to 0."""
        c = _ts(cutoff)
        ctes, select, joins = [f"pop AS MATERIALIZED ({population_sql})"], ["pop.customer_id"], []
        for i, (table, block) in enumerate(BLOCKS.items()):
            names = [n for n in block if n not in skip] if self.has(table) else []
            if not names:
                continue
            ts = TIMESTAMP.get(table, "occurred_at")
            alias = f"a{i}"
            aggs = ", ".join(f"{block[n].format(c=c)} AS {n}" for n in names)
            ctes.append(
                f"""{alias} AS (SELECT customer_id, {aggs} FROM {self.ns}.{table}
                WHERE {ts} < {c} AND customer_id IN (SELECT customer_id FROM pop)
                GROUP BY customer_id)"""
            )
            for n in names:
                expr = f"{alias}.{n}"
                select.append(expr if n.startswith("days_since") else f"coalesce({expr}, 0) AS {n}")
            joins.append(f"LEFT JOIN {alias} USING (customer_id)")
        sql = f"WITH {', '.join(ctes)} SELECT {', '.join(select)} FROM pop {' '.join(joins)}"
        frame = self.con.execute(f"SELECT * FROM ({sql}) ORDER BY customer_id").df()
        names = [col for col in frame.columns if col != "customer_id"]
        frame[names] = frame[names].astype("float64")
        return frame

    def bought_within(self, cutoff: date, horizon_days: int) -> pd.DataFrame:
        """`customer_id` of everyone with a purchase in `[cutoff + 1 day, + horizon)`."""
        return self.con.execute(self.base.bought_within_sql(cutoff, horizon_days)).df()
