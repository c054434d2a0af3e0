from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from cdp_demo.fakes.fake_hubspot import FakeHubSpot
from cdp_demo.fakes.marts import create_contract_marts


@pytest.fixture
def con(tmp_path: Path):
    c = duckdb.connect(str(tmp_path / "wh.duckdb"))
    create_contract_marts(c)
    yield c
    c.close()


@pytest.fixture
def hubspot(monkeypatch):
    monkeypatch.setenv("TEST_HS_TOKEN", "tok-123")
    with FakeHubSpot(token="tok-123") as fake:
        yield fake
