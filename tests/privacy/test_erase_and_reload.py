"""After an erasure, a full re-load of the same landing files brings nothing of the person
back: the suppressed records are dropped at ingestion (counted), everyone else reloads."""

from __future__ import annotations

import os
import shutil

import duckdb

from ingestion.pipeline import run_all
from privacy import ingest_filter
from privacy.erase import erase
from privacy.subjects import Subject
from tests.ingestion.ingestion_fixtures import write_landing


def _text(con) -> str:
    out = []
    for s, t in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('privacy')"
    ).fetchall():
        out.append(con.execute(f'SELECT * FROM "{s}"."{t}"').df().to_csv())
    return "\n".join(out).lower()


def test_erased_person_is_not_reloaded_from_the_same_files(settings):
    write_landing(settings.landing_dir)
    run_all(settings, sources=["shop"])
    with duckdb.connect(str(settings.warehouse)) as con:
        before = con.execute("SELECT count(*) FROM raw_shop.customers").fetchall()[0][0]
        assert "c1@example.com" in _text(con)
        done = erase(con, Subject.from_values(email="C1@Example.com"), "r1", settings.data_dir)
        assert done.deleted.get("raw_shop.customers") == 1
        assert "c1@example.com" not in _text(con)
    shutil.rmtree(settings.data_dir / "dlt")
    for path in settings.landing_dir.rglob("*"):  # a full re-run: every file read again
        if path.is_file():
            os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    ingest_filter.DROPPED.clear()
    report = run_all(settings, sources=["shop"])
    assert not report["errors"]
    with duckdb.connect(str(settings.warehouse)) as con:
        after = con.execute("SELECT count(*) FROM raw_shop.customers").fetchall()[0][0]
        assert "c1@example.com" not in _text(con)
    assert after == before - 1
    assert ingest_filter.DROPPED["customers"] >= 1
    assert ingest_filter.DROPPED["carts"] >= 1  # the carts carrying the same e-mail
