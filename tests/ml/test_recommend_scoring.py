"""The recommender's warehouse side: its inputs read as views over the warehouse are the rows
`BehaviourData.from_frames` standardises, and `ml.product_recommendations`, written block by
block from codes, holds exactly `Recommender.recommend`'s lists with product names and URLs;
the top-k selection breaks ties by SKU."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml import recommend as rec
from ml.artifact import save_named
from ml.behaviour import BehaviourData
from ml.inputs import shared_inputs, write_inputs
from ml.prediction_config import RecommendationCandidate, RecommendationsConfig
from ml.prediction_scoring import RECOMMENDER, in_stock, load_products
from ml.recommend_rank import best
from ml.recommend_scoring import load_recommendation_data, write_recommendations
from tests.ml.behaviour_synth import SKUS, synth_behaviour

CFG = RecommendationsConfig(top_n=6, exclude_bought_days=120)


def _warehouse(con: duckdb.DuckDBPyConnection) -> dict:
    """A warehouse with the relations the recommender reads, and the frames it should see:
    a cancelled order and its line, anonymous web sessions and a session without a person
    are left out by the views."""
    f = synth_behaviour(150, 40, seed=11)
    newcomer = pd.DataFrame(
        {"customer_id": ["NEWCOMER"], "occurred_at": [pd.Timestamp("2025-01-02")]}
    )
    f["identified"] = pd.concat([f["identified"], newcomer], ignore_index=True)  # no history
    # a first purchase on the last day: outside a model fitted before it, but excluded
    late = (
        f["order_lines"]
        .iloc[[-1]]
        .assign(customer_id="LATECOMER", ordered_at=f["order_lines"]["ordered_at"].max())
    )
    f["order_lines"] = pd.concat([f["order_lines"], late], ignore_index=True)
    lines = f["order_lines"].assign(order_key=[f"L{i}" for i in range(len(f["order_lines"]))])
    orders = pd.concat(
        [
            f["orders"].rename(columns={"order_id": "order_key"}),
            lines[["customer_id", "order_key", "ordered_at"]].assign(amount=1.0),
        ]
    ).assign(is_return=lambda d: d["amount"] < 0, status="completed")
    cancelled = lines.iloc[:1].assign(order_key="X1")
    orders = pd.concat([orders, cancelled.assign(amount=5.0, is_return=False, status="Cancelled")])
    events = f["product_events"].assign(
        session_id=[f"S{i}" for i in range(len(f["product_events"]))]
    )
    sessions = events[["session_id", "customer_id"]].copy()
    sessions.loc[sessions.index[:5], "customer_id"] = None  # an unattributed session
    con.register("o", orders)
    con.register("l", pd.concat([lines, cancelled]))
    con.register("e", events)
    con.register("s", sessions)
    con.register("t", f["identified"])
    for schema in ("marts", "staging", "intermediate"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute(
        """CREATE TABLE marts.orders AS SELECT order_key, customer_id AS person_id, ordered_at,
               amount AS net_amount, is_return, status FROM o;
        CREATE TABLE marts.order_lines AS SELECT order_key, customer_id AS person_id,
               ordered_at, sku, quantity FROM l;
        CREATE TABLE staging.stg_web__events AS SELECT session_id, occurred_at,
               sku AS product_sku,
               CASE event_type WHEN 'view' THEN 'product_view' ELSE event_type END AS event_type,
               'https://shop/' || sku AS page_url FROM e;
        CREATE TABLE intermediate.int_web_sessions_attributed AS
               SELECT session_id, customer_id AS person_id FROM s;
        CREATE TABLE marts.customer_timeline AS
               SELECT customer_id AS person_id, occurred_at, 'login' AS event_type,
                      'app' AS channel, NULL::VARCHAR AS reference, NULL::DOUBLE AS amount
               FROM t
               UNION ALL SELECT 'ANON', TIMESTAMP '2025-01-01', 'web_session', 'web', 'S0',
                                NULL;"""
    )
    products = pd.DataFrame(
        {
            "sku": SKUS,
            "product_name": [f"Product {s}" for s in SKUS],
            "category": [s[:2] for s in SKUS],
            "price": 10.0,
            "stock_quantity": np.arange(len(SKUS)) % 3,  # a third out of stock
            "is_active": True,
        }
    )
    con.register("p", products)
    con.execute("CREATE TABLE staging.stg_catalog__products AS SELECT * FROM p")
    kept = events[events["session_id"].isin(sessions.dropna()["session_id"])]
    return {
        "orders": orders[orders["status"] != "Cancelled"].rename(columns={"order_key": "order_id"})[
            ["customer_id", "order_id", "ordered_at", "amount"]
        ],
        "order_lines": lines.drop(columns="order_key"),
        "product_events": kept.drop(columns="session_id"),
        "identified": f["identified"],
        "categories": products[["sku", "category"]].rename(columns={"category": "item_group"}),
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    con = duckdb.connect(str(tmp_path_factory.mktemp("w") / "w.duckdb"))
    frames = _warehouse(con)
    expected = BehaviourData.from_frames(
        frames["orders"],
        order_lines=frames["order_lines"],
        product_events=frames["product_events"],
        identified=frames["identified"],
    ).with_item_groups(frames["categories"])
    yield con, load_recommendation_data(con), expected
    con.close()


def test_inputs_read_from_the_warehouse_are_the_standardised_frames(warehouse):
    _con, data, expected = warehouse
    assert data.base.data_hash() == expected.base.data_hash()
    assert data.base.date_range() == expected.base.date_range()
    _first, cutoff = expected.base.date_range()
    a, b = rec.interactions_at(data, cutoff, CFG), rec.interactions_at(expected, cutoff, CFG)
    assert list(a.users) == list(b.users) and list(a.items) == list(b.items)
    assert (a.matrix != b.matrix).nnz == 0
    pd.testing.assert_series_equal(
        rec.popularity_at(data, cutoff, 90), rec.popularity_at(expected, cutoff, 90)
    )


@pytest.mark.parametrize("model_age_days", [0, 60])
def test_the_table_holds_the_recommenders_lists_with_names_and_urls(
    warehouse, tmp_path, model_age_days
):
    """A model trained on the data scored, and one 60 days older (reused by the retraining
    cadence: persons who bought since are not in its interactions but have purchases to
    exclude): either way the table holds `recommend`'s lists."""
    con, data, expected = warehouse
    _first, cutoff = expected.base.date_range()
    fitted_at = cutoff - timedelta(days=model_age_days)
    model = rec._fit(expected, fitted_at, RecommendationCandidate(kind="category"), CFG, 1, 1)
    model.blend = 0.5
    card = {"version": "recommendations-test", "config": CFG.model_dump(mode="json")}
    save_named(tmp_path, RECOMMENDER, "recommendations-test", model, card)
    summary = write_recommendations(data, tmp_path, con)
    table = con.execute("SELECT * FROM ml.product_recommendations ORDER BY person_id, rank").df()
    products = load_products(con)
    persons = pd.Index(
        pd.concat([expected.con.execute(f"SELECT customer_id FROM {expected.ns}.{t}").df()
                   for t in ("identified", "orders")])["customer_id"].unique()
    ).union(model.interactions.users).sort_values()  # fmt: skip
    exclude = rec.recently_bought(expected, cutoff, CFG.exclude_bought_days)
    unseen = ~persons.isin(model.interactions.users)
    assert unseen.any()  # persons without history: the popular list
    # the older model: some of them bought since, and those purchases are excluded
    assert (unseen & persons.isin(exclude["customer_id"])).any() == (model_age_days > 0)
    want = model.recommend(
        persons, CFG.top_n, exclude=exclude, allowed=in_stock(products, CFG.min_stock)
    )
    got = table.rename(columns={"person_id": "customer_id"})
    cols = ["customer_id", "rank", "sku", "reason"]
    assert got[cols].astype(str).values.tolist() == want[cols].astype(str).values.tolist()
    np.testing.assert_allclose(got["score"], want["score"])
    named = products.set_index("sku").loc[got["sku"]]
    assert got["product_name"].tolist() == named["product_name"].tolist()
    assert got["product_url"].tolist() == named["product_url"].tolist()
    assert set(got["model_version"]) == {"recommendations-test"}
    assert summary["rows"] == len(got) and summary["persons"] == got["customer_id"].nunique()
    assert summary["reasons"] == got["reason"].value_counts().to_dict()
    assert set(got.loc[got["customer_id"] == "NEWCOMER", "reason"]) == {"popular"}
    assert "personalised:category" in set(got["reason"])
    assert not set(got["sku"]) - in_stock(products, CFG.min_stock)


