"""Schema drift policy: new columns evolve the table; declared columns keep their type (values
that cannot be cast are quarantined); an undeclared column that changes type is refused."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.pipeline import run_all
from tests.ingestion.ingestion_fixtures import columns, count, customer, query, web_events


def test_new_column_is_added(settings, landing):
    run_all(settings, sources=["web", "shop"])
    web = settings.landing_dir / "web"
    pq.write_table(
        web_events(2, start=50, referrer=pa.array(["google", None], pa.string())),
        web / "events_2025-02.parquet",
    )
    (settings.landing_dir / "shop/customers/customers_2025-02.jsonl").write_text(
        json.dumps(
            customer(
                9,
                prefix="Mme",
                extension_attributes={
                    "loyalty_card_id": None,
                    "is_subscribed": False,
                    "tier": "gold",
                },
            )
        )
        + "\n",
        encoding="utf-8",
    )
    report = run_all(settings, sources=["web", "shop"])
    assert report["errors"] == {}
    assert "referrer" in columns(settings, "raw_web", "events")
    assert query(settings, "select count(referrer) from raw_web.events") == [(1,)]
    assert count(settings, "raw_web.events") == 6
    cols = columns(settings, "raw_shop", "customers")
    assert "prefix" in cols and "extension_attributes__tier" in cols
    assert query(
        settings,
        "select prefix, extension_attributes__tier from raw_shop.customers where entity_id = 9",
    ) == [("Mme", "gold")]


def test_declared_column_changed_type_is_cast_or_quarantined(settings, landing):
    run_all(settings, sources=["web"])
    web = settings.landing_dir / "web"
    drifted = web_events(3, start=60)
    # user_id arrives as integers (castable to the declared text) ...
    drifted = drifted.set_column(
        drifted.column_names.index("user_id"), "user_id", pa.array([1, None, 3], pa.int64())
    )
    # ... and occurred_at as text, one value of which is not a timestamp
    drifted = drifted.set_column(
        drifted.column_names.index("occurred_at"),
        "occurred_at",
        pa.array(["2025-02-01 10:00:00+00:00", "yesterday", "2025-02-01 11:00:00+00:00"]),
    )
    pq.write_table(drifted, web / "events_2025-02.parquet")
    report = run_all(settings, sources=["web"])
    assert report["errors"] == {}
    types = dict(
        query(
            settings,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_web' and table_name = 'events'",
        )
    )
    assert types["user_id"] == "VARCHAR"
    assert types["occurred_at"].startswith("TIMESTAMP")
    assert query(
        settings,
        "select event_id, user_id from raw_web.events "
        "where event_id in ('W000060', 'W000062') order by 1",
    ) == [
        ("W000060", "1"),
        ("W000062", "3"),
    ]
    rows = query(settings, "select line_number, reason from raw_web.rejected_rows")
    assert len(rows) == 1
    assert (
        rows[0][0] == 2 and "column occurred_at" in rows[0][1] and "9-character text" in rows[0][1]
    )


def test_undeclared_column_changing_type_keeps_its_first_type(settings, landing):
    """An undeclared column that changes type in a later file is cast to the type it was first
    loaded with; values that do not fit reject their row, the source never fails."""
    web = settings.landing_dir / "web"
    pq.write_table(
        web_events(2, start=70, referrer=pa.array(["a", "b"])), web / "events_2025-02.parquet"
    )
    pq.write_table(
        web_events(2, start=75, visits=pa.array([1, 2], pa.int64())),
        web / "events_2025-02b.parquet",
    )
    run_all(settings, sources=["web"])
    pq.write_table(
        web_events(2, start=80, referrer=pa.array([1.5, 2.5], pa.float64())),
        web / "events_2025-03.parquet",
    )
    pq.write_table(
        web_events(3, start=90, visits=pa.array(["3", "many", None])),
        web / "events_2025-04.parquet",
    )
    report = run_all(settings, sources=["web", "catalog"])
    assert report["errors"] == {}
    assert count(settings, "raw_web.events") == 4 + 2 + 2 + 2 + 2
    assert query(
        settings,
        "select referrer from raw_web.events where event_id >= 'W000080' "
        "and event_id < 'W000090' order by 1",
    ) == [("1.5",), ("2.5",)]
    assert query(
        settings,
        "select event_id, visits from raw_web.events where event_id >= 'W000090' order by 1",
    ) == [("W000090", 3), ("W000092", None)]
    [(file, line, column, reason)] = query(
        settings, "select source_file, line_number, column_name, reason from raw_web.rejected_rows"
    )
    assert (file, line, column) == ("events_2025-04.parquet", 2, "visits")
    assert "4-character text of letters" in reason and "int64" in reason
