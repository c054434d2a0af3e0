"""Identity resolution: one person per real customer across every source system.

Public API::

    from identity import load_config, resolve, evaluate
    result = resolve(records, identifiers, load_config(), previous=None)

Imports are lazy (PEP 562) so that `cdp --help` does not load pandas and scipy.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "IdentityConfig": "identity.config",
    "load_config": "identity.config",
    "ResolutionResult": "identity.engine",
    "resolve": "identity.engine",
    "evaluate": "identity.evaluation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
