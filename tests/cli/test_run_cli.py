"""`cdp run` on a landing folder as it is: a line per step, one source's failure does not stop
the others from reaching what is derived from them, the exit code says a step failed."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from cdp.settings import get_settings
from cli.main import main
from tests.ingestion.ingestion_fixtures import write_landing

SELECTION = "key:raw_pos/* or key:raw_catalog/* or key:staging/stg_catalog__products"


def test_a_failed_source_does_not_stop_the_others(cdp_env, capsys):
    settings = get_settings()
    write_landing(settings.landing_dir)
    shutil.rmtree(settings.landing_dir / "pos")  # the till export did not arrive

    code = main(["run", "--select", SELECTION])
    out = capsys.readouterr().out
    assert code == 1, out
    lines = out.splitlines()
    assert any(line.split()[:1] == ["FAILED"] and "ingest pos: " in line for line in lines), out
    # readable step names: "ingest catalog: 1 table (...)", "dbt build: 1 table (...)"
    assert any(line.split()[:1] == ["ok"] and "ingest catalog: " in line for line in lines)
    assert any(line.split()[:1] == ["ok"] and "dbt build: " in line for line in lines)
    assert "FAILED: step ingest_pos failed" in out
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        products = con.execute("select count(*) from staging.stg_catalog__products").fetchone()[0]
    assert products > 0  # the catalogue went through staging although the tills failed
    assert not (settings.landing_dir / "pos").exists()  # nothing generated or rewritten


def test_a_clean_run_exits_zero_and_a_bad_selection_two(cdp_env, capsys):
    write_landing(get_settings().landing_dir)
    assert main(["run", "--select", "key:raw_catalog/*"]) == 0
    out = capsys.readouterr().out
    assert "ingest catalog: " in out and "asset checks:" in out
    assert main(["run", "--select", "key:nothing/here"]) == 2
    assert main(["run", "--select", "group:(("]) == 2


def test_a_model_subset_runs_no_test_of_a_model_left_out(cdp_env, capsys):
    """A selection with a model but not every parent of a test on it (here the receipts, not
    their lines nor the shop's): dbt's default `eager` indirect selection would run that test on
    tables never built, and fail the step (`flags: indirect_selection` in dbt_project.yml)."""
    write_landing(get_settings().landing_dir)
    code = main(["run", "--select", "key:raw_pos/* or key:staging/stg_pos__receipts"])
    out = capsys.readouterr().out
    assert code == 0, out
    with duckdb.connect(str(get_settings().warehouse), read_only=True) as con:
        tables = {t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert "stg_pos__receipts" in tables and "stg_pos__receipt_lines" not in tables


def test_demo_generates_a_history_up_to_yesterday_unless_told(cdp_env, monkeypatch, capsys):
    """`cdp demo`'s retailer ends yesterday (its sources as fresh as the freshness checks
    expect); `--end-date` fixes it, as the tests' shared build does."""
    import datetime as dt
    import json

    import cdp_demo.demo as demo

    class Stop(Exception):
        pass

    def stop(selection, **kwargs):
        raise Stop

    monkeypatch.setattr(demo, "run_pipeline", stop)
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    for args, end in (([], yesterday), (["--end-date", "2025-06-30"], dt.date(2025, 6, 30))):
        with pytest.raises(Stop):
            main(["demo", "--customers", "60", "--unseen-customers", "0", *args])
        report = json.loads((get_settings().data_dir / "ground_truth" / "report.json").read_text())
        assert report["end_date"] == end.isoformat()
        assert f"history up to {end}" in capsys.readouterr().out


def test_demo_keep_runs_on_the_landing_files_as_they_are(cdp_env, monkeypatch):
    """`cdp demo --keep` does not regenerate: the landing files stay byte for byte."""
    import cdp_demo.demo as demo

    settings = get_settings()
    write_landing(settings.landing_dir)
    before = {p: p.read_bytes() for p in settings.landing_dir.rglob("*") if p.is_file()}

    def no_generation(*args, **kwargs):
        raise AssertionError("cdp demo --keep generated data")

    class Stop(Exception):
        pass

    def stop(selection, **kwargs):
        raise Stop

    monkeypatch.setattr(demo, "generate_data", no_generation)
    monkeypatch.setattr(demo, "run_pipeline", stop)
    with pytest.raises(Stop):
        main(["demo", "--keep"])
    after = {p: p.read_bytes() for p in settings.landing_dir.rglob("*") if p.is_file()}
    assert after == before
