"""Accounts and the profile access log, in the app's own SQLite file (never the snapshot).

Passwords are hashed with Argon2id (argon2-cffi). The access log records who opened which
profile and when, by person id only: it holds no personal data itself (GDPR accountability).
The file is 0600 in a 0700 folder, like everything under the data folder.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cdp.settings import Settings

ROLES = ("admin", "marketing", "store_staff")
MIN_PASSWORD = 12
_hasher = PasswordHasher()
# verified against when the user does not exist, so a wrong name costs the same as a wrong password
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """A bad user name, role or password (the message says which)."""


def store_path(settings: Settings) -> Path:
    return Path(os.environ.get("CDP_APP_DB", settings.data_dir / "app" / "app.sqlite")).resolve()


_ready: set[Path] = set()  # store files created and migrated by this process


@contextmanager
def connect(settings: Settings) -> Iterator[sqlite3.Connection]:
    path = store_path(settings)
    if path not in _ready or not path.exists():
        _create(path)
        _ready.add(path)
    with closing(sqlite3.connect(path)) as con, con:
        yield con


def _create(path: Path) -> None:
    """The private file and its tables; write-ahead logging, so that logging a profile
    visit costs one sync of the log rather than a rollback journal's several."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    with closing(sqlite3.connect(path)) as con:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute(
            "CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, password_hash TEXT "
            "NOT NULL, role TEXT NOT NULL, created_at TEXT NOT NULL)"
        )
        con.execute(
            "CREATE TABLE IF NOT EXISTS access_log (opened_at TEXT NOT NULL, username TEXT "
            "NOT NULL, person_id TEXT NOT NULL, page TEXT NOT NULL)"
        )
        con.commit()


def add_user(settings: Settings, username: str, role: str, password: str) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if not username.isidentifier():
        raise AccountError("a user name is letters, digits and underscores")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with connect(settings) as con:
        try:
            con.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?)",
                [username, _hasher.hash(password), role, now],
            )
        except sqlite3.IntegrityError:
            raise AccountError(f"user {username!r} exists") from None


def list_users(settings: Settings) -> list[tuple[str, str, str]]:
    with connect(settings) as con:
        return con.execute("SELECT username, role, created_at FROM users ORDER BY 1").fetchall()


def authenticate(settings: Settings, username: str, password: str) -> str | None:
    """The user's role when the password is right, else None."""
    with connect(settings) as con:
        row = con.execute(
            "SELECT password_hash, role FROM users WHERE username = ?", [username]
        ).fetchone()
        stored = row[0] if row else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(stored):
            con.execute(
                "UPDATE users SET password_hash = ? WHERE username = ?",
                [_hasher.hash(password), username],
            )
        return str(row[1])


def log_access(settings: Settings, username: str, person_id: str, page: str) -> None:
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with connect(settings) as con:
        con.execute("INSERT INTO access_log VALUES (?, ?, ?, ?)", [now, username, person_id, page])


def access_log(settings: Settings, limit: int = 500) -> list[tuple[str, str, str, str]]:
    with connect(settings) as con:
        return con.execute(
            "SELECT opened_at, username, person_id, page FROM access_log "
            "ORDER BY opened_at DESC LIMIT ?",
            [limit],
        ).fetchall()
