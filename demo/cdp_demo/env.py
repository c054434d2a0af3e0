"""Environment variables set for the length of a block, then put back as they were."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


class ScopedEnv:
    """Sets variables and remembers each one's first value, so `restore` undoes only those."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, name: str, value: str | None) -> None:
        """Set `name` (None unsets it) for the rest of the block."""
        self._saved.setdefault(name, os.environ.get(name))
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    def restore(self) -> None:
        """Put back every variable `set` touched; the others are left as they are."""
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()


@contextmanager
def scoped_env(values: Mapping[str, str | None] | None = None) -> Iterator[ScopedEnv]:
    """Set `values` (None unsets) for the block; more can be set through the yielded scope."""
    scope = ScopedEnv()
    try:
        for name, value in (values or {}).items():
            scope.set(name, value)
        yield scope
    finally:
        scope.restore()
