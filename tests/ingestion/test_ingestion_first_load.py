"""A merged table's first load appends when no key repeats in it (nothing to merge with), and
merges otherwise; the loads after it merge, so a changed row replaces its earlier version."""

from __future__ import annotations

import sqlite3

from ingestion.pipeline import run_all
from tests.ingestion.ingestion_fixtures import count, query


def _staging_tables(settings, source: str) -> set[str]:
    rows = query(
        settings,
        "select table_name from information_schema.tables "
        f"where table_schema = 'raw_{source}_staging'",
    )
    return {name for (name,) in rows}


def test_first_load_appends_then_later_loads_merge(settings, landing):
    report = run_all(settings, sources=["pos", "catalog"])
    assert report["errors"] == {}
    # appended: dlt made no staging copy to merge from
    assert not _staging_tables(settings, "pos") and not _staging_tables(settings, "catalog")
    assert count(settings, "raw_pos.receipts") == landing["raw_pos.receipts"]
    db = sqlite3.connect(settings.landing_dir / "pos/pos.sqlite")
    receipt = db.execute("select receipt_id from receipts order by receipt_id").fetchone()[0]
    db.execute(
        "update receipts set total_amount = 999.5, updated_at = datetime(updated_at, '+1 hour') "
        "where receipt_id = ?",
        [receipt],
    )
    db.commit()
    db.close()
    again = run_all(settings, sources=["pos"])
    assert again["errors"] == {} and again["rows"] == {"raw_pos.receipts": 1}
    assert "receipts" in _staging_tables(settings, "pos")  # merged on the key
    assert count(settings, "raw_pos.receipts") == landing["raw_pos.receipts"]
    assert query(
        settings, f"select total_amount from raw_pos.receipts where receipt_id = '{receipt}'"
    ) == [(999.5,)]


def test_a_key_repeated_in_the_first_load_is_merged(settings, landing):
    catalog = settings.landing_dir / "catalog"
    lines = (catalog / "products.csv").read_text(encoding="utf-8").splitlines()
    newer = (
        lines[1]
        .replace(",Sac,", ",Sac neuf,")
        .replace("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z")
    )
    (catalog / "products_2.csv").write_text(f"{lines[0]}\n{newer}\n", encoding="utf-8")
    report = run_all(settings, sources=["catalog"])
    assert report["errors"] == {}
    assert "products" in _staging_tables(settings, "catalog")
    assert count(settings, "raw_catalog.products") == landing["raw_catalog.products"]
    sku = lines[1].split(",")[0]
    assert query(settings, f"select name from raw_catalog.products where sku = '{sku}'") == [
        ("Sac neuf",)
    ]
