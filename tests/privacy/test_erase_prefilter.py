"""The erasure's DuckDB prefilter (`_may_be`) keeps every raw value that normalises to a known
identifier: the values found with it are those a full normalise-and-hash scan finds."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from privacy.erase import _matching_values
from privacy.subjects import identifier_hash, normalise

RAW = {
    "email": [
        " <MAILTO:Marie.Dupont+promo@Example.COM> ",
        "marie.dupont+promo@example.com",
        "Marie . Dupont+promo @ example.com",
        "\tmarie.dupont+promo@example.com\n",
        "marie.dupont@example.com",  # another address
        "marie.dupont+promo@example.co",
        "not an e-mail",
        "K.lein@example.com",
        "\u212a.lein@Example.com",  # the Kelvin sign lower-cases to k
    ],
    "phone": [
        "06 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "0033612345678",
        "33612345678",
        "612345678.0",
        "06.12.34.56.78 poste 12",
        "+33 6 12 34 56 79",  # another number
        "07 12 34 56 78",
        "+32 470 12 34 56",
        "0470123456",
    ],
}


def test_prefiltered_values_are_those_a_full_scan_finds(privacy_salt):
    known = {
        "email": {"marie.dupont+promo@example.com", "k.lein@example.com"},
        "phone": {"+33612345678", "+32470123456"},
    }
    with duckdb.connect() as con:
        for kind, raw in RAW.items():
            con.register(f"t_{kind}", pa.table({kind: pa.array(raw, pa.string())}))
            hashes = {identifier_hash(kind, v, privacy_salt) for v in known[kind]}
            full = _matching_values(con, f"t_{kind}", kind, kind, hashes, None)
            fast = _matching_values(con, f"t_{kind}", kind, kind, hashes, known[kind])
            assert sorted(fast) == sorted(full)
            # every value found normalises to a known one, and some of each were found
            assert {normalise(kind, v) for v in full} <= known[kind]
            assert len(full) >= 3
