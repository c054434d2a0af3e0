"""The marts on a small generated retailer: every mart builds, dbt tests pass, and the
business invariants BI and activation rely on hold.

One warehouse is built for the whole module (generation, ingestion, dbt staging and identity
models, identity resolution, dbt golden record and marts), then only read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from cdp.settings import PROJECT_ROOT, Settings, get_settings

DBT_PROJECT = PROJECT_ROOT / "dbt_project"

MARTS = [
    "orders",
    "order_lines",
    "customer_timeline",
    "rfm",
    "engagement",
    "service_tickets",
    "customer_consent",
    "consent_history",
    "customer_360",
]


def dbt_paths(work: Path) -> list[str]:
    """The project, its profile, and a target and log folder of the test's own."""
    return [
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]


def point_at(mp: pytest.MonkeyPatch, data_dir: Path) -> None:
    """Every platform path (landing, warehouse, Dagster home) under `data_dir`."""
    mp.setenv("CDP_DATA_DIR", str(data_dir))
    for var in ("CDP_LANDING_DIR", "CDP_GROUND_TRUTH_DIR", "CDP_MODELS_DIR"):
        mp.delenv(var, raising=False)
    mp.setenv("CDP_WAREHOUSE", str(data_dir / "warehouse.duckdb"))
    mp.setenv("DAGSTER_HOME", str(data_dir / "dagster_home"))


def ingest_generated(mp: pytest.MonkeyPatch, data_dir: Path, customers: int, seed: int) -> Settings:
    """A generated retailer landed under `data_dir` (paths pointed there) and ingested."""
    from cdp_demo.generator import generate

    from ingestion.pipeline import run_all

    point_at(mp, data_dir)
    generate(customers=customers, seed=seed, out=data_dir)
    settings = get_settings()
    report = run_all(settings)
    assert not report["errors"], report["errors"]
    return settings


def _dbt(args: list[str], work: Path) -> list:
    """Run dbt in-process on the project; returns the node results, fails on any error."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke([*args, *dbt_paths(work)])
    assert result.exception is None, f"dbt {' '.join(args)}: {result.exception}"
    failed = [
        f"{r.node.unique_id}: {r.status} {r.message}"
        for r in (result.result or [])
        if str(r.status) not in ("success", "pass", "warn")
    ]
    assert result.success and not failed, f"dbt {' '.join(args)}:\n" + "\n".join(failed)
    return list(result.result)


def write_identity_graph(warehouse: Path) -> None:
    """identity.identity_graph from the identity engine, as the transform asset writes it (the
    previous graph, when there is one, keeps the person ids of the records it knew)."""
    from identity.config import load_config
    from identity.engine import resolve

    with duckdb.connect(str(warehouse)) as con:
        records = con.execute("select * from intermediate.int_identity_records_unioned").df()
        identifiers = con.execute(
            "select record_id, id_type, id_value from intermediate.int_identifiers_unioned"
        ).df()
        previous = None
        if con.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'identity' and table_name = 'identity_graph'"
        ).fetchall()[0][0]:
            previous = con.execute("select * from identity.identity_graph").df()
        graph = resolve(records, identifiers, load_config(), previous).graph
        graph = graph.merge(records[["record_id", "source_system", "source_key"]], on="record_id")
        con.register("resolved_graph", graph)
        con.execute("create schema if not exists identity")
        con.execute(
            "create or replace table identity.identity_graph as "
            "select record_id, source_system, source_key, cast(person_id as varchar) as person_id,"
            " match_rule from resolved_graph"
        )


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Generate ~1500 customers, ingest, run dbt + identity resolution; yields the results."""
    root = tmp_path_factory.mktemp("marts")
    with pytest.MonkeyPatch.context() as mp:
        settings = ingest_generated(mp, root / "data", customers=1500, seed=7)
        _dbt(["build", "--select", "staging intermediate.identity"], root)
        write_identity_graph(settings.warehouse)
        # customer_profiles reads ml.churn_scores, written by the ML domain from these marts
        results = _dbt(
            [
                "build",
                "--select",
                "intermediate.golden+ intermediate.marts_prep+ marts",
                "--exclude",
                "customer_profiles",
            ],
            root,
        )
        yield {"warehouse": settings.warehouse, "results": results, "root": root}


@pytest.fixture(scope="module")
def con(build: dict) -> Iterator[duckdb.DuckDBPyConnection]:
    # read-write: dbt-duckdb keeps its own connection to the file open in this process, and
    # DuckDB refuses a second connection with a different configuration
    with duckdb.connect(str(build["warehouse"])) as connection:
        yield connection


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def test_every_mart_builds_with_rows(con: duckdb.DuckDBPyConnection) -> None:
    for mart in MARTS:
        assert scalar(con, f"select count(*) from marts.{mart}") > 0, mart


