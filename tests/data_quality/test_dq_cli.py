"""`cdp quality run|history|latest` and `cdp quarantine` on a tiny warehouse."""

from __future__ import annotations

import duckdb

from cli.main import main
from tests.data_quality.dq_fixtures import make_raw_shop


def test_quality_and_quarantine_commands(cdp_env, capsys):
    with duckdb.connect(str(cdp_env / "warehouse.duckdb")) as con:
        make_raw_shop(con, bad=True)

    assert main(["quality", "latest"]) == 0
    assert "no validation has run yet" in capsys.readouterr().out

    code = main(["quality", "run", "--asset", "raw_shop.orders", "--no-docs"])
    out = capsys.readouterr().out
    assert code == 1  # an error-severity expectation failed
    assert "raw_shop.orders: error" in out and "grand_total_non_negative" in out

    assert main(["quality", "history"]) == 0
    out = capsys.readouterr().out
    assert "grand_total_non_negative" in out and "failing_since" in out

    assert main(["quarantine", "--refresh", "--source", "shop"]) == 0
    out = capsys.readouterr().out
    assert "5 quarantined rows" in out
    assert "negative_amount" in out and "orders_2026-10.jsonl" in out
    assert "not-an-email" not in out  # samples are masked

    assert main(["quarantine", "--rule", "future_date", "--samples", "0"]) == 0
    out = capsys.readouterr().out
    assert "2 quarantined rows" in out and "negative_amount" not in out
