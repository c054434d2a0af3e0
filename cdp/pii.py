"""Masking of personal data in text that leaves the warehouse tables: samples, reasons,
vendor error texts, logs and run metadata.

A masked value keeps what a reader needs to recognise the problem (the e-mail domain, the
last two digits of a phone, the initial of a word) and nothing that identifies the person.
Free text is masked by pattern: e-mail addresses, dates, street addresses, phone-like digit
runs and every capitalised word (names cannot be told from other words, so all go).
"""

from __future__ import annotations

import re

_EMAIL_VALUE = re.compile(r"^\s*([^@\s]+)@([^@\s]+)\s*$")
_EMAIL_IN_TEXT = re.compile(r"([A-Za-z0-9._%+'-])[A-Za-z0-9._%+'-]*@([A-Za-z0-9.-]+)")
_PHONE_IN_TEXT = re.compile(r"\+?\d[\d .()-]{6,}\d")
_DATE_IN_TEXT = re.compile(
    r"\b(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})(?:[T ][\d:.]+Z?)?\b"
)
_STREET_IN_TEXT = re.compile(
    r"\b\d{1,5}\s*(?:bis|ter)?,?\s+(?:rue|avenue|av\.?|boulevard|bd|chemin|all[ée]e|place|"
    r"impasse|quai|route|cours|street|st\.?|road|rd\.?|lane|drive|way)\b[^,;\"\n]*",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"\b([^\W\d_])[^\W\d_]+", re.UNICODE)


def mask_email(value: str) -> str:
    m = _EMAIL_VALUE.match(value)
    if not m:
        return mask_text(value)
    local, domain = m.groups()
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) <= 2:
        return "***"
    return ("+" if value.strip().startswith("+") else "") + "*" * (len(digits) - 2) + digits[-2:]


def mask_text(value: str) -> str:
    value = str(value)
    return (value[:1] + "***") if value else value


def _mask_word(m: re.Match[str]) -> str:
    return m.group(0) if not m.group(1).isupper() else m.group(1) + "***"


def mask_free_text(value: str, limit: int = 200, names: bool = True) -> str:
    """Hide e-mails, dates, streets, phone-like digit runs and (`names`) capitalised words;
    cut the text to `limit` characters."""
    text = _EMAIL_IN_TEXT.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", str(value))
    text = _STREET_IN_TEXT.sub("[street]", text)
    text = _DATE_IN_TEXT.sub("[date]", text)
    text = _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)
    if names:
        text = _CAPITALISED.sub(_mask_word, text)
    return text if len(text) <= limit else text[:limit] + "..."


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def mask_error_text(value: str, limit: int = 500) -> str:
    """An error text (a vendor's answer, an exception) readable but without personal data:
    the quoted values it echoes are masked whole, the rest as free text except its words."""
    text = _QUOTED.sub(
        lambda m: m.group(0)[0] + mask_free_text(m.group(0)[1:-1]) + m.group(0)[-1], str(value)
    )
    return mask_free_text(text, limit, names=False)


def is_email(text: str) -> bool:
    return bool(_EMAIL_VALUE.match(text))


def value_shape(value: object) -> str:
    """What a bad value looks like without the value itself (for rejection reasons)."""
    if value is None:
        return "an empty value"
    if isinstance(value, str):
        kinds = [
            k
            for k, test in (("letters", str.isalpha), ("digits", str.isdigit))
            if any(test(c) for c in value)
        ]
        what = " and ".join(kinds) or "symbols"
        return f"a {len(value)}-character text of {what}"
    return f"a {type(value).__name__} value"