def test_dbt_data_and_unit_tests_ran_and_passed(build: dict) -> None:
    kinds = {r.node.resource_type for r in build["results"]}
    assert {"model", "test", "unit_test"} <= {str(k) for k in kinds}
    tested = {
        r.node.unique_id for r in build["results"] if str(r.node.resource_type) == "unit_test"
    }
    assert any("test_rfm_" in t for t in tested)
    assert any("test_consent_latest_statement_wins" in t for t in tested)
    assert any("test_web_session_goes_to_the_logged_in_account" in t for t in tested)
    # the golden record is incremental: its unit tests build it in full (is_incremental false)
    assert any("test_golden_record_" in t for t in tested)


def test_one_customer_360_row_per_person(con: duckdb.DuckDBPyConnection) -> None:
    rows, persons = con.execute(
        "select count(*), count(distinct person_id) from marts.customer_360"
    ).fetchone()
    graph_persons = scalar(con, "select count(distinct person_id) from identity.identity_graph")
    assert rows == persons == graph_persons


def test_customer_360_flags_anonymous_web_visitors(con: duckdb.DuckDBPyConnection) -> None:
    """is_identified = the person has a record that is not a web visitor; the others are
    cookies known only by their browsing: no contact point, no purchase, no consent."""
    mismatches = scalar(
        con,
        """
        select count(*)
        from marts.customer_360 as c
        left join (
            select person_id, bool_or(source_system <> 'web_visitor') as has_known_record
            from identity.identity_graph group by person_id
        ) as g on c.person_id = g.person_id
        where c.is_identified is distinct from g.has_known_record
        """,
    )
    assert mismatches == 0
    identified, anonymous = con.execute(
        "select count(*) filter (where is_identified), count(*) filter (where not is_identified)"
        " from marts.customer_360"
    ).fetchone()
    assert identified > 0 and anonymous > 0
    reachable = scalar(
        con,
        """
        select count(*) from marts.customer_360
        where not is_identified
          and (email is not null or phone is not null or orders_count > 0
               or consent_email_marketing or consent_sms_marketing
               or consent_phone_marketing or consent_ads_marketing)
        """,
    )
    assert reachable == 0


def test_customer_360_revenue_is_the_sum_over_orders(con: duckdb.DuckDBPyConnection) -> None:
    mismatches = scalar(
        con,
        """
        select count(*)
        from marts.customer_360 as c
        left join (
            select person_id, sum(net_amount) as revenue
            from marts.orders where person_id is not null group by person_id
        ) as o on c.person_id = o.person_id
        where c.revenue_total <> coalesce(o.revenue, 0)
        """,
    )
    assert mismatches == 0
    total_360, total_orders = con.execute(
        "select (select sum(revenue_total) from marts.customer_360),"
        " (select sum(net_amount) from marts.orders where person_id is not null)"
    ).fetchone()
    assert total_360 == total_orders and total_orders > 0


def test_no_web_order_without_a_channel(con: duckdb.DuckDBPyConnection) -> None:
    web_orders = scalar(con, "select count(*) from staging.stg_shop__orders")
    assert scalar(con, "select count(*) from marts.orders where channel = 'web'") == web_orders
    assert scalar(con, "select count(*) from marts.orders where channel is null") == 0


def test_consent_never_granted_after_a_later_withdrawal(con: duckdb.DuckDBPyConnection) -> None:
    violations = scalar(
        con,
        """
        select count(*)
        from marts.customer_consent as c
        join marts.consent_history as h
            on c.person_id = h.person_id and c.channel = h.channel and c.purpose = h.purpose
        where c.is_granted and not h.is_granted and h.occurred_at >= c.status_at
        """,
    )
    assert violations == 0
    # the check is not vacuous: some persons withdrew and some hold a grant
    assert scalar(con, "select count(*) from marts.consent_history where not is_granted") > 0
    assert scalar(con, "select count(*) from marts.customer_consent where is_granted") > 0


def test_every_activation_channel_has_marketing_grants(con: duckdb.DuckDBPyConnection) -> None:
    """Activation sends only to marketing consent of the destination's channel: on the
    generated retailer each channel has persons to send to, fewer for ads and phone than for
    e-mail, and only identified persons."""
    granted = dict(
        con.execute(
            "select channel, count(*) filter (where is_granted) from marts.customer_consent"
            " where purpose = 'marketing' group by channel"
        ).fetchall()
    )
    identified = scalar(con, "select count(*) from marts.customer_360 where is_identified")
    assert set(granted) == {"email", "sms", "phone", "ads"}
    for channel in ("sms", "phone", "ads"):
        assert 0.03 * identified < granted[channel] < granted["email"], (channel, granted)
    anonymous_grants = scalar(
        con,
        "select count(*) from marts.customer_consent join marts.customer_360 using (person_id)"
        " where is_granted and not is_identified",
    )
    assert anonymous_grants == 0


