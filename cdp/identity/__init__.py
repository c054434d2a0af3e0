"""Identity resolution: one person per real customer across every source system.

Public API::

    from cdp.identity import load_config, resolve, evaluate
    result = resolve(records, identifiers, load_config(), previous=None)
"""

from cdp.identity.config import IdentityConfig, IdentityConfigError, load_config
from cdp.identity.engine import ResolutionResult, resolve
from cdp.identity.evaluation import evaluate

__all__ = [
    "IdentityConfig",
    "IdentityConfigError",
    "ResolutionResult",
    "evaluate",
    "load_config",
    "resolve",
]
