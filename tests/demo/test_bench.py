"""`cdp bench` results: written beside the earlier ones, compared stage by stage."""

from __future__ import annotations

import argparse
from pathlib import Path

from cdp_demo.bench import format_stages, previous_result, result_kind, write_result

from cli.runner import RunReport, StepReport


def _report(ingest: float, dbt: float) -> RunReport:
    steps = [
        StepReport("ingest_shop", ingest, 300 * 2**20, "ok", rows=8000),
        StepReport("dbt_models", dbt, 900 * 2**20, "ok", rows=1000),
    ]
    return RunReport(Path("x.log"), "run", True, ingest + dbt, 900 * 2**20, steps=steps)


def test_the_previous_result_is_the_newest_of_the_same_size_and_kind(tmp_path: Path) -> None:
    assert previous_result(tmp_path / "none", 100, "full") is None
    write_result(tmp_path, 100, "full", {"total_seconds": 1.0})
    (tmp_path / "100-full-20990101T000000Z.json").write_text('{"total_seconds": 2.0}')
    write_result(tmp_path, 100, "incremental", {"total_seconds": 3.0})
    write_result(tmp_path, 200, "full", {"total_seconds": 4.0})
    previous = previous_result(tmp_path, 100, "full")
    assert previous["total_seconds"] == 2.0 and previous["file"].startswith("100-full-2099")
    assert previous_result(tmp_path, 100, "incremental")["total_seconds"] == 3.0
    after = argparse.Namespace(incremental=False, after="identity/identity_graph")
    assert "/" not in write_result(tmp_path, 100, result_kind(after), {}).name


def test_stages_show_rows_per_second_the_floor_and_the_ratio_to_the_previous_result() -> None:
    previous = {
        "stages": [["ingestion (dlt)", 2.0, 0], ["dbt (staging, golden record, marts)", 20.0, 0]],
        "total_seconds": 22.0,
        "file": "100-full-x.json",
    }
    text = format_stages(_report(4.0, 10.0), {"shop": 1.0}, previous)
    ingestion = next(line for line in text.splitlines() if line.startswith("ingestion (dlt)"))
    # 8,000 rows in 4 s; 4 s against DuckDB's 1 s; twice the previous 2 s
    assert ingestion.split()[-5:] == ["2,000", "300", "MiB", "4.00", "2.00"]
    dbt = next(line for line in text.splitlines() if line.startswith("dbt"))
    assert dbt.split()[-1] == "0.50"  # 10 s against 20 s before: twice as fast
    assert "previous: 100-full-x.json" in text
    without = format_stages(_report(4.0, 10.0), {"shop": 1.0})
    assert "(previous:" not in without