def test_consent_rows_cover_every_person_channel_and_purpose(
    con: duckdb.DuckDBPyConnection,
) -> None:
    persons = scalar(con, "select count(*) from marts.customer_360")
    assert scalar(con, "select count(*) from marts.customer_consent") == persons * 4 * 2
    flags_match = scalar(
        con,
        """
        select count(*)
        from marts.customer_360 as p
        join marts.customer_consent as c
            on p.person_id = c.person_id and c.purpose = 'marketing' and c.channel = 'email'
        where p.consent_email_marketing <> c.is_granted
        """,
    )
    assert flags_match == 0


def test_rfm_covers_exactly_the_buyers(con: duckdb.DuckDBPyConnection) -> None:
    buyers = scalar(con, "select count(*) from marts.customer_360 where orders_count > 0")
    assert scalar(con, "select count(*) from marts.rfm") == buyers > 0
    reference = scalar(con, "select count(distinct reference_date) from marts.rfm")
    assert reference == 1
    assert scalar(
        con,
        "select max(reference_date) = (select cast(max(ordered_at) as date) from marts.orders)"
        " from marts.rfm",
    )


def test_windows_are_anchored_to_the_data_not_today(con: duckdb.DuckDBPyConnection) -> None:
    as_of = scalar(con, "select max(as_of_date) from marts.customer_360")
    latest = scalar(
        con,
        "select cast(greatest((select max(ordered_at) from marts.orders),"
        " (select max(occurred_at) from staging.stg_web__events)) as date)",
    )
    assert as_of >= latest
    assert scalar(con, "select count(distinct as_of_date) from marts.engagement") == 1


def test_timeline_is_attributed_and_ordered(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, "select count(*) from marts.customer_timeline where person_id is null") == 0
    out_of_order = scalar(
        con,
        """
        select count(*) from (
            select occurred_at,
                   lag(occurred_at) over (partition by person_id order by event_sequence) as prev
            from marts.customer_timeline
        ) where prev > occurred_at
        """,
    )
    assert out_of_order == 0
    kinds = {
        r[0]
        for r in con.execute("select distinct event_type from marts.customer_timeline").fetchall()
    }
    assert {"web_order", "store_purchase", "campaign_open", "web_session", "ticket_opened"} <= kinds


def test_customer_profiles_join_the_scores_without_changing_customer_360(build: dict) -> None:
    """customer_profiles = customer_360 + the person's ML scores (null without a score); it is
    built after ml.churn_scores exists, and customer_360 does not depend on it."""
    with duckdb.connect(str(build["warehouse"])) as con:
        before = con.execute("select * from marts.customer_360 order by person_id").df()
        scored = before["person_id"].head(3).tolist()
        con.execute("create schema if not exists ml")
        con.execute(
            "create or replace table ml.churn_scores as select person_id, "
            "0.25 as churn_probability, 'low' as churn_risk_band, 1.5 as expected_orders, "
            "120.0 as expected_revenue, 365 as value_horizon_days, 'v-test' as model_version, "
            "now() as scored_at from (select unnest(?) as person_id)",
            [scored],
        )
        con.execute(
            "create or replace table ml.purchase_scores as select person_id, "
            "0.4 as purchase_propensity, 7 as propensity_decile, 'p-test' as "
            "propensity_model_version, null as lead_score, null as leads_decile, null as "
            "leads_model_version, false as is_lead, now() as scored_at "
            "from (select unnest(?) as person_id)",
            [scored[:1]],
        )
    _dbt(["build", "--select", "customer_profiles"], build["root"])
    with duckdb.connect(str(build["warehouse"])) as con:
        profiles = con.execute("select * from marts.customer_profiles order by person_id").df()
        after = con.execute("select * from marts.customer_360 order by person_id").df()
        con.execute("drop table ml.churn_scores; drop table ml.purchase_scores")
    assert after.equals(before)
    assert list(profiles.columns[: len(before.columns)]) == list(before.columns)
    assert profiles[before.columns].equals(before)
    with_score = profiles[profiles["person_id"].isin(scored)]
    assert (with_score["churn_probability"] == 0.25).all()
    assert (with_score["prediction_model_version"] == "v-test").all()
    assert profiles.loc[~profiles["person_id"].isin(scored), "churn_probability"].isna().all()
    assert profiles.loc[profiles["person_id"] == scored[0], "purchase_propensity"].eq(0.4).all()
    assert profiles.loc[profiles["person_id"] != scored[0], "purchase_propensity"].isna().all()
