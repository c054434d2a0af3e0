"""The serving snapshot: a read-only copy of what readers need, published after good runs.

DuckDB lets one process write a database file, and while it writes, a reader's `read_only`
connection can fail with "Could not set lock on file" (and a reader holding the file can make
the writer fail). Readers (BI tools, the web app, `cdp segments`, `cdp syncs`, sync dry runs)
therefore never open the warehouse: they open `<serving dir>/serving.duckdb`, a symlink to the
newest snapshot file. A snapshot is written under a temporary name in `snapshots/`, renamed
when complete and then the symlink is swapped with `os.replace`, so a reader sees either the
old snapshot or the new one, never half of one; a reader that has the old one open keeps it
(the file is only unlinked). The last `CDP_SERVING_KEEP` snapshots are kept.

Publishing needs the warehouse's writer lock (cdp.warehouse_lock), held by every writer, so two
publications never interleave. This module is core: domains hand it `builders` (functions
run on the new snapshot before it is published, e.g. the app's search index).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import duckdb

from cdp.settings import Settings
from cdp.warehouse import connect as duckdb_connect

#: what readers need, as whole schemas or single tables: marts, scores, segments and sync
#: history, identity for review, the golden record with the date of each value, every
#: e-mail and phone seen on a person's records (contact points), and the campaign of each
#: e-mail event with the campaign's name
SERVED_SCHEMAS = (
    "marts",
    "ml",
    "activation",
    "identity",
    "intermediate.int_persons_golden",
    "intermediate.int_contact_points_resolved",
    "intermediate.int_campaign_events_attributed",
    "staging.stg_esp__campaigns",
)
#: operational tables readers have no use for (the send journal holds whole payloads, the
#: erasure queue the keys of erased persons until the destinations confirm)
NOT_SERVED = frozenset({"activation.sync_journal", "activation.sync_erasures"})
MANIFEST = "serving.manifest"
CLUSTER_BY = "person_id"
CURRENT_NAME = "serving.duckdb"
DEFAULT_KEEP = 3

Builder = Callable[[duckdb.DuckDBPyConnection], None]


class NoSnapshot(LookupError):
    """No snapshot has been published yet (no successful pipeline run)."""


def serving_dir(settings: Settings) -> Path:
    return Path(os.environ.get("CDP_SERVING_DIR", settings.data_dir / "serving")).resolve()


def keep_count() -> int:
    """How many snapshots to keep (CDP_SERVING_KEEP, at least 1: the current one)."""
    raw = os.environ.get("CDP_SERVING_KEEP", str(DEFAULT_KEEP))
    try:
        return max(1, int(raw))
    except ValueError:
        raise ValueError(f"CDP_SERVING_KEEP must be a whole number, got {raw!r}") from None


def current_link(settings: Settings) -> Path:
    """The stable path BI tools are pointed at (a symlink to the newest snapshot)."""
    return serving_dir(settings) / CURRENT_NAME


def current_snapshot(settings: Settings) -> Path | None:
    """The newest snapshot file (the symlink resolved), or None before the first publication."""
    link = current_link(settings)
    try:
        target = Path(os.path.realpath(link, strict=True))
    except OSError:
        return None
    return target if target.is_file() else None


def connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the newest snapshot (its own file name: a process that still
    has an older snapshot open gets the new one, not DuckDB's cached instance of the old)."""
    path = current_snapshot(settings)
    if path is None:
        raise NoSnapshot(
            f"no serving snapshot in {serving_dir(settings)} yet: it is published after a "
            "successful pipeline run (`cdp run`, `cdp demo`)"
        )
    return duckdb_connect(str(path), read_only=True)


