"""A sync's `schedule` is checked with croniter: five fields that can fire, as `on_cron` needs."""

from __future__ import annotations

import pytest

from activation.config import is_valid_cron


@pytest.mark.parametrize("cron", ["0 4 * * *", "*/15 * * * *", "0 4 * * mon-fri", "@daily"])
def test_valid(cron: str) -> None:
    assert is_valid_cron(cron)


@pytest.mark.parametrize(
    "cron",
    ["", "not a cron", "61 * * * *", "0 0 * * * *", "0 0 30 2 *", "0 0 31 2 *"],
)
def test_invalid(cron: str) -> None:
    assert not is_valid_cron(cron)
