"""The generation context shared by every source writer, and its small time helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cdp_demo.generator import noise as Z
from cdp_demo.generator.behaviour import DAY
from cdp_demo.generator.profiles import NoiseProfile
from cdp_demo.generator.records import NoiseLog
from ingestion.sources.specs import TableSpec

PLACEHOLDER_EMAILS = ("test@test.com", "noemail@noemail.com")
PLACEHOLDER_PHONES = ("0000000000", "0600000000")


@dataclass
class Ctx:
    """What every source writer shares: the population, the clock window, the DuckDB
    connection, the noise profile and the ledgers (files, identity, seen, noise log)."""

    rng: np.random.Generator
    P: pd.DataFrame
    out: Path
    start_s: int
    end_s: int
    con: duckdb.DuckDBPyConnection
    profile: NoiseProfile
    files: dict = field(default_factory=dict)
    identity: list = field(default_factory=list)
    seen: list = field(default_factory=list)  # records with their written identity values
    log: NoiseLog = field(default_factory=NoiseLog)
    catalog: pd.DataFrame | None = None
    catalog_skus: np.ndarray | None = None
    catalog_p: np.ndarray | None = None
    receipt_refs: pd.DataFrame | None = None
    url_dict: pa.Array | None = None
    country_dict: pa.Array | None = None
    stages: dict = field(default_factory=dict)

    @property
    def landing(self) -> Path:
        return self.out / "landing"

    def write_monthly(self, path: str, table, month, sort_key: str, *, spec, drop=None) -> None:
        """`<stem>_<YYYY-MM>.<ext>` files for `path` = `<folder>/<stem>.<ext>` under the landing
        folder (`writers.copy_monthly`; ext jsonl or csv), recorded in `files`."""
        from cdp_demo.generator import writers as W

        where = self.landing / path
        if isinstance(month, pd.Series):
            month = month.to_numpy(dtype=object)
        fmt = "json" if where.suffix == ".jsonl" else "csv"
        self.files.update(
            W.copy_monthly(
                self.con, table, month, sort_key, where.parent, where.stem, fmt, drop, spec=spec
            )
        )

    def add_identity(self, system: str, keys, pidx: np.ndarray, test_ids=None) -> None:
        pidx = np.asarray(pidx)
        person = self.P["person_id"].to_numpy()[np.maximum(pidx, 0)]
        is_test = pidx < 0
        if test_ids is not None:
            person = np.where(is_test, test_ids, person)
        self.identity.append(
            pd.DataFrame(
                {
                    "source_system": system,
                    "source_key": np.asarray(keys, dtype=object).astype(str),
                    "person_id": person,
                    "is_test": is_test,
                }
            )
        )

    def add_seen(self, system: str, keys, pidx, email=None, phone=None, street=None) -> None:
        n = len(keys)
        none = np.full(n, None, dtype=object)
        self.seen.append(
            pd.DataFrame(
                {
                    "source_system": system,
                    "source_key": np.asarray(keys, dtype=object).astype(str),
                    "pidx": np.asarray(pidx),
                    "email": none if email is None else email,
                    "phone": none if phone is None else phone,
                    "street": none if street is None else street,
                }
            )
        )


def epoch(d: date) -> int:
    """Midnight UTC of `d` in epoch seconds."""
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def clip_time(t: np.ndarray, ctx: Ctx) -> np.ndarray:
    """Times clipped into the generated window."""
    return np.clip(t, ctx.start_s, ctx.end_s).astype(np.int64)


def later(ctx: Ctx, t: np.ndarray, max_days: float, power: float = 2.0) -> np.ndarray:
    """A time after t (skewed towards t), never after end_date."""
    span = np.minimum(max_days * DAY, ctx.end_s - t)
    return (t + ctx.rng.random(t.size) ** power * np.maximum(span, 0)).astype(np.int64)


def arrow_table(d: dict) -> pa.Table:
    """An Arrow table from numpy / pandas / Arrow columns (pandas nulls become nulls)."""
    return pa.table(
        {
            k: (v if isinstance(v, pa.Array | pa.ChunkedArray) else pa.array(v, from_pandas=True))
            for k, v in d.items()
        }
    )


def spec_table(spec: TableSpec, frame: pd.DataFrame, **computed: Any) -> pa.Table:
    """The columns `spec` declares, in its order: `computed[name]` where given, else the
    frame's column of that name (a declared column in neither is an error)."""
    return arrow_table(
        {n: computed[n] if n in computed else frame[n].to_numpy() for n in spec.schema.names}
    )


# Names typed by store staff (tills, tablets, sign-up sheets).
STAFF_NAME_NOISE = {
    Z.NO_ACCENT: 0.10,
    Z.SWAP: 0.015,
    Z.DROP: 0.015,
    Z.DOUBLE: 0.01,
    Z.UPPER: 0.12,
    Z.LOWER: 0.01,
    Z.NICK: 0.03,
    Z.SPACES: 0.02,
}