def connect_or_empty(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The snapshot, or an empty in-memory database before the first publication."""
    try:
        return connect(settings)
    except NoSnapshot:
        return duckdb_connect()


def overlay(settings: Settings, writable: Sequence[str] = ()) -> duckdb.DuckDBPyConnection:
    """An in-memory database showing the snapshot under its own schema names, for readers
    that write scratch rows (a sync dry run records its run): every table is a view of the
    snapshot, except those of `writable` schemas, copied so writes stay in memory."""
    con = duckdb_connect()
    path = current_snapshot(settings)
    if path is None:
        return con
    con.execute(f"ATTACH '{_sql_text(path)}' AS snap (READ_ONLY)")
    for schema, table in _relations(con, "snap", None):
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        kind = "TABLE" if schema in writable else "VIEW"
        con.execute(
            f'CREATE {kind} "{schema}"."{table}" AS SELECT * FROM snap."{schema}"."{table}"'
        )
    return con


def publish(
    settings: Settings,
    *,
    schemas: Sequence[str] = SERVED_SCHEMAS,
    builders: Iterable[Builder] = (),
    warehouse: Path | str | None = None,
    now: dt.datetime | None = None,
) -> Path:
    """Copy `schemas` of the warehouse into a new snapshot and make it the current one.

    Schemas not listed are carried over from the current snapshot (a sync refreshes only
    `activation`); with no current snapshot every served schema is copied. `builders` run on
    the new snapshot (as the default catalog) before it is published. The caller holds the
    warehouse's writer lock. `warehouse` defaults to the settings' one. Returns the new
    snapshot's path.
    """
    folder = serving_dir(settings)
    snapshots = folder / "snapshots"
    for path in (folder, snapshots):
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    final = snapshots / f"{stamp}.duckdb"
    tmp = snapshots / f"{stamp}.duckdb.tmp"
    previous = current_snapshot(settings)
    refreshed = list(schemas) if previous is not None else list(SERVED_SCHEMAS)
    if previous is not None and set(refreshed) != set(SERVED_SCHEMAS):
        shutil.copyfile(previous, tmp)  # carry the other schemas over, as they were published
    try:
        with duckdb_connect(str(warehouse or settings.warehouse)) as con:
            con.execute(f"ATTACH '{_sql_text(tmp)}' AS serving_new")
            home = con.execute("SELECT current_database()").fetchall()[0][0]
            for schema in refreshed:
                _copy_schema(con, home, schema)
            con.execute("USE serving_new")
            for build in builders:
                build(con)
            _write_manifest(con, stamp)
            con.execute(f'USE "{home}"')
            con.execute("CHECKPOINT serving_new")
            con.execute("DETACH serving_new")
        tmp.chmod(0o600)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _point_current(folder, final)
    prune(settings)
    return final


def prune(settings: Settings) -> list[Path]:
    """Delete all but the newest `keep_count()` snapshots (never the current one), and the
    temporary files of killed publications (publishers hold the writer lock, so a temporary
    file seen here is nobody's)."""
    snapshots = serving_dir(settings) / "snapshots"
    current = current_snapshot(settings)
    files = sorted(snapshots.glob("*.duckdb"))
    stale = [p for p in files[: -keep_count()] if p != current]
    stale += list(snapshots.glob("*.duckdb.tmp"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _point_current(folder: Path, target: Path) -> None:
    """Swap the `serving.duckdb` symlink to `target` in one atomic rename."""
    link_tmp = folder / f".{CURRENT_NAME}.{os.getpid()}.tmp"
    link_tmp.unlink(missing_ok=True)
    os.symlink(target.relative_to(folder), link_tmp)
    os.replace(link_tmp, folder / CURRENT_NAME)


def _relations(con: duckdb.DuckDBPyConnection, catalog: str, schema: str | None) -> list:
    """(schema, name) of the tables and views of `catalog` (all schemas when None)."""
    return con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = $c "
        "AND ($s IS NULL OR schema_name = $s) AND NOT internal "
        "UNION SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = $c "
        "AND ($s IS NULL OR schema_name = $s) AND NOT internal ORDER BY ALL",
        {"c": catalog, "s": schema},
    ).fetchall()


def _copy_schema(con: duckdb.DuckDBPyConnection, home: str, served: str) -> None:
    """Replace the snapshot's schema (or one table, `schema.table`) by the warehouse's
    (views are copied as tables)."""
    schema, _, only = served.partition(".")
    if only:
        con.execute(f'CREATE SCHEMA IF NOT EXISTS serving_new."{schema}"')
        con.execute(f'DROP TABLE IF EXISTS serving_new."{schema}"."{only}"')
    else:
        con.execute(f'DROP SCHEMA IF EXISTS serving_new."{schema}" CASCADE')
        con.execute(f'CREATE SCHEMA serving_new."{schema}"')
    for _, name in _relations(con, home, schema):
        if only and name != only:
            continue
        if f"{schema}.{name}" in NOT_SERVED or name.startswith("_dlt"):
            continue
        create_person_table(
            con, f'serving_new."{schema}"."{name}"', f'SELECT * FROM "{home}"."{schema}"."{name}"'
        )


def create_person_table(con: duckdb.DuckDBPyConnection, target: str, select: str) -> None:
    """CREATE TABLE `target` AS `select`; a table with a person id is sorted and indexed by it.

    Sorted, one person's rows sit together (zone maps skip the other row groups); the ART
    index turns `person_id = ?` into an index lookup, so a profile page reads a few rows
    instead of scanning a row group per table whatever the number of customers.
    """
    columns = {c[0] for c in con.execute(f"DESCRIBE SELECT * FROM ({select})").fetchall()}
    keyed = CLUSTER_BY in columns
    order = f" ORDER BY {CLUSTER_BY}" if keyed else ""
    con.execute(f"CREATE TABLE {target} AS SELECT * FROM ({select}){order}")
    if keyed:
        name = target.rsplit(".", 1)[-1].strip('"')
        con.execute(f'CREATE INDEX "{name}_{CLUSTER_BY}" ON {target} ({CLUSTER_BY})')


def _write_manifest(con: duckdb.DuckDBPyConnection, stamp: str) -> None:
    """One row per published table with its row count: what readers can check it against."""
    con.execute("CREATE SCHEMA IF NOT EXISTS serving")
    con.execute(
        f"CREATE OR REPLACE TABLE {MANIFEST} (snapshot VARCHAR, published_at TIMESTAMPTZ, "
        "table_name VARCHAR, row_count BIGINT)"
    )
    tables = [(s, t) for s, t in _relations(con, "serving_new", None) if f"{s}.{t}" != MANIFEST]
    for schema, name in tables:
        con.execute(
            f'INSERT INTO {MANIFEST} SELECT ?, now(), ?, count(*) FROM "{schema}"."{name}"',
            [stamp, f"{schema}.{name}"],
        )


def _sql_text(path: Path) -> str:
    return str(path).replace("'", "''")
