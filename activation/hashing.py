"""Normalisation and SHA-256 hashing for ad-platform audience files.

Google Customer Match: e-mail trimmed and lower-cased; phone in E.164 with the leading `+`;
SHA-256 hex of the UTF-8 string. Meta (Custom Audiences): e-mail the same; phone as digits
only including the country code, without `+` or leading zeros; SHA-256 hex.
"""

from __future__ import annotations

import hashlib
import re

_NON_DIGIT = re.compile(r"\D")


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def normalise_email(email: str | None) -> str | None:
    if email is None:
        return None
    value = "".join(email.split()).lower()
    return value or None


def _digits(phone: str) -> str:
    value = phone.strip()
    if value.startswith("00"):
        value = value[2:]
    return _NON_DIGIT.sub("", value).lstrip("0")


def normalise_phone_google(phone: str | None) -> str | None:
    """E.164 with `+`. Input is expected in E.164 already (customer_360.phone)."""
    if phone is None:
        return None
    digits = _digits(phone)
    return "+" + digits if 8 <= len(digits) <= 15 else None


def normalise_phone_meta(phone: str | None) -> str | None:
    """Digits only with the country code, no `+`."""
    if phone is None:
        return None
    digits = _digits(phone)
    return digits if 8 <= len(digits) <= 15 else None


def hash_or_none(value: str | None) -> str:
    return sha256_hex(value) if value else ""
