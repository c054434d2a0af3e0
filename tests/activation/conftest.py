from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from cdp_demo.fakes.fake_hubspot import FakeHubSpot
from cdp_demo.fakes.marts import create_contract_marts
from cdp_demo.fakes.services import postgres_bindir, start_postgres

from tests.ci import missing_service


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


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    """A throw-away PostgreSQL cluster (initdb, pg_ctl) on a free loopback port."""
    if postgres_bindir() is None:
        missing_service(
            "PostgreSQL binaries not installed (scripts/install-services.sh installs them)"
        )
    svc = start_postgres(tmp_path_factory.mktemp("pg"))
    yield svc
    svc.stop()