def _rows(con, relation: str, columns: str = "*") -> list:
    return con.execute(f"SELECT {columns} FROM {relation} ORDER BY ALL").fetchall()


def test_the_shared_inputs_file_holds_what_the_views_read(warehouse, tmp_path):
    """`write_inputs` writes every input once; attached read-only by `shared_inputs`, its
    tables are the rows the views give, a step's derived tables go to its own scratch file,
    and the recommendations written from it are those written from the views."""
    con, data, expected = warehouse
    path = tmp_path / "w.ml_inputs.duckdb"
    rows = write_inputs(con, path)
    assert not list(tmp_path.glob("*.tmp")) and path.exists()
    _first, cutoff = expected.base.date_range()
    model = rec._fit(expected, cutoff, RecommendationCandidate(kind="category"), CFG, 1, 1)
    models = tmp_path / "models"
    card = {"version": "recommendations-test", "config": CFG.model_dump(mode="json")}
    save_named(models, RECOMMENDER, "recommendations-test", model, card)
    write_recommendations(data, models, con)
    from_views = _rows(con, "ml.product_recommendations", "* EXCLUDE (scored_at)")
    with shared_inputs(con, path) as shared:
        assert set(shared.tables) == set(data.tables) and shared.base.extras
        for table in ("orders", "purchase_days", *data.tables):
            assert _rows(con, f"{shared.ns}.{table}") == _rows(con, f"{data.ns}.{table}"), table
            assert rows[table] == len(_rows(con, f"{data.ns}.{table}"))
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute(f"CREATE TABLE {shared.ns}.x AS SELECT 1")
        with rec.interactions_of(shared, [cutoff], CFG):  # a derived table, in the scratch file
            assert con.execute(f"SELECT count(*) FROM {shared.work_ns}._rec_weights").fetchone()
        write_recommendations(shared, models, con)
    assert _rows(con, "ml.product_recommendations", "* EXCLUDE (scored_at)") == from_views
    attached = {
        r[0] for r in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()
    }
    assert not {"ml_scratch", "ml_work"} & attached


