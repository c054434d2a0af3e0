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

import pandas as pd
import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import BOOLEAN, VARCHAR

from cdp.warehouse import configure

_CACHE_SIZE = 1_000_000
_UNSEEN = object()
_VECTORISE_FROM = 500  # new values in a batch (DuckDB hands 2,048 rows at a time)


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


def _batched(
    compute: Callable[[pd.Series, pd.Series], list],
    one: Callable[[str, str], Any],
    out_type: pa.DataType,
) -> Callable[[pa.Array, pa.Array], pa.Array]:
    """A two-argument UDF over a vectorised `compute`, memoised: each batch computes only the
    (value, argument) pairs no earlier batch has seen (a person's phone recurs in every source),
    `one` at a time when they are few (a vectorised pass costs milliseconds to start)."""
    memo: dict[tuple[str, str], Any] = {}

    def udf(values: pa.Array, args: pa.Array) -> pa.Array:
        # DuckDB may call from several threads: the batch reads the shared memo once per
        # pair (`get`) and answers from its own dict, so another batch clearing it is harmless
        pairs = list(zip(values.to_pylist(), args.to_pylist(), strict=True))
        known = {p: memo.get(p, _UNSEEN) for p in dict.fromkeys(pairs) if p[0] is not None}
        new = [p for p, v in known.items() if v is _UNSEEN]
        if new:
            if len(new) < _VECTORISE_FROM:
                done = {p: one(*p) for p in new}
            else:
                firsts = pd.Series([v for v, _ in new], dtype=object)
                seconds = pd.Series([a for _, a in new], dtype=object)
                done = dict(zip(new, compute(firsts, seconds), strict=True))
            known.update(done)
            if len(memo) + len(done) > _CACHE_SIZE:
                memo.clear()
            memo.update(done)
        return pa.array([None if p[0] is None else known[p] for p in pairs], type=out_type)

    return udf


class PlaceholderTest:
    """Whether values are on the identity blocklist (config/identity.yaml), one at a time
    (`one`) or a column at a time (`many`, the match keys from the `*_series` normalisers).

    The rule of the identity engine's blocklists: an exact value (compared after the same
    normalisation: e-mail match key, E.164 phone; `*` values case-insensitively) or a Python
    regular expression found in the value, for the id_type's list and the `*` list.
    """

    def __init__(self) -> None:
        from identity import load_config

        self.config = config = load_config()
        anywhere = config.blocklist.get("*")
        self.anywhere = {v.lower() for v in anywhere.values} if anywhere else set()
        star = anywhere.patterns if anywhere else []
        self.star = [re.compile(p) for p in star]
        self.exact: dict[str, set[str]] = {}
        self.regexes: dict[str, list[re.Pattern]] = {}
        for id_type in ("email", "phone"):
            listed = config.blocklist.get(id_type)
            values = listed.values if listed else []
            self.exact[id_type] = set(values) | {self.key(v, id_type) for v in values} - {None}
            own = listed.patterns if listed else []
            self.regexes[id_type] = [re.compile(p) for p in [*own, *star]]

    def key(self, value: str, id_type: str) -> str | None:
        from cdp import normalize

        if id_type == "email":
            return normalize.email_match_key(value, self.config.email_ignore_gmail_dots)
        return normalize.normalize_phone(value, self.config.default_region)

    def keys(self, values: pd.Series, id_type: str) -> list[str | None]:
        from cdp import normalize

        if id_type == "email":
            out = normalize.email_match_key_series(values, self.config.email_ignore_gmail_dots)
        else:
            out = normalize.normalize_phone_series(values, self.config.default_region)
        return [k if isinstance(k, str) else None for k in out.tolist()]

    def flag(self, value: str, key: str | None, id_type: str) -> bool:
        candidates = {value, key} - {None}
        if candidates & self.exact.get(id_type, set()):
            return True
        if {c.lower() for c in candidates} & self.anywhere:
            return True
        found = self.regexes.get(id_type, self.star)
        return any(r.search(c) for r in found for c in candidates)

    def one(self, value: str, id_type: str | None) -> bool:
        known = id_type in self.regexes
        return self.flag(value, self.key(value, id_type) if known else None, str(id_type))

    def many(self, values: pd.Series, id_types: pd.Series) -> list[bool]:
        out = [False] * len(values)
        for id_type, rows in id_types.groupby(id_types, sort=False).groups.items():
            picked = values.loc[rows]
            keys = self.keys(picked, id_type) if id_type in self.regexes else [None] * len(rows)
            for i, v, k in zip(rows, picked.tolist(), keys, strict=True):
                out[i] = isinstance(v, str) and self.flag(v, k, str(id_type))
        return out


def _udfs(default_region: str) -> dict[str, tuple]:
    """name -> (Arrow function, parameter types[, return type: VARCHAR when absent])."""
    from cdp import normalize
    from cdp.consent_vocabulary import load_consent_vocabulary

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

    placeholder = PlaceholderTest()

    def one_phone(value: str, region: str | None) -> str | None:
        return normalize.normalize_phone(value, normalize.phone_region(region, default_region))

    def phone(values: pd.Series, regions: pd.Series) -> list[str | None]:
        # one vectorised pass (the engine's own normaliser): 6x less CPU than value by value
        return normalize.normalize_phone_series(values, regions, default_region).tolist()

    return {
        "cdp_is_placeholder": (
            _batched(placeholder.many, placeholder.one, pa.bool_()),
            [VARCHAR, VARCHAR],
            BOOLEAN,
        ),
        "cdp_consent_term": (_binary(consent_term), [VARCHAR, VARCHAR]),
        "cdp_consent_time": (_unary(iso(consent_time)), [VARCHAR]),
        "cdp_normalize_email": (_unary(normalize.normalize_email), [VARCHAR]),
        "cdp_normalize_phone": (_batched(phone, one_phone, pa.string()), [VARCHAR, VARCHAR]),
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
