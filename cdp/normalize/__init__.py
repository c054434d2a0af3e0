"""Normalisation of customer attributes: display values and match keys.

One module per area, each with its tables as data files in ``tables/`` (read once):
``email`` (mailbox providers, aliases), ``phone`` (phonenumbers metadata), ``names``
(particles, civil titles; nicknames from corp-names), ``address`` (street abbreviations,
repeaters), ``dates`` (accepted shapes, day/month order, placeholder birth dates), ``text``
(missing-value tokens and the helpers every area shares).

Two families of functions live here:

* **scalar** functions (``normalize_email``, ``normalize_phone``, ``fold_name``,
  ``parse_birth_date``, ...) that take one value and return one value. They are the reference
  behaviour, they are registered as DuckDB UDFs by dbt (``dbt_project/plugins/cdp_udfs.py``),
  and they are ``lru_cache``d.
* **vectorised** functions (``*_series``) used by the identity engine on millions of rows. They
  work on a pandas Series, do the cheap string work with Arrow-backed ``.str`` methods, and
  run the expensive per-value work (phonenumbers, unidecode) once per *distinct* value
  (``_map_unique``), never once per row.

Every function is idempotent: feeding it its own output returns the same output, so the engine
can be given raw or already normalised records.
"""

from cdp.normalize.address import (
    STREET_ABBREVIATIONS,
    display_street,
    normalize_city,
    normalize_city_series,
    normalize_postcode,
    normalize_postcode_series,
    normalize_street,
    normalize_street_series,
)
from cdp.normalize.dates import (
    EARLIEST_DATE,
    MIN_AGE_YEARS,
    PLACEHOLDER_BIRTH_DATES,
    STRPTIME_FORMATS,
    detect_date_order,
    parse_birth_date,
    parse_birth_date_series,
    parse_date,
    parse_past_date,
    strptime_sql,
)
from cdp.normalize.email import (
    MAILBOX_ALIASES,
    MAILBOX_DOMAINS,
    email_match_key,
    email_match_key_series,
    mailbox_domain,
    normalize_email,
    normalize_email_series,
)
from cdp.normalize.names import (
    NAME_PARTICLES,
    display_name,
    first_name_key,
    first_name_key_series,
    fold_name,
    fold_name_series,
    is_nickname_pair,
    name_key,
    name_key_series,
    nickname_canon,
    split_full_name,
)
from cdp.normalize.phone import (
    is_mobile_series,
    normalize_phone,
    normalize_phone_series,
    phone_region,
)
from cdp.normalize.text import (
    _as_text_series,
    _clean_text,
    _map_unique,
    normalize_identifier_series,
)

__all__ = [
    "EARLIEST_DATE",
    "MAILBOX_ALIASES",
    "MAILBOX_DOMAINS",
    "MIN_AGE_YEARS",
    "NAME_PARTICLES",
    "PLACEHOLDER_BIRTH_DATES",
    "STREET_ABBREVIATIONS",
    "STRPTIME_FORMATS",
    "_as_text_series",
    "_clean_text",
    "_map_unique",
    "detect_date_order",
    "display_name",
    "display_street",
    "email_match_key",
    "email_match_key_series",
    "first_name_key",
    "first_name_key_series",
    "fold_name",
    "fold_name_series",
    "is_mobile_series",
    "is_nickname_pair",
    "mailbox_domain",
    "name_key",
    "name_key_series",
    "nickname_canon",
    "normalize_city",
    "normalize_city_series",
    "normalize_email",
    "normalize_email_series",
    "normalize_identifier_series",
    "normalize_phone",
    "normalize_phone_series",
    "normalize_postcode",
    "normalize_postcode_series",
    "normalize_street",
    "normalize_street_series",
    "parse_birth_date",
    "parse_birth_date_series",
    "parse_date",
    "parse_past_date",
    "phone_region",
    "split_full_name",
    "strptime_sql",
]
