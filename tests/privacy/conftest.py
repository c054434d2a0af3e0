"""Fixtures of the privacy tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdp.settings import Settings, get_settings


@pytest.fixture
def settings(cdp_env: Path) -> Settings:
    return get_settings()


SALT = "test-salt-0123456789abcdef"


@pytest.fixture(autouse=True)
def privacy_salt(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CDP_PRIVACY_SALT", SALT)
    return SALT


@pytest.fixture
def settings_env(settings: Settings) -> Settings:
    """`settings`, under a name the hypothesis tests can use beside `settings()`."""
    return settings