def test_top_k_breaks_ties_by_the_lower_code():
    scores = np.array([[1.0, 3.0, 3.0, 3.0, 0.5, 3.0], [2.0, 2.0, 2.0, 2.0, 2.0, 9.0]])
    codes, values = best(scores, 3)
    assert codes.tolist() == [[1, 2, 3], [5, 0, 1]]
    assert values.tolist() == [[3.0, 3.0, 3.0], [9.0, 2.0, 2.0]]
    rng = np.random.default_rng(0)
    many = rng.integers(0, 4, (200, 30)).astype(float)  # many ties
    codes, _ = best(many, 7)
    full = np.lexsort((np.broadcast_to(np.arange(30), many.shape), -many), axis=-1)[:, :7]
    assert (codes == full).all()


def test_top_k_is_the_head_of_a_full_sort_by_score_then_code():
    rng = np.random.default_rng(4)
    scores = rng.integers(0, 5, size=(200, 30)).astype(float)  # many ties
    scores[rng.random(scores.shape) < 0.2] = -np.inf
    codes, values = best(scores, 7)
    order = np.lexsort((np.broadcast_to(np.arange(30), scores.shape), -scores), axis=-1)
    np.testing.assert_array_equal(codes, order[:, :7])
    np.testing.assert_array_equal(values, np.take_along_axis(scores, order[:, :7], axis=1))
