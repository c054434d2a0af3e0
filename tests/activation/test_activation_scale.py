"""Scale: a 1.4M-person sync; the no-change run finds an empty diff (timing: cdp_demo.sync_bench)."""

from __future__ import annotations

import duckdb
import pytest
from cdp_demo.fakes.synthetic import create_synthetic_marts
from cdp_demo.sync_bench import bench_sync

from activation.engine import run_sync


@pytest.mark.slow
def test_no_change_run_at_1_4m_persons_sends_nothing(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    create_synthetic_marts(con, 1_400_000)
    sync = bench_sync(tmp_path / "out")
    first = run_sync(con, sync)
    assert first.added > 500_000 and first.failed == 0
    second = run_sync(con, sync)
    assert (second.planned_added, second.planned_changed, second.planned_removed) == (0, 0, 0)
    con.execute("UPDATE marts.customer_360 SET first_name = 'Changed' WHERE person_id = 'P0700000'")
    consented = con.execute(
        "SELECT count(*) FROM marts.customer_consent WHERE person_id = 'P0700000' "
        "AND channel = 'ads' AND is_granted"
    ).fetchall()[0][0]
    third = run_sync(con, sync)
    assert third.changed == consented
    con.close()
