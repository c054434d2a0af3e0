"""`cdp ingest` prints rows per table and load ids, and says when nothing is new."""

from __future__ import annotations

import re
import shutil

import pytest

from cli.main import main
from tests.ingestion.ingestion_fixtures import count


def test_cdp_ingest_prints_rows_and_load_ids(settings, landing, capsys):
    assert main(["ingest", "--source", "catalog", "--source", "esp"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^catalog: 2 rows in [\d.]+s \(load id \d+\.\d+\)$", out, re.M)
    assert re.search(r"^\s+raw_catalog\.products\s+2$", out, re.M)
    assert re.search(r"^\s+raw_esp\.events\s+3$", out, re.M)
    assert "raw_shop" not in out
    assert count(settings, "raw_catalog.products") == 2

    assert main(["ingest", "--source", "catalog"]) == 0
    out = capsys.readouterr().out
    assert "catalog: 0 rows" in out and "nothing new" in out


def test_missing_location_is_reported_not_fatal(settings, landing, capsys):
    shutil.rmtree(settings.landing_dir / "service")
    assert main(["ingest", "--source", "service", "--source", "catalog"]) == 0
    captured = capsys.readouterr()
    assert "service: skipped" in captured.err and "does not exist" in captured.err
    assert "catalog: 2 rows" in captured.out


def test_unknown_source_is_refused():
    with pytest.raises(SystemExit) as exc:
        main(["ingest", "--source", "erp"])
    assert exc.value.code == 2
