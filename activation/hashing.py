"""Normalisation and SHA-256 hashing for ad-platform audience files.

The values go through the core's normalisers (`cdp.normalize`), with the platforms' documented
input rules:

- Google Customer Match: e-mail with surrounding whitespace removed and lower-cased; phone in
  E.164 with the leading `+`; SHA-256 hex of the UTF-8 string.
- Meta Custom Audiences: e-mail the same; phone as digits only including the country code,
  without `+` or leading zeros; SHA-256 hex.

The e-mail is hashed as the platforms ask (`normalize_email(..., validate=False)`), never as
the identity match key (no plus-address or Gmail-dot rule). A phone that is not a valid number
(`cdp.normalize.normalize_phone`) is left out rather than hashed.
"""

from __future__ import annotations

import hashlib

from cdp.normalize import normalize_email, normalize_phone


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def normalise_email(email: str | None) -> str | None:
    """The platforms' e-mail hashing input: whitespace removed, lower-cased."""
    return normalize_email(email, validate=False)


def normalise_phone_google(phone: str | None) -> str | None:
    """E.164 with `+` (customer_360.phone is E.164 already; national numbers read as FR)."""
    return normalize_phone(phone)


def normalise_phone_meta(phone: str | None) -> str | None:
    """Digits only with the country code, no `+`."""
    e164 = normalize_phone(phone)
    return e164[1:] if e164 else None


def hash_or_none(value: str | None) -> str:
    return sha256_hex(value) if value else ""
