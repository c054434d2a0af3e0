"""Which raw rows belong to a person when they carry no e-mail or phone.

A till receipt names a loyalty card, a web event an anonymous id or a shop customer id, an
order line its order. The identity graph says which source records (`<entity>:<key>`) are the
person's; `KEYS` says which raw rows each entity's key names, `REFERENCES` which raw columns
point at an entity's key (the rows are the entity owner's). Erasure follows them from the
person's records to every row that belongs to them (privacy/erase.py), and puts the keys on
the suppression list (kind `key:<entity>`) so that a re-load drops those rows at ingestion
(privacy/ingest_filter.py), before any raw copy.

Keys are compared in one canonical form on both sides (`canonical_key`, `canonical_sql`):
trimmed, upper-cased, spaces, dots and dashes removed, and a loyalty card `LC<digits>` padded
to eight digits, as the staging models normalise card ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    """Rows of `table` (`raw_<source>.<table>`) whose `columns` (joined by `#`) hold the key
    of `entity`; for an identity source system, `entity` is its name."""

    entity: str
    table: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Reference:
    """Rows of `table` whose `column` holds a key of `entity` belong to that entity's owner."""

    table: str
    column: str
    entity: str


KEYS = (
    Key("shop_customer", "raw_shop.customers", ("entity_id",)),
    Key("shop_guest_order", "raw_shop.orders", ("increment_id",)),
    Key("shop_order", "raw_shop.orders", ("entity_id",)),
    Key("shop_cart", "raw_shop.carts", ("entity_id",)),
    Key("pos_card", "raw_pos.loyalty_cards", ("card_id",)),
    Key("pos_receipt", "raw_pos.receipts", ("receipt_id",)),
    Key("clienteling", "raw_clienteling.clients", ("client_id",)),
    Key("esp_contact", "raw_esp.contacts", ("contact_id",)),
    Key("web_visitor", "raw_web.events", ("anonymous_id",)),
    Key("service_ticket", "raw_service.tickets", ("ticket_id",)),
    Key("spreadsheet", "raw_spreadsheets.event_signups", ("source_file", "source_row")),
)

REFERENCES = (
    Reference("raw_shop.customers__addresses", "customer_entity_id", "shop_customer"),
    Reference("raw_shop.orders", "customer_id", "shop_customer"),
    Reference("raw_shop.carts", "customer_id", "shop_customer"),
    Reference("raw_web.events", "user_id", "shop_customer"),
    Reference("raw_consent.consent_events", "shop_customer_id", "shop_customer"),
    Reference("raw_shop.orders__items", "order_entity_id", "shop_order"),
    Reference("raw_shop.carts__items", "cart_entity_id", "shop_cart"),
    Reference("raw_pos.receipts", "card_id", "pos_card"),
    Reference("raw_pos.receipts", "original_receipt_id", "pos_receipt"),  # their returns
    Reference("raw_pos.receipt_lines", "receipt_id", "pos_receipt"),
    Reference("raw_esp.events", "contact_id", "esp_contact"),
)

KIND_PREFIX = "key:"
_STRIP = re.compile(r"[\s.-]")
_CARD = re.compile(r"LC\d{1,8}")
_POINT_ZERO = re.compile(r"\.0+$")


def canonical_key(value: object) -> str | None:
    """The form a key is compared in (None for a missing one); a trailing `.0` goes, so a
    number read as a float matches the integer."""
    if value is None or (isinstance(value, float) and value != value):  # None, NaN
        return None
    text = _STRIP.sub("", _POINT_ZERO.sub("", str(value).strip())).upper()
    if not text:
        return None
    if _CARD.fullmatch(text):
        return "LC" + text[2:].zfill(8)
    return text


def canonical_sql(expr: str) -> str:
    """`canonical_key` in DuckDB, over the SQL expression `expr`."""
    value = f"regexp_replace(trim(CAST({expr} AS VARCHAR)), '\\.0+$', '')"
    text = f"upper(regexp_replace({value}, '[\\s.-]', '', 'g'))"
    return (
        f"CASE WHEN regexp_full_match({text}, 'LC\\d{{1,8}}') "
        f"THEN 'LC' || lpad(substr({text}, 3), 8, '0') ELSE nullif({text}, '') END"
    )


def quoted(column: str) -> str:
    return f'"{column}"'


def key_sql(key: Key) -> str:
    """The canonical key of a row of `key.table`, its columns joined by `#`."""
    return " || '#' || ".join(canonical_sql(quoted(c)) for c in key.columns)


def key_of_values(values: list[object]) -> str | None:
    """The canonical key of one row from its key columns' values (None if one is missing)."""
    parts = [canonical_key(v) for v in values]
    return None if any(p is None for p in parts) else "#".join(parts)  # type: ignore[arg-type]


def record_key(source_key: str, key: Key) -> str | None:
    """The canonical key of an identity record's `source_key` (a composite key is stored as
    `<part>#<part>` by the staging model)."""
    parts = str(source_key).rsplit("#", len(key.columns) - 1)
    return key_of_values(parts) if len(parts) == len(key.columns) else None


def by_table() -> dict[str, tuple[list[Key], list[Reference]]]:
    """For each raw table (`raw_<source>.<table>`): its keys and its references."""
    out: dict[str, tuple[list[Key], list[Reference]]] = {}
    for k in KEYS:
        out.setdefault(k.table, ([], []))[0].append(k)
    for r in REFERENCES:
        out.setdefault(r.table, ([], []))[1].append(r)
    return out
