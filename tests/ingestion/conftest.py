"""Fixtures of the ingestion tests: a tiny landing folder and a warehouse query helper."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdp.settings import Settings, get_settings
from tests.ingestion.ingestion_fixtures import write_landing


@pytest.fixture
def settings(cdp_env: Path) -> Settings:
    return get_settings()


@pytest.fixture
def landing(settings: Settings) -> dict[str, int]:
    """The hand-written extracts of every source; returns the expected rows per raw table."""
    return write_landing(settings.landing_dir)
