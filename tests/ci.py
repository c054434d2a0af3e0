"""What a test does when a service it needs (PostgreSQL, OpenSSH, Chromium) is not installed."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing_service(message: str, module: bool = False) -> NoReturn:
    """Skip, saying why; with CI=true fail instead: CI installs every service (`make
    services`), so a missing one is a broken environment, never a silent skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: a missing service fails)", pytrace=False)
    pytest.skip(message, allow_module_level=module)
