"""Jinja context for linting the models with sqlfluff's jinja templater (no dbt, no warehouse).

sqlfluff (`library_path = lint_libs` in .sqlfluff) puts the names of this package into the
template context: `var()` returns the project's real vars from dbt_project.yml, so macros that
loop over configured dicts and lists render the same SQL as in dbt; `dbt.*` (lint_libs/dbt.py)
stands in for dbt's cross-database macros, `adapter.dispatch` (lint_libs/adapter.py) for the
project's dispatched ones.
"""

from pathlib import Path
from types import SimpleNamespace

import yaml

_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project.yml"
_VARS = (yaml.safe_load(_PROJECT.read_text()) or {}).get("vars", {})


def var(name, default=None):
    return _VARS.get(name, default)


def load_relation(relation):
    """dbt's `load_relation`: the relation when it exists; linted as existing."""
    return relation


# dbt's `flags`: the models are linted as a `dbt run` builds them (macros/incremental.sql)
flags = SimpleNamespace(WHICH="run")
