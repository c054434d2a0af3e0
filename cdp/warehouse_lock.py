"""One writer at a time on the DuckDB warehouse file, across processes.

DuckDB lets one process write a database file; a second writer fails with "Could not set lock on
file". Every Dagster run (through the `warehouse` resource), `cdp run`, `cdp ingest`,
`cdp sync` and `cdp segments --refresh` take this advisory `flock` on
`<warehouse>.writer.lock` for their whole duration, so a writer started while another is
writing waits instead of failing half-way. The kernel drops the lock when its process dies, even
on `kill -9`: a crash never leaves the warehouse locked. The lock is re-entrant within a process
(`cdp run` holds it around the Dagster run whose resource takes it again).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

_held: dict[str, list[int]] = {}  # lock file -> [file descriptor, depth]
_mutex = threading.Lock()


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse and the caller chose not to wait."""


def lock_path(warehouse: Path | str) -> Path:
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.name + ".writer.lock")


def holder(warehouse: Path | str) -> str:
    """The pid written by the current holder (for messages), or '' when unknown."""
    try:
        return lock_path(warehouse).read_text().strip()
    except OSError:
        return ""


def acquire(
    warehouse: Path | str, *, wait: bool = True, on_wait: Callable[[str], None] | None = None
) -> None:
    """Take the writer lock; `on_wait(holder pid)` is called once if another process has it."""
    path = lock_path(warehouse)
    key = str(path.resolve())
    with _mutex:
        if key in _held:
            _held[key][1] += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = holder(warehouse)
            if not wait:
                os.close(fd)
                raise WarehouseBusy(
                    f"the warehouse {warehouse} is being written by pid {pid}"
                ) from None
            if on_wait:
                on_wait(pid)
            fcntl.flock(fd, fcntl.LOCK_EX)  # blocks until the holder ends (or dies)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        _held[key] = [fd, 1]


def release(warehouse: Path | str) -> None:
    key = str(lock_path(warehouse).resolve())
    with _mutex:
        entry = _held.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            del _held[key]
            os.close(entry[0])  # closing the descriptor releases the flock


@contextmanager
def warehouse_lock(
    warehouse: Path | str, *, wait: bool = True, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    acquire(warehouse, wait=wait, on_wait=on_wait)
    try:
        yield
    finally:
        release(warehouse)
