"""Identity resolution: one person per real customer across every source system.

Public API::

    from cdp.identity import load_config, resolve, evaluate
    result = resolve(records, identifiers, load_config(), previous=None)

Imports are lazy (PEP 562) so that `cdp --help` does not load pandas and scipy.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "IdentityConfig": "cdp.identity.config",
    "IdentityConfigError": "cdp.identity.config",
    "load_config": "cdp.identity.config",
    "ResolutionResult": "cdp.identity.engine",
    "resolve": "cdp.identity.engine",
    "evaluate": "cdp.identity.evaluation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
