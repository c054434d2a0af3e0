"""E-mail addresses: the contactable form and the match key (tables in ``tables/email.yaml``)."""

from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd
from rapidfuzz.distance import OSA

from cdp.normalize.text import _as_text_series, _clean_text, _map_unique, table

# Deliberately simple: one @, a local part of the usual characters without leading/trailing or
# double dots, a domain with at least one dot and an alphabetic TLD. Anything else (blank, "non",
# "x@x", "jean.dupont@gmail") cannot be used to reach the person nor to link records.
_EMAIL_RE = (
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}"
)
_EMAIL_PATTERN = re.compile(_EMAIL_RE)

_TABLES = table("email")
#: Mailbox providers most retail customers use (``tables/email.yaml``): a domain one keystroke
#: away from exactly one of them is taken as a typo of it for the match key.
MAILBOX_DOMAINS = frozenset(_TABLES["mailbox_domains"])
#: One service under two names (and a Google domain that does not exist).
MAILBOX_ALIASES: dict[str, str] = dict(_TABLES["mailbox_aliases"])


@lru_cache(maxsize=100_000)
def mailbox_domain(domain: str) -> str:
    """The provider a domain stands for: itself, an alias's target, or the one near miss."""
    if domain in MAILBOX_ALIASES:
        return MAILBOX_ALIASES[domain]
    if domain in MAILBOX_DOMAINS:
        return domain
    near = [d for d in MAILBOX_DOMAINS if OSA.distance(domain, d, score_cutoff=1) <= 1]
    if len(near) == 1:
        return MAILBOX_ALIASES.get(near[0], near[0])
    return domain


_GMAIL_DOMAINS = frozenset(_TABLES["dotless_domains"])


@lru_cache(maxsize=200_000)
def normalize_email(value: str | None, validate: bool = True) -> str | None:
    """The contactable form of an e-mail address, or None when it is not a valid address.

    Trimmed, lower-cased (the local part is case-insensitive at every mainstream provider),
    a leading ``mailto:`` and surrounding ``<>`` removed. Invalid addresses return None rather
    than a half-cleaned value so that downstream code never tries to send to them or link on
    them. Placeholders such as ``noemail@x.fr`` are valid addresses: the blocklist in
    ``config/identity.yaml`` deals with them, not this function.

    ``validate=False`` is the ad platforms' documented hashing input (Google Customer Match,
    Meta Custom Audiences: whitespace removed, lower-cased, nothing else, see
    ``activation.hashing``): the platform, not us, decides what it can match, and no match key
    rule (plus-addressing, Gmail dots) is applied to what they hash.
    """
    text = _clean_text(value)
    if text is None:
        return None
    text = re.sub(r"\s", "", text.lower())
    if not validate:
        return text or None
    text = re.sub(r"^mailto:", "", text.replace("<", "").replace(">", ""))
    if not _EMAIL_PATTERN.fullmatch(text):
        return None
    return text


@lru_cache(maxsize=200_000)
def email_match_key(value: str | None, gmail_dots: bool = True) -> str | None:
    """The key two e-mail addresses must share to be considered the same mailbox.

    On top of :func:`normalize_email`: plus-addressing removed (``marie+promo@`` delivers to
    ``marie@`` at Gmail, Outlook, iCloud, Orange...), dots removed from Gmail local parts
    (Gmail ignores them; ``googlemail.com`` is the same service; ``gmail_dots=False`` keeps
    them, see ``email_ignore_gmail_dots`` in config/identity.yaml) and domain typos of the
    big mailbox providers corrected (:func:`mailbox_domain`), because the same customer types
    their address slightly differently at the till, online and on a sign-up sheet.
    """
    email = normalize_email(value)
    if email is None:
        return None
    local, _, domain = email.rpartition("@")
    domain = mailbox_domain(domain)
    local = local.split("+", 1)[0]
    if gmail_dots and domain in _GMAIL_DOMAINS:
        local = local.replace(".", "")
    if not local:
        return None
    return f"{local}@{domain}"


def normalize_email_series(values: pd.Series) -> pd.Series:
    """Vectorised :func:`normalize_email` (Arrow regex, no Python per row)."""
    s = _as_text_series(values).str.lower().str.replace(r"[<>\s]", "", regex=True)
    s = s.str.replace(r"^mailto:", "", regex=True)
    valid = s.str.fullmatch(_EMAIL_RE).fillna(False).astype(bool)
    return s.where(valid).astype(object).where(valid, None)


def email_match_key_series(values: pd.Series, gmail_dots: bool = True) -> pd.Series:
    """Vectorised :func:`email_match_key`."""
    email = normalize_email_series(values).astype("str")
    local = email.str.replace(r"@[^@]*$", "", regex=True)
    domain = email.str.replace(r"^.*@", "", regex=True)
    domain = _map_unique(domain, mailbox_domain).astype("str")
    local = local.str.replace(r"\+.*$", "", regex=True)
    is_gmail = domain.isin(list(_GMAIL_DOMAINS)) & gmail_dots
    local = local.where(~is_gmail, local.str.replace(".", "", regex=False))
    key = local + "@" + domain
    ok = email.notna() & local.fillna("").str.len().gt(0)
    return key.astype(object).where(ok, None)
