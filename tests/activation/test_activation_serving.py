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
