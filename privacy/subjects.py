"""Who a request is about, held as salted hashes of normalised identifiers.

The salt comes from the environment (`CDP_PRIVACY_SALT`), never from the warehouse, so a
copy of the warehouse alone cannot test guesses against the hashes. The same hash is computed
in DuckDB (`hash_sql`) to find a subject's rows without holding the identifier in clear.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cdp.normalize import normalize_email, normalize_phone
from cdp.settings import secret_from_env

SALT_ENV = "CDP_PRIVACY_SALT"
MIN_SALT = 16
KINDS = ("email", "phone", "person_id")
#: column names that hold an e-mail or a phone in any source table (raw and staging)
IDENTIFIER_COLUMNS = (
    ("email", re.compile(r"e-?mail", re.IGNORECASE)),
    ("phone", re.compile(r"phone|mobile", re.IGNORECASE)),
)


class PrivacyConfigError(RuntimeError):
    """The salt is missing or too short."""


def salt() -> str:
    return secret_from_env(
        SALT_ENV, MIN_SALT, PrivacyConfigError, "it salts the hashes of the subjects' identifiers"
    )


def normalise(kind: str, value: str | None) -> str | None:
    """The form an identifier is compared in (the one the warehouse matches on)."""
    if value is None or not str(value).strip():
        return None
    if kind == "email":
        return normalize_email(value)
    if kind == "phone":
        return normalize_phone(value)
    if kind == "person_id":
        return str(value).strip()
    raise ValueError(f"unknown identifier kind {kind!r}")


def identifier_hash(kind: str, normalised: str, secret: str) -> str:
    return hashlib.sha256(f"{secret}|{kind}|{normalised}".encode()).hexdigest()


def hash_sql(kind: str, expr: str) -> str:
    """DuckDB expression hashing the normalised identifier `expr` like `identifier_hash`;
    the salt is bound as the first `?` parameter."""
    return f"sha256(? || '|{kind}|' || {expr})"


@dataclass(frozen=True)
class Subject:
    """The hashed identifiers of one data subject: ("email", hex), ("phone", hex), ..."""

    hashes: tuple[tuple[str, str], ...]

    @classmethod
    def from_values(
        cls,
        email: str | None = None,
        phone: str | None = None,
        person_id: str | None = None,
        secret: str | None = None,
    ) -> Subject:
        """Hashes of the identifiers given; ValueError when none is a valid identifier."""
        secret = secret or salt()
        out = []
        for kind, value in (("email", email), ("phone", phone), ("person_id", person_id)):
            norm = normalise(kind, value)
            if value and norm is None:
                raise ValueError(f"the {kind} given is not a valid {kind}")
            if norm is not None:
                out.append((kind, identifier_hash(kind, norm, secret)))
        if not out:
            raise ValueError("a request needs an e-mail, a phone or a person id")
        return cls(tuple(out))

    @classmethod
    def from_stored(cls, stored: list[str]) -> Subject:
        return cls(tuple(tuple(s.split(":", 1)) for s in stored))  # type: ignore[misc]

    def stored(self) -> list[str]:
        return [f"{k}:{h}" for k, h in self.hashes]

    def of_kind(self, kind: str) -> list[str]:
        return [h for k, h in self.hashes if k == kind]


def matches(values, kind: str, secret: str, hashes: set[str]):
    """Boolean mask: which raw `values` (as typed in a source) normalise and hash into `hashes`.
    Each distinct normalised value is hashed once."""
    import pandas as pd

    from cdp.normalize import normalize_email_series, normalize_phone_series

    series = pd.Series(list(values), dtype="object")
    norm = pd.Series(
        normalize_email_series(series) if kind == "email" else normalize_phone_series(series)
    )
    hit = {v for v in norm.dropna().unique() if identifier_hash(kind, v, secret) in hashes}
    return norm.isin(hit).to_numpy()
