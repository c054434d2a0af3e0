"""dbt-duckdb plugin: registers the platform's normalisation functions as DuckDB UDFs.

Staging models call `cdp_consent_term(value, kind)` and `cdp_consent_time(value)` (the consent
vocabulary of config/consent.yaml, `cdp.consent_vocabulary`), `cdp_normalize_email(value)`, `cdp_normalize_phone(value, region)`,
`cdp_fold_name(value)`, `cdp_display_name(value)`, `cdp_split_name(full_name, 'first'|'last')`,
`cdp_display_street(value)`, `cdp_street_key(value)` and the dates `cdp_parse_date(value)`,
`cdp_past_date(value)`, `cdp_birth_date(value)` (ISO text, null when not a date of that kind)
so that SQL and the Python identity engine normalise with exactly the same code and tables
(`cdp.normalize`).

The UDFs are Arrow (vectorised) functions: DuckDB hands over a column batch, each distinct
value of the batch is normalised once (results are also memoised across batches, since
e-mails, names and phone numbers repeat a lot), and an Arrow array goes back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import VARCHAR

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


def _udfs(default_region: str) -> dict[str, tuple[Callable[..., pa.Array], list]]:
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

    return {
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
    """Registers the `cdp_*` normalisation UDFs on every connection dbt opens."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.default_region = str(plugin_config.get("default_phone_region") or "FR")

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        register(conn, self.default_region)


def register(conn: DuckDBPyConnection, default_region: str = "FR") -> None:
    """Register the UDFs on a DuckDB connection (also usable outside dbt, e.g. in tests)."""
    existing = {
        row[0]
        for row in conn.execute(
            "select function_name from duckdb_functions() where function_name like 'cdp_%'"
        ).fetchall()
    }
    for name, (func, params) in _udfs(default_region).items():
        if name in existing:
            continue
        conn.create_function(
            name, func, params, VARCHAR, type="arrow", null_handling="special", side_effects=False
        )
