"""dbt-duckdb plugin: registers the platform's normalisation functions as DuckDB UDFs.

Staging models call `cdp_consent_term(value, kind)` and `cdp_consent_time(value)` (the consent
vocabulary of config/consent.yaml, `cdp.consent_vocabulary`), `cdp_normalize_email(value)`, `cdp_normalize_phone(value, region)`,
`cdp_fold_name(value)`, `cdp_display_name(value)`, `cdp_split_name(full_name, 'first'|'last')`,
`cdp_display_street(value)`, `cdp_street_key(value)`, the dates `cdp_parse_date(value)`,
`cdp_past_date(value)`, `cdp_birth_date(value)` (ISO text, null when not a date of that kind)
and `cdp_is_placeholder(value, id_type)` so that SQL and the Python identity engine normalise
with exactly the same code and tables (`cdp.normalize`), and flag the same placeholder e-mails
and phones (the `blocklist` of config/identity.yaml, the one declaration of them).

The UDFs are Arrow (vectorised) functions: DuckDB hands over a column batch, each distinct
value of the batch is normalised once (results are also memoised across batches, since
e-mails, names and phone numbers repeat a lot), and an Arrow array goes back.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import BOOLEAN, VARCHAR

from cdp.warehouse import configure

_CACHE_SIZE = 1_000_000


def _unary(func: Callable[[str], Any]) -> Callable[[pa.Array], pa.Array]:
    cached = lru_cache(maxsize=_CACHE_SIZE)(func)

    def udf(values: pa.Array) -> pa.Array:
        out = [None if v is None else cached(v) for v in values.to_pylist()]
        return pa.array(out, type=pa.string())

    return udf


def _binary(func: Callable[[str, str], Any]) -> Callable[[pa.Array, pa.Array], pa.Array]:
    cached = lru_cache(maxsize=_CACHE_SIZE)(func)

    def udf(values: pa.Array, regions: pa.Array) -> pa.Array:
        out = [
            None if v is None else cached(v, r)
            for v, r in zip(values.to_pylist(), regions.to_pylist(), strict=True)
        ]
        return pa.array(out, type=pa.string())

    return udf


def placeholder_test() -> Callable[[str, str], bool]:
    """`(value, id_type) -> bool`: the value is on the identity blocklist (config/identity.yaml).

    The rule of the identity engine's blocklists: an exact value (compared after the same
    normalisation: e-mail match key, E.164 phone; `*` values case-insensitively) or a Python
    regular expression found in the value, for the id_type's list and the `*` list.
    """
    from cdp import normalize
    from identity import load_config

    config = load_config()

    def keys(value: str, id_type: str) -> set[str]:
        if id_type == "email":
            key = normalize.email_match_key(value, config.email_ignore_gmail_dots)
        elif id_type == "phone":
            key = normalize.normalize_phone(value, config.default_region)
        else:
            key = None
        return {value, key} - {None}

    exact = {
        id_type: set().union(*(keys(v, id_type) for v in bl.values)) if bl.values else set()
        for id_type, bl in config.blocklist.items()
        if id_type != "*"
    }
    anywhere = config.blocklist.get("*")
    anywhere_values = {v.lower() for v in anywhere.values} if anywhere else set()

    def is_placeholder(value: str, id_type: str) -> bool:
        candidates = keys(value, id_type)
        if candidates & exact.get(id_type, set()):
            return True
        if {c.lower() for c in candidates} & anywhere_values:
            return True
        patterns = [*(config.blocklist[id_type].patterns if id_type in config.blocklist else [])]
        patterns += anywhere.patterns if anywhere else []
        return any(re.search(p, c) for p in patterns for c in candidates)

    return is_placeholder


def _udfs(default_region: str) -> dict[str, tuple]:
    """name -> (Arrow function, parameter types[, return type: VARCHAR when absent])."""
    from cdp import normalize
    from cdp.consent_vocabulary import load_consent_vocabulary

    def phone(value: str, region: str | None) -> str | None:
        return normalize.normalize_phone(value, region or default_region)

    def split_name(value: str, part: str) -> str | None:
        first, last = normalize.split_full_name(value)
        return first if part == "first" else last

    def consent_term(value: str, kind: str) -> str | None:
        return load_consent_vocabulary().term(kind, value)

    def consent_time(value: str) -> dt.datetime | None:
        return load_consent_vocabulary().parse_time(value)

    def iso(parse: Callable[[str], Any]) -> Callable[[str], str | None]:
        def udf(value: str) -> str | None:
            parsed = parse(value)
            return None if parsed is None else parsed.isoformat()

        return udf

    placeholder = lru_cache(maxsize=_CACHE_SIZE)(placeholder_test())

    def is_placeholder(values: pa.Array, id_types: pa.Array) -> pa.Array:
        out = [
            None if v is None else placeholder(v, t)
            for v, t in zip(values.to_pylist(), id_types.to_pylist(), strict=True)
        ]
        return pa.array(out, type=pa.bool_())

    return {
        "cdp_is_placeholder": (is_placeholder, [VARCHAR, VARCHAR], BOOLEAN),
        "cdp_consent_term": (_binary(consent_term), [VARCHAR, VARCHAR]),
        "cdp_consent_time": (_unary(iso(consent_time)), [VARCHAR]),
        "cdp_normalize_email": (_unary(normalize.normalize_email), [VARCHAR]),
        "cdp_normalize_phone": (_binary(phone), [VARCHAR, VARCHAR]),
        "cdp_fold_name": (_unary(normalize.fold_name), [VARCHAR]),
        "cdp_display_name": (_unary(normalize.display_name), [VARCHAR]),
        "cdp_split_name": (_binary(split_name), [VARCHAR, VARCHAR]),
        "cdp_display_street": (_unary(normalize.display_street), [VARCHAR]),
        "cdp_street_key": (_unary(normalize.normalize_street), [VARCHAR]),
        "cdp_parse_date": (_unary(iso(normalize.parse_date)), [VARCHAR]),
        "cdp_past_date": (_unary(iso(normalize.parse_past_date)), [VARCHAR]),
        "cdp_birth_date": (_unary(iso(normalize.parse_birth_date)), [VARCHAR]),
    }


class Plugin(BasePlugin):
    """Sets the platform's memory limit and threads, and registers the `cdp_*` normalisation
    UDFs, on every connection dbt opens."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.default_region = str(plugin_config.get("default_phone_region") or "FR")

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        configure(conn)  # memory limit and threads from the machine (cdp.settings)
        register(conn, self.default_region)


def register(conn: DuckDBPyConnection, default_region: str = "FR") -> None:
    """Register the UDFs on a DuckDB connection (also usable outside dbt, e.g. in tests)."""
    existing = {
        row[0]
        for row in conn.execute(
            "select function_name from duckdb_functions() where function_name like 'cdp_%'"
        ).fetchall()
    }
    for name, (func, params, *returns) in _udfs(default_region).items():
        if name in existing:
            continue
        conn.create_function(
            name,
            func,
            params,
            returns[0] if returns else VARCHAR,
            type="arrow",
            null_handling="special",
            side_effects=False,
        )
