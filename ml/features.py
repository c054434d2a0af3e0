"""Churn features and labels as of a cutoff date, computed set-based in DuckDB.

A cutoff is a calendar date `c`. "As of `c`" means every event strictly before
`c + 1 day` (the end of the cutoff day, UTC); nothing later is read. The label at `c` looks at
purchases in `[c + 1 day, c + 1 day + horizon)`.

The core needs only a plain orders table (`customer_id, order_id, ordered_at, amount`, optional
`channel, store_id, is_return`). Extra event tables add engagement features when given:
`tickets (customer_id, created_at, satisfaction)`, `email_events (customer_id, occurred_at,
event_type)`, `web_events (customer_id, occurred_at, session_id)` and
`carts (customer_id, abandoned_at, value)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import pandas as pd

from cdp.warehouse import connect as duckdb_connect

WINDOWS = (30, 90, 180, 365)
RFM_FEATURES = ("recency_days", "orders_all", "amount_all")
LOW_SATISFACTION = 2  # satisfaction 1-5; <= this counts as a low-satisfaction ticket
# Optional behaviour tables: name -> (timestamp column, other columns as SQL expressions).
EXTRA_TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "tickets": ("created_at", {"satisfaction": "TRY_CAST(satisfaction AS DOUBLE)"}),
    "email": ("occurred_at", {"event_type": "lower(CAST(event_type AS VARCHAR))"}),
    "web": ("occurred_at", {"session_id": "CAST(session_id AS VARCHAR)"}),
    "carts": ("abandoned_at", {"value": "CAST(value AS DOUBLE)"}),
}


def _ts(day: date) -> str:
    """SQL literal for the exclusive end of a cutoff day."""
    return f"TIMESTAMP '{(day + timedelta(days=1)).isoformat()} 00:00:00'"


def hash_cut_sql(population: str, max_rows: int, seed: int | None) -> str:
    """At most `max_rows` customers of `population` (SQL giving customer ids), the first in
    the order of a hash of the id (and `seed`, when given): the same customers whatever the
    row order, drawn without looking at anything but the id."""
    key = "customer_id" if seed is None else f"customer_id, {int(seed)}"
    return f"""SELECT customer_id FROM ({population})
        ORDER BY hash({key}), customer_id LIMIT {int(max_rows)}"""


def stratified_sql(population: str, positives: str, max_rows: int, seed: int) -> str:
    """At most `max_rows` customers of `population` (SQL giving customer ids), drawn within
    each label class in the order of a hash of the customer id and `seed`: the positives
    (customers of `positives`, SQL) keep their share of the population exactly, rounded (at
    least one when there is one), so a capped sample never loses the rare class to chance and
    its label rate — hence the calibration and the PR AUC of the models fitted on it — is the
    population's. Who is drawn depends on the label, so this is for labelled training rows
    only; the features of a drawn customer read nothing after the cutoff all the same."""
    m = int(max_rows)
    # a join, not `IN (subquery)` in the select list: that one took 1.7 s of CPU per draw at
    # 70,000 customers against 0.05 s
    quota = f"greatest(least(n_pos, 1), round({m} * n_pos / n))"
    return f"""SELECT customer_id FROM (
            SELECT e.customer_id, p.customer_id IS NOT NULL AS positive,
                   row_number() OVER (PARTITION BY p.customer_id IS NOT NULL
                                      ORDER BY hash(e.customer_id, {int(seed)}), e.customer_id)
                       AS k,
                   count(p.customer_id) OVER () AS n_pos,
                   count(*) OVER () AS n
            FROM ({population}) e
            LEFT JOIN (SELECT DISTINCT customer_id FROM ({positives})) p USING (customer_id))
        WHERE n <= {m} OR k <= CASE WHEN positive THEN {quota} ELSE {m} - {quota} END"""


#: the (event kind, days) windows the e-mail features count events in
EMAIL_WINDOWS = (
    ("open", 30),
    ("open", 90),
    ("open", 365),
    ("delivered", 90),
    ("delivered", 365),
    ("click", 90),
)

#: the features of each optional table (`extras`): the alias of its aggregate per customer
#: (`_extra_aggregates`) and each feature's expression over it and name
EXTRA_FEATURES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "tickets": (
        "t",
        [
            ("coalesce(t.n90, 0)", "tickets_90d"),
            ("coalesce(t.n365, 0)", "tickets_365d"),
            ("coalesce(t.low365, 0)", "tickets_low_sat_365d"),
            ("t.since_last", "days_since_last_ticket"),
        ],
    ),
    "email": (
        "e",
        [
            ("coalesce(e.o30, 0)", "email_opens_30d"),
            ("coalesce(e.o90, 0)", "email_opens_90d"),
            ("coalesce(e.o365, 0)", "email_opens_365d"),
            ("least(e.o90 / nullif(e.d90, 0), 1)", "email_open_rate_90d"),
            ("least(e.o365 / nullif(e.d365, 0), 1)", "email_open_rate_365d"),
            ("coalesce(e.c90, 0)", "email_clicks_90d"),
            ("coalesce(e.unsub, 0)", "email_unsubscribes_all"),
            ("e.since_open", "days_since_last_email_open"),
        ],
    ),
    "web": (
        "w",
        [
            ("coalesce(w.s30, 0)", "web_sessions_30d"),
            ("coalesce(w.s90, 0)", "web_sessions_90d"),
            ("coalesce(w.s365, 0)", "web_sessions_365d"),
            ("w.since_visit", "days_since_last_web_visit"),
        ],
    ),
    "carts": (
        "k",
        [
            ("coalesce(k.n90, 0)", "abandoned_carts_90d"),
            ("coalesce(k.v90, 0)", "abandoned_cart_value_90d"),
        ],
    ),
}


#: persons per range when a whole population's features are computed range by range
#: (`person_ranges`): one range's aggregates, sort and result stay within DuckDB's memory limit
CHUNK_PERSONS = 400_000


def person_ranges(con: duckdb.DuckDBPyConnection, population: str, size: int) -> list[str | None]:
    """The persons of `population` (SQL giving customer ids) cut into ranges of at most
    `size` customer ids: a condition on `customer_id` per range (`[None]` for one range), in
    id order, so frames computed range by range and put end to end are the whole frame sorted
    by id."""
    starts = [
        r[0]
        for r in con.execute(
            f"""SELECT customer_id FROM (
                SELECT customer_id, row_number() OVER (ORDER BY customer_id) - 1 AS r
                FROM ({population}))
            WHERE r % {int(size)} = 0 ORDER BY customer_id"""
        ).fetchall()
    ]
    if len(starts) <= 1:
        return [None]
    quoted = ["'" + str(s).replace("'", "''") + "'" for s in starts]
    return [
        f"customer_id >= {lo}" + (f" AND customer_id < {hi}" if hi else "")
        for lo, hi in zip(quoted, [*quoted[1:], None], strict=True)
    ]


@dataclass
class ChurnData:
    """Standardised event tables inside one DuckDB connection.

    Tables in schema `ns`: `orders(customer_id, order_id, ordered_at, amount, channel,
    store_id, is_return)`, `purchase_days(customer_id, day, gap_days)` and the optional
    `tickets`, `email`, `web`, `carts`.
    """

    con: duckdb.DuckDBPyConnection
    has_channel: bool
    has_store: bool
    extras: tuple[str, ...] = field(default_factory=tuple)
    ns: str = "churn"
    # the schema of the tables derived while training (samples, weights); "" for `ns` (the
    # inputs may be a read-only file shared by the models: `ml.inputs.shared_inputs`)
    work: str = ""
    # labelled training frames by cutoff and settings: the back-test and the final training
    # share most of their cutoffs (`ml.model.build_frame`)
    cache: dict = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frames(
        cls,
        orders: pd.DataFrame,
        *,
        tickets: pd.DataFrame | None = None,
        email_events: pd.DataFrame | None = None,
        web_events: pd.DataFrame | None = None,
        carts: pd.DataFrame | None = None,
        con: duckdb.DuckDBPyConnection | None = None,
        until: date | None = None,
        ns: str = "churn",
    ) -> ChurnData:
        """Build from DataFrames (or Arrow tables) with the standard column names."""
        con = con or duckdb_connect()
        con.execute("SET TimeZone = 'UTC'")
        sources = {
            "src_orders": orders,
            "src_tickets": tickets,
            "src_email": email_events,
            "src_web": web_events,
            "src_carts": carts,
        }
        for name, frame in sources.items():
            if frame is not None:
                con.register(name, frame)
        return cls.from_connection(
            con,
            orders="src_orders",
            tickets="src_tickets" if tickets is not None else None,
            email_events="src_email" if email_events is not None else None,
            web_events="src_web" if web_events is not None else None,
            carts="src_carts" if carts is not None else None,
            until=until,
            ns=ns,
        )

    @classmethod
    def from_connection(
        cls,
        con: duckdb.DuckDBPyConnection,
        *,
        orders: str,
        tickets: str | None = None,
        email_events: str | None = None,
        web_events: str | None = None,
        carts: str | None = None,
        until: date | None = None,
        ns: str = "churn",
        views: bool = False,
    ) -> ChurnData:
        """Standardise relations (table or view names in `con`) into tables of schema `ns`
        (with `views`, views: nothing is copied and every query reads the relations).

        With `until`, every event after the end of that day is left out, so nothing built on
        the result can see past it.
        """
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {ns}")
        kind = "VIEW" if views else "TABLE"
        end = _ts(until) if until is not None else "TIMESTAMP '9999-12-31 00:00:00'"

        cols = {c.lower() for c in con.execute(f"SELECT * FROM {orders} LIMIT 0").df().columns}
        missing = {"customer_id", "order_id", "ordered_at", "amount"} - cols
        if missing:
            raise ValueError(f"orders: missing required column(s) {sorted(missing)}")
        has_channel = "channel" in cols
        has_store = "store_id" in cols
        channel = "lower(trim(CAST(channel AS VARCHAR)))" if has_channel else "NULL::VARCHAR"
        store = "CAST(store_id AS VARCHAR)" if has_store else "NULL::VARCHAR"
        is_return = (
            "coalesce(CAST(is_return AS BOOLEAN), amount < 0)"
            if "is_return" in cols
            else "CAST(amount AS DOUBLE) < 0"
        )
        con.execute(
            f"""
            CREATE OR REPLACE {kind} {ns}.orders AS
            SELECT * FROM (
                SELECT CAST(customer_id AS VARCHAR) AS customer_id,
                       CAST(order_id AS VARCHAR) AS order_id,
                       CAST(ordered_at AS TIMESTAMP) AS ordered_at,
                       CAST(amount AS DOUBLE) AS amount,
                       {channel} AS channel,
                       nullif({store}, '') AS store_id,
                       {is_return} AS is_return
                FROM {orders}
                WHERE customer_id IS NOT NULL AND ordered_at IS NOT NULL
                  AND amount IS NOT NULL)
            WHERE ordered_at < {end}
            """
        )
        # One row per purchase day; gap_days = days since the previous purchase day. Filtering
        # `day < cutoff` keeps a prefix of each customer's sequence, so the gaps kept are exactly
        # the gaps inside the history before the cutoff.
        con.execute(
            f"""
            CREATE OR REPLACE {kind} {ns}.purchase_days AS
            SELECT customer_id, day,
                   date_diff('day', lag(day) OVER (PARTITION BY customer_id ORDER BY day), day)
                       AS gap_days
            FROM (SELECT DISTINCT customer_id, CAST(ordered_at AS DATE) AS day
                  FROM {ns}.orders WHERE NOT is_return)
            """
        )
        extras: list[str] = []
        relations = {"tickets": tickets, "email": email_events, "web": web_events, "carts": carts}
        for name, relation in relations.items():
            if not relation:
                continue
            ts, columns = EXTRA_TABLES[name]
            select = ", ".join(f"{expr} AS {alias}" for alias, expr in columns.items())
            con.execute(
                f"""CREATE OR REPLACE {kind} {ns}.{name} AS
                SELECT CAST(customer_id AS VARCHAR) AS customer_id,
                       CAST({ts} AS TIMESTAMP) AS {ts}, {select}
                FROM {relation} WHERE customer_id IS NOT NULL AND {ts} IS NOT NULL
                  AND CAST({ts} AS TIMESTAMP) < {end}"""
            )
            extras.append(name)
        return cls(
            con=con, has_channel=has_channel, has_store=has_store, extras=tuple(extras), ns=ns
        )

    @property
    def work_ns(self) -> str:
        return self.work or self.ns

    # ------------------------------------------------------------------ facts about the data
    def date_range(self) -> tuple[date | None, date | None]:
        """First and last purchase date (returns excluded)."""
        lo, hi = self.con.execute(
            f"SELECT min(ordered_at)::DATE, max(ordered_at)::DATE FROM {self.ns}.orders "
            "WHERE NOT is_return"
        ).fetchone()
        return lo, hi

    def data_hash(self) -> str:
        """Order-independent fingerprint of the standardised orders (count + xor of row hashes)."""
        n, h = self.con.execute(
            "SELECT count(*), coalesce(bit_xor(hash(customer_id, order_id, ordered_at, amount)), 0)"
            f" FROM {self.ns}.orders"
        ).fetchone()
        return f"{n}-{int(h):016x}"

    def outcome_at(self, cutoff: date, horizon_days: int, value_days: int) -> pd.DataFrame:
        """`customer_id, churned, orders, revenue` for every customer with a purchase on or
        before `cutoff`: churned = no purchase within `horizon_days` after it; orders
        (purchase days) and revenue (purchases, returns excluded) within `value_days`."""
        c = _ts(cutoff)
        return self.con.execute(
            f"""
            WITH p AS (SELECT DISTINCT customer_id FROM {self.ns}.orders
                       WHERE NOT is_return AND ordered_at < {c}),
                 f AS (SELECT customer_id, ordered_at, amount FROM {self.ns}.orders
                       WHERE NOT is_return AND ordered_at >= {c}),
                 y AS (SELECT DISTINCT customer_id FROM f
                       WHERE ordered_at < {c} + INTERVAL {int(horizon_days)} DAY),
                 v AS (SELECT customer_id, count(DISTINCT CAST(ordered_at AS DATE)) AS orders,
                              sum(amount) AS revenue
                       FROM f WHERE ordered_at < {c} + INTERVAL {int(value_days)} DAY
                       GROUP BY customer_id)
            SELECT p.customer_id, CAST(y.customer_id IS NULL AS TINYINT) AS churned,
                   coalesce(v.orders, 0)::DOUBLE AS orders,
                   coalesce(v.revenue, 0)::DOUBLE AS revenue
            FROM p LEFT JOIN y USING (customer_id) LEFT JOIN v USING (customer_id)
            ORDER BY p.customer_id
            """
        ).df()

    # ------------------------------------------------------------------ features
    def feature_names(self) -> list[str]:
        names = ["recency_days", "tenure_days", "orders_all", "amount_all", "avg_amount"]
        for w in WINDOWS:
            names += [f"orders_{w}d", f"amount_{w}d"]
        names += [
            "purchase_days",
            "gap_mean_days",
            "gap_std_days",
            "gap_max_days",
            "recency_over_gap_mean",
            "repeat_purchases_per_year",
            "returns_all",
            "returns_365d",
            "return_amount_all",
            "return_rate",
        ]
        if self.has_channel:
            names += ["share_web", "share_store"]
        if self.has_store:
            names += ["distinct_stores"]
        for extra, (_alias, columns) in EXTRA_FEATURES.items():
            if extra in self.extras:
                names += [name for _expr, name in columns]
        return names

    def _extra_aggregates(self, c: str, only: str = "") -> dict[str, str]:
        """The query of each optional table's aggregate per customer before cutoff `c` (`only`:
        a filter on the customers, for a sample)."""
        # e-mail events of a kind within a window: o30 = opens in the last 30 days, ...
        email_counts = ", ".join(
            f"count(*) FILTER (WHERE event_type = '{kind}' "
            f"AND occurred_at >= {c} - INTERVAL {days} DAY) AS {kind[0]}{days}"
            for kind, days in EMAIL_WINDOWS
        )
        return {
            "tickets": f"""
                SELECT customer_id,
                       count(*) FILTER (WHERE created_at >= {c} - INTERVAL 90 DAY) AS n90,
                       count(*) FILTER (WHERE created_at >= {c} - INTERVAL 365 DAY) AS n365,
                       count(*) FILTER (WHERE created_at >= {c} - INTERVAL 365 DAY
                                        AND satisfaction <= {LOW_SATISFACTION}) AS low365,
                       date_diff('second', max(created_at), {c}) / 86400.0 AS since_last
                FROM {self.ns}.tickets WHERE created_at < {c}{only} GROUP BY customer_id""",
            "email": f"""
                SELECT customer_id, {email_counts},
                       count(*) FILTER (WHERE event_type = 'unsubscribe') AS unsub,
                       date_diff('second', max(occurred_at) FILTER (WHERE event_type = 'open'),
                                 {c}) / 86400.0 AS since_open
                FROM {self.ns}.email WHERE occurred_at < {c}{only} GROUP BY customer_id""",
            "web": f"""
                SELECT customer_id,
                       count(DISTINCT session_id) FILTER (
                           WHERE occurred_at >= {c} - INTERVAL 30 DAY) AS s30,
                       count(DISTINCT session_id) FILTER (
                           WHERE occurred_at >= {c} - INTERVAL 90 DAY) AS s90,
                       count(DISTINCT session_id) FILTER (
                           WHERE occurred_at >= {c} - INTERVAL 365 DAY) AS s365,
                       date_diff('second', max(occurred_at), {c}) / 86400.0 AS since_visit
                FROM {self.ns}.web WHERE occurred_at < {c}{only} GROUP BY customer_id""",
            "carts": f"""
                SELECT customer_id, count(*) AS n90, sum(value) AS v90
                FROM {self.ns}.carts
                WHERE abandoned_at < {c} AND abandoned_at >= {c} - INTERVAL 90 DAY{only}
                GROUP BY customer_id""",
        }

    def eligible_sql(self, cutoff: date) -> str:
        """The customers with a purchase on or before `cutoff`."""
        return f"""SELECT DISTINCT customer_id FROM {self.ns}.orders
            WHERE NOT is_return AND ordered_at < {_ts(cutoff)}"""

    def bought_within_sql(self, cutoff: date, horizon_days: int) -> str:
        """The customers with a purchase in `[cutoff + 1 day, + horizon)` (the label window)."""
        c = _ts(cutoff)
        return f"""SELECT DISTINCT customer_id FROM {self.ns}.orders
            WHERE NOT is_return AND ordered_at >= {c}
              AND ordered_at < {c} + INTERVAL {int(horizon_days)} DAY"""

    def sample_sql(
        self, cutoff: date, max_rows: int, seed: int, horizon_days: int | None = None
    ) -> str:
        """The customers eligible at `cutoff` cut to `max_rows` by a deterministic hash of the
        customer id and `seed` (the same customers whatever the row order); with
        `horizon_days`, stratified by the label (`stratified_sql`: the customers who buy
        again, the rarer class, and the churners keep their shares)."""
        if horizon_days is not None:
            buyers = self.bought_within_sql(cutoff, horizon_days)
            return stratified_sql(self.eligible_sql(cutoff), buyers, max_rows, seed)
        return hash_cut_sql(self.eligible_sql(cutoff), max_rows, seed)

    def _feature_sql(
        self, cutoff: date, horizon_days: int | None, population: str | None = None
    ) -> str:
        """With `population` (SQL giving customer ids) every aggregate reads only those
        customers' rows: a sample costs its size, not the base's."""
        c = _ts(cutoff)
        only = " AND customer_id IN (SELECT customer_id FROM pop)" if population else ""
        win = ",\n".join(
            f"count(*) FILTER (WHERE ordered_at >= {c} - INTERVAL {w} DAY) AS orders_{w}d, "
            f"coalesce(sum(amount) FILTER (WHERE ordered_at >= {c} - INTERVAL {w} DAY), 0) "
            f"AS amount_{w}d"
            for w in WINDOWS
        )
        channel = (
            """, avg(CASE WHEN channel = 'web' THEN 1.0 WHEN channel IS NOT NULL THEN 0.0 END)
                  AS share_web,
                avg(CASE WHEN channel = 'store' THEN 1.0 WHEN channel IS NOT NULL THEN 0.0 END)
                  AS share_store"""
            if self.has_channel
            else ""
        )
        store = ", count(DISTINCT store_id) AS distinct_stores" if self.has_store else ""
        ctes = [
            f"""p AS (
                SELECT customer_id,
                       date_diff('second', max(ordered_at), {c}) / 86400.0 AS recency_days,
                       date_diff('second', min(ordered_at), {c}) / 86400.0 AS tenure_days,
                       count(*) AS orders_all,
                       sum(amount) AS amount_all,
                       avg(amount) AS avg_amount,
                       {win}{channel}{store}
                FROM {self.ns}.orders
                WHERE NOT is_return AND ordered_at < {c}{only}
                GROUP BY customer_id)""",
            f"""g AS (
                SELECT customer_id, count(*) AS purchase_days,
                       avg(gap_days) AS gap_mean_days,
                       stddev_samp(gap_days) AS gap_std_days,
                       max(gap_days) AS gap_max_days
                FROM {self.ns}.purchase_days WHERE day < CAST({c} AS DATE){only}
                GROUP BY customer_id)""",
            f"""r AS (
                SELECT customer_id, count(*) AS returns_all,
                       count(*) FILTER (WHERE ordered_at >= {c} - INTERVAL 365 DAY)
                           AS returns_365d,
                       sum(abs(amount)) AS return_amount_all
                FROM {self.ns}.orders WHERE is_return AND ordered_at < {c}{only}
                GROUP BY customer_id)""",
        ]
        select = [
            "p.*",
            "g.purchase_days",
            "g.gap_mean_days",
            "g.gap_std_days",
            "g.gap_max_days",
            "p.recency_days / nullif(g.gap_mean_days, 0) AS recency_over_gap_mean",
            "(g.purchase_days - 1) * 365.25 / greatest(p.tenure_days, 30)"
            " AS repeat_purchases_per_year",
            "coalesce(r.returns_all, 0) AS returns_all",
            "coalesce(r.returns_365d, 0) AS returns_365d",
            "coalesce(r.return_amount_all, 0) AS return_amount_all",
            "coalesce(r.returns_all, 0) / p.orders_all AS return_rate",
        ]
        joins = [
            "LEFT JOIN g USING (customer_id)",
            "LEFT JOIN r USING (customer_id)",
        ]
        aggregates = self._extra_aggregates(c, only)
        for extra, (alias, columns) in EXTRA_FEATURES.items():
            if extra in self.extras:
                ctes.append(f"{alias} AS ({aggregates[extra]})")
                select += [f"{expr} AS {name}" for expr, name in columns]
                joins.append(f"LEFT JOIN {alias} USING (customer_id)")
        if horizon_days is not None:
            ctes.append(
                f"""y AS (
                SELECT DISTINCT customer_id FROM {self.ns}.orders
                WHERE NOT is_return AND ordered_at >= {c}
                  AND ordered_at < {c} + INTERVAL {int(horizon_days)} DAY{only})"""
            )
            select.append("CAST(y.customer_id IS NULL AS INTEGER) AS churned")
            joins.append("LEFT JOIN y USING (customer_id)")
        if population:
            # computed once: every aggregate reads it (a stratified draw is a window query)
            ctes.insert(0, f"pop AS MATERIALIZED ({population})")
        return (
            "WITH "
            + ",\n".join(ctes)
            + f"\nSELECT DATE '{cutoff.isoformat()}' AS cutoff, "
            + ", ".join(select)
            + "\nFROM p "
            + " ".join(joins)
        )

    def features_at(
        self,
        cutoff: date,
        *,
        horizon_days: int | None = None,
        max_rows: int | None = None,
        seed: int = 0,
        population: str | None = None,
    ) -> pd.DataFrame:
        """One row per customer with at least one purchase on or before `cutoff` (with
        `population`, SQL giving customer ids: those of them only).

        Columns: `customer_id, cutoff`, the features of `feature_names()`, and `churned`
        (1 = no purchase within `horizon_days` after the cutoff) when a horizon is given.
        `max_rows` keeps a deterministic hash sample of customers (stratified by the label
        when a horizon is given: `sample_sql`). Rows are sorted by
        `customer_id` so that downstream results do not depend on DuckDB's thread scheduling.
        The whole population is computed `CHUNK_PERSONS` customers at a time (`person_ranges`:
        a person's features read only that person's rows, so the frames put end to end are
        the frame computed at once; at 1.4M customers at once needed more than 2 GB in DuckDB).
        """
        if population is None and max_rows is None:
            eligible = self.eligible_sql(cutoff)
            ranges = person_ranges(self.con, eligible, CHUNK_PERSONS)
            if len(ranges) > 1:
                parts = [
                    self.features_at(
                        cutoff,
                        horizon_days=horizon_days,
                        population=f"SELECT customer_id FROM ({eligible}) WHERE {where}",
                    )
                    for where in ranges
                ]
                return pd.concat(parts, ignore_index=True)
        if population is None and max_rows is not None:
            population = self.sample_sql(cutoff, max_rows, seed, horizon_days)
        sql = self._feature_sql(cutoff, horizon_days, population)
        df = self.con.execute(f"SELECT * FROM ({sql}) ORDER BY customer_id").df()
        names = self.feature_names()
        df[names] = df[names].astype("float64")
        if "churned" in df:
            df["churned"] = df["churned"].astype("int8")
        return df[["customer_id", "cutoff", *names, *(["churned"] if "churned" in df else [])]]
