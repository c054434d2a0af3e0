"""`cdp segments`, `cdp syncs` and sync dry runs read the serving snapshot: they work while
another process holds the warehouse (writer lock and a write connection), as during a run."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.activation.act_helpers import VIP_TABLE_SYNC, synthetic_env

SYNCS_YAML = "syncs:" + VIP_TABLE_SYNC


@pytest.fixture
def env(cdp_env: Path, monkeypatch):
    return synthetic_env(cdp_env, monkeypatch, SYNCS_YAML)


def test_readers_work_while_the_warehouse_is_held(env, held_warehouse, capsys):
    from cli.main import main

    assert main(["segments", "--refresh"]) == 0  # writes, then publishes the snapshot
    refreshed = _counts(capsys.readouterr().out)
    assert main(["sync", "vip_table"]) == 0  # idem: its run is in the snapshot
    held_warehouse()
    with pytest.raises(duckdb.IOException, match="lock"):  # what readers used to meet
        duckdb.connect(str(env.warehouse), read_only=True)

    assert main(["segments"]) == 0
    counts = _counts(capsys.readouterr().out)
    assert counts == refreshed
    assert any(n.isdigit() and int(n) > 0 for n in counts.values())

    assert main(["syncs"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("vip_table"))
    assert "success" in line

    with _sqlite(env) as vip:
        sent = vip.execute("select count(*) from vip").fetchone()[0]
    assert main(["sync", "vip_table", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run of sync vip_table" in out and "would add 0, change 0, remove 0" in out
    with _sqlite(env) as vip:
        assert vip.execute("select count(*) from vip").fetchone()[0] == sent


def _counts(out: str) -> dict[str, str]:
    """segment -> members column of `cdp segments`."""
    lines = out.strip().splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.startswith("segment "))
    return {ln.split()[0]: ln.split()[1] for ln in lines[header + 1 :]}


def _sqlite(env):
    import sqlite3
    from contextlib import closing

    return closing(sqlite3.connect(env.data_dir / "vip.db"))


def test_a_dry_run_records_its_run_row_and_says_when_it_cannot(env, held_warehouse, capsys):
    """The diff is computed on the snapshot; the run row goes to the warehouse's sync history
    and the snapshot (`cdp syncs` shows it), as a real run's does. While a pipeline run holds
    the warehouse the dry run still prints its diff and says the row was not recorded."""
    from cdp import serving
    from cli.main import main

    assert main(["sync", "vip_table"]) == 0
    assert main(["sync", "vip_table", "--dry-run"]) == 0
    assert "dry run not recorded" not in capsys.readouterr().out
    with duckdb.connect(str(env.warehouse), read_only=True) as con:
        runs = con.execute(
            "SELECT dry_run, status FROM activation.sync_runs ORDER BY started_at"
        ).fetchall()
    assert runs == [(False, "success"), (True, "dry_run")]
    with serving.connect(env) as snap:
        assert (
            snap.execute("SELECT count(*) FROM activation.sync_runs WHERE dry_run").fetchone()[0]
            == 1
        )
    assert main(["syncs"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("vip_table"))
    assert "dry_run (dry run)" in line

    held_warehouse()
    assert main(["sync", "vip_table", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would add 0, change 0, remove 0" in out
    assert "dry run not recorded in the sync history" in out
    with serving.connect(env) as snap:
        assert (
            snap.execute("SELECT count(*) FROM activation.sync_runs WHERE dry_run").fetchone()[0]
            == 1
        )
