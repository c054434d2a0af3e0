"""The app's connection to the serving snapshot, reopened when a newer one is published, and
the tables the app adds to each snapshot (its search index and per-person tables).

One read-only DuckDB connection per snapshot file; each request takes its own cursor (DuckDB
cursors are safe to use from one thread each). When `serving.duckdb` points at a new file the
next request opens it; requests still running on the old one finish on it (the file was only
unlinked).
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb

from app.person_tables import build_person_tables
from app.search_index import build_search_index
from cdp import serving
from cdp.settings import Settings
from cdp.warehouse import connect as duckdb_connect

#: what the app adds to every snapshot at publication (cdp.serving.publish's builders)
BUILDERS = (build_search_index, build_person_tables)


class SnapshotReader:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the newest snapshot; raises cdp.serving.NoSnapshot before the first."""
        path = serving.current_snapshot(self.settings)
        with self._lock:
            if path is None:
                raise serving.NoSnapshot(
                    f"no serving snapshot in {serving.serving_dir(self.settings)}"
                )
            if path != self._path or self._con is None:
                self._con = duckdb_connect(str(path), read_only=True)
                self._path = path  # the previous connection closes when its last cursor does
            return self._con.cursor()

    @property
    def path(self) -> Path | None:
        return self._path
