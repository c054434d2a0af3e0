"""Reference pools for the synthetic retailer: names, places, domains, products, stores.

The pools are data files in `pools/` next to this module, read once at import. Pools are
ordered from most to least common; callers draw with Zipf-like weights so that common names
(and therefore natural homonyms) appear as often as they do in real files. The file order is
the draw order: reordering a file changes what a seed generates.
"""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

POOLS = Path(__file__).with_name("pools")


def _rows(name: str) -> list[dict[str, str]]:
    with (POOLS / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _given(country: str, sex: str) -> list[str]:
    return [r["given_name"] for r in _GIVEN if r["country"] == country and r["sex"] == sex]


def _surnames(country: str) -> list[str]:
    return [r["surname"] for r in _SURNAMES if r["country"] == country]


_GIVEN = _rows("given_names.csv")
_SURNAMES = _rows("surnames.csv")

FR_FEMALE, FR_MALE, FR_LAST = _given("FR", "F"), _given("FR", "M"), _surnames("FR")
BE_FIRST_F, BE_FIRST_M, BE_LAST = _given("BE", "F"), _given("BE", "M"), _surnames("BE")
CH_FIRST_F, CH_FIRST_M, CH_LAST = _given("CH", "F"), _given("CH", "M"), _surnames("CH")
ES_FIRST_F, ES_FIRST_M, ES_LAST = _given("ES", "F"), _given("ES", "M"), _surnames("ES")
DE_FIRST_F, DE_FIRST_M, DE_LAST = _given("DE", "F"), _given("DE", "M"), _surnames("DE")
IT_FIRST_F, IT_FIRST_M, IT_LAST = _given("IT", "F"), _given("IT", "M"), _surnames("IT")
GB_FIRST_F, GB_FIRST_M, GB_LAST = _given("GB", "F"), _given("GB", "M"), _surnames("GB")

# (city, country, postcodes, weight, phone area for landlines)
CITIES = tuple(
    (r["city"], r["country"], r["postcodes"].split("|"), int(r["weight"]), r["phone_area"])
    for r in _rows("cities.csv")
)

_STREET_TYPES = _rows("street_types.csv")
STREET_TYPES = tuple(r["street_type"] for r in _STREET_TYPES)
STREET_TYPE_WEIGHTS = tuple(int(r["weight"]) for r in _STREET_TYPES)
STREET_NAMES = tuple(r["street_name"] for r in _rows("street_names.csv"))

_DOMAINS = _rows("email_domains.csv")
PERSONAL_DOMAINS = tuple(r["domain"] for r in _DOMAINS if r["kind"] == "personal")
PERSONAL_DOMAIN_WEIGHTS = tuple(int(r["weight"]) for r in _DOMAINS if r["kind"] == "personal")
CORPORATE_DOMAINS = tuple(r["domain"] for r in _DOMAINS if r["kind"] == "corporate")

_CATALOG = yaml.safe_load((POOLS / "catalog.yaml").read_text(encoding="utf-8"))
CATEGORIES = tuple(_CATALOG["categories"])
SUBCATEGORIES = {
    c: tuple((code, label) for code, label in spec["subcategories"].items())
    for c, spec in _CATALOG["categories"].items()
}
# (price low, price high) in EUR per category
PRICE_RANGES = {
    c: tuple(float(p) for p in spec["price_range"]) for c, spec in _CATALOG["categories"].items()
}
MODEL_WORDS = tuple(_CATALOG["model_words"])
MATERIALS = tuple(_CATALOG["materials"])
COLLECTIONS = tuple(_CATALOG["collections"])

# store_id, name, kind, street, postcode, city, country, opened_on
STORES = tuple(tuple(r.values()) for r in _rows("stores.csv"))
