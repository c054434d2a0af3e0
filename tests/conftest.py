"""Test-wide settings: every test writes under its own temporary data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdp.settings import disable_telemetry

disable_telemetry()


@pytest.fixture
def cdp_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every CDP path (data, warehouse, Dagster home) at a fresh temporary folder."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    monkeypatch.setenv("CDP_DATA_DIR", str(data_dir))
    for var in ("CDP_LANDING_DIR", "CDP_GROUND_TRUTH_DIR", "CDP_WAREHOUSE", "CDP_MODELS_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(data_dir / "dagster_home"))
    return data_dir
