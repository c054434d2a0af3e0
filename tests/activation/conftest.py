from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from activation.contract import create_contract_tables


@pytest.fixture
def con(tmp_path: Path):
    c = duckdb.connect(str(tmp_path / "wh.duckdb"))
    create_contract_tables(c, churn=True)
    yield c
    c.close()
