"""Checking the syncs of config/syncs.yaml against the warehouse (or empty contract-shaped
tables) before any run: each source, key and field must compile in DuckDB."""

from __future__ import annotations

from typing import Any

import duckdb

from activation.config import Sync
from activation.contract import base_sql, compile_target
from activation.diff import _q, source_sql


def validate_sync_sql(
    syncs: list[Sync], path: Any, con: duckdb.DuckDBPyConnection | None = None
) -> None:
    """Compile each sync's source, key and fields in DuckDB; raise ConfigError naming the
    sync and file. Uses the real marts when they exist, else empty contract-shaped tables."""
    from activation.segments import ensure_schema as ensure_seg
    from cdp.config import ConfigError

    with compile_target(con) as (target, contract_copy):
        if contract_copy:
            ensure_seg(target)
        for sync in syncs:
            exprs = [f"CAST(({sync.key}) AS VARCHAR) AS _key", "s.person_id"]
            exprs += [f"({e}) AS {_q(n)}" for n, e in sync.fields.items()]
            try:
                if sync.source.segment is not None and not contract_copy:
                    # the real warehouse: do not create anything, compile against the base
                    src = f"SELECT * FROM ({base_sql(target)}) AS b"
                else:
                    src = source_sql(target, sync)
                target.execute(f"SELECT {', '.join(exprs)} FROM ({src}) AS s LIMIT 0").fetchall()
            except duckdb.Error as exc:
                first = str(exc).splitlines()[0]
                raise ConfigError(
                    f"{path}: sync {sync.name!r}: source/key/fields do not compile: {first}"
                ) from None
