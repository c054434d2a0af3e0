"""Customer search: an index table built into the serving snapshot, and the typo-tolerant query.

`app.search_terms(term, kind, person_id)` holds one row per searchable value of a person:
name tokens (lower case, accents stripped), the e-mail and its local part, the last nine
digits of the phone (so +33 6 12.. and 06 12.. meet), loyalty card, shop customer,
clienteling and ESP ids, order numbers. `app.search_vocab` holds each distinct name token
once: a misspelt name is matched against this small vocabulary (Damerau-Levenshtein distance
1 for short names, 2 for longer ones, or a prefix; ranked by Jaro-Winkler), then the postings of the matching tokens are joined, so the cost grows with the
number of distinct names, not of customers. Both are sorted by term (DuckDB zone maps).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import duckdb

from cdp.warehouse import table_exists

TERMS = "app.search_terms"
VOCAB = "app.search_vocab"
PAIRS = "app.search_name_pairs"
MAX_PAIR_KEYS = 2000  # more name pairs than this to look up: the postings of each name instead
IN_CHUNK = 4  # DuckDB keeps an index scan for IN lists up to this length (a join beyond)
NO_PAIRS = "SELECT NULL::VARCHAR AS a, NULL::VARCHAR AS b, NULL::VARCHAR AS person_id LIMIT 0"
PHONE_DIGITS = 9
SHORT_NAME = 5  # a typed name token up to this length may have one typo, longer ones two
PREFIX_FROM = 3  # a typed token of this length or more also matches names it begins
LIMIT = 25


def build_search_index(con: duckdb.DuckDBPyConnection) -> None:
    """Create the index tables from the marts in the connection's default catalog."""
    con.execute("CREATE SCHEMA IF NOT EXISTS app")
    con.execute(
        f"""CREATE OR REPLACE TABLE {TERMS} AS
        WITH people AS (
            SELECT person_id, first_name, last_name, email, phone,
                   loyalty_card_ids, shop_customer_ids, clienteling_ids, esp_contact_ids
            FROM marts.customer_360
        ),
        terms AS (
            SELECT person_id, 'name' AS kind,
                   unnest(regexp_split_to_array(
                       lower(strip_accents(concat_ws(' ', first_name, last_name))),
                       '[^a-z0-9]+')) AS term
            FROM people
            UNION ALL SELECT person_id, 'email', lower(email) FROM people
            UNION ALL SELECT person_id, 'email', lower(split_part(email, '@', 1)) FROM people
            UNION ALL SELECT person_id, 'phone',
                   right(regexp_replace(phone, '[^0-9]', '', 'g'), {PHONE_DIGITS}) FROM people
            UNION ALL SELECT person_id, 'card', upper(unnest(loyalty_card_ids)) FROM people
            UNION ALL SELECT person_id, 'customer', upper(unnest(shop_customer_ids)) FROM people
            UNION ALL SELECT person_id, 'customer', upper(unnest(clienteling_ids)) FROM people
            UNION ALL SELECT person_id, 'customer', upper(unnest(esp_contact_ids)) FROM people
            UNION ALL SELECT person_id, 'customer', upper(person_id) FROM people
            UNION ALL SELECT person_id, 'order', upper(source_order_id) FROM marts.orders
            WHERE person_id IS NOT NULL
        )
        SELECT DISTINCT term, kind, person_id FROM terms
        WHERE term IS NOT NULL AND length(term) >= 2
        ORDER BY term"""
    )
    con.execute(f"CREATE INDEX search_terms_term ON {TERMS} (term)")
    con.execute(
        f"""CREATE OR REPLACE TABLE {VOCAB} AS
        SELECT term, count(*) AS postings FROM {TERMS} WHERE kind = 'name'
        GROUP BY term ORDER BY term"""
    )
    # two names of one person: a first and a last name typed together are looked up as one
    # key with a few postings, not as two common names with thousands each
    con.execute(
        f"""CREATE OR REPLACE TABLE {PAIRS} AS
        SELECT a.term || ' ' || b.term AS pair, a.term AS a, b.term AS b, a.person_id
        FROM {TERMS} a JOIN {TERMS} b
          ON a.person_id = b.person_id AND a.kind = 'name' AND b.kind = 'name'
             AND a.term < b.term
        ORDER BY pair"""
    )
    con.execute(f"CREATE INDEX search_name_pairs_pair ON {PAIRS} (pair)")


@dataclass(frozen=True)
class Query:
    """What the text typed in the search box can be."""

    names: list[str]  # name tokens, fuzzy
    exact: list[str]  # e-mail, ids, order numbers: exact (upper-cased ids, lower e-mail)
    phone: str | None  # last digits of a phone number


def parse(text: str) -> Query:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().strip()
    digits = re.sub(r"\D", "", folded)
    phone = (
        digits[-PHONE_DIGITS:]
        if len(digits) >= 8 and re.fullmatch(r"[\d\s.+()-]+", folded)
        else None
    )
    exact = [folded.lower(), folded.upper()] if folded else []
    # names have no digits: a phone, order or card number is looked up as an exact value only
    names = (
        []
        if "@" in folded
        else [t for t in re.split(r"[^a-z0-9]+", folded.lower()) if len(t) >= 2 and t.isalpha()]
    )
    return Query(names=names, exact=exact, phone=phone)


def search(
    con: duckdb.DuckDBPyConnection, text: str, *, identified_only: bool, limit: int = LIMIT
) -> list[dict]:
    """Persons matching `text`, best first: exact ids, e-mail and phone before fuzzy names.

    Every name token typed must match one of the person's name tokens (allowing a typo);
    the score is the sum of the similarities. `identified_only` hides anonymous visitors.
    Two queries: the typed tokens against the small vocabulary, then the exact values and
    the postings of the matched names looked up as constants in the ART indexes, never joined
    against a whole table. Two typed names are looked up as pairs of names of one person
    (`search_name_pairs`, a few postings per pair) rather than as two names with thousands.
    """
    q = parse(text)
    if not q.names and not q.exact:
        return []
    toks = list(dict.fromkeys(q.names))
    cand = _candidates(con, toks) if toks else []
    if toks and not {tok for tok, _, _ in cand} >= set(toks):
        cand = []  # a typed token matches no name: no person can match them all
    keys = _pair_keys(toks, cand) if table_exists(con, PAIRS) else None  # older snapshots
    values = [*q.exact, *([q.phone] if q.phone else [])]
    looked_up = values if keys is not None else [*(c[1] for c in cand), *values]
    sql = f"""
        WITH cand AS (
            SELECT unnest($toks::VARCHAR[]) AS tok, unnest($terms::VARCHAR[]) AS term,
                   unnest($sims::DOUBLE[]) AS sim
        ),
        hits AS MATERIALIZED (  -- only index lookups: no other filter merged into them
            {_lookup(TERMS, "term", "term, kind, person_id", looked_up)}
        ),
        pair_hits AS MATERIALIZED (
            {_lookup(PAIRS, "pair", "a, b, person_id", keys, len(keys)) if keys else NO_PAIRS}
        ),
        name_hits AS (
            SELECT s.person_id, c.tok, max(c.sim) AS sim
            FROM cand c JOIN hits s ON s.term = c.term AND s.kind = 'name'
            GROUP BY ALL
        ),
        by_name AS (
            SELECT person_id, sum(sim) AS score FROM name_hits GROUP BY person_id
            HAVING count(*) = {len(toks)}
            UNION ALL
            SELECT h.person_id, max(c1.sim + c2.sim) FROM pair_hits h, cand c1, cand c2
            WHERE c1.tok = $tok1 AND c2.tok = $tok2
              AND ((c1.term = h.a AND c2.term = h.b) OR (c1.term = h.b AND c2.term = h.a))
            GROUP BY h.person_id
        ),
        by_value AS (
            SELECT person_id, 100.0 AS score FROM hits
            WHERE kind <> 'name'
              AND (term IN ({_constants(q.exact)}) OR (kind = 'phone' AND term = $phone))
        ),
        scored AS (
            SELECT person_id, max(score) AS score
            FROM (SELECT * FROM by_name UNION ALL SELECT * FROM by_value)
            GROUP BY person_id
        )
        SELECT c.person_id, c.first_name, c.last_name, c.email, c.city, c.is_identified,
               c.loyalty_card_ids, s.score
        FROM scored s JOIN marts.customer_360 c USING (person_id)
        WHERE c.is_identified OR NOT $identified_only
        ORDER BY s.score DESC, c.last_name, c.first_name, c.person_id
        LIMIT $limit"""
    params = {
        "toks": [c[0] for c in cand],
        "terms": [c[1] for c in cand],
        "sims": [c[2] for c in cand],
        "phone": q.phone,
        "tok1": toks[0] if keys else None,
        "tok2": toks[1] if keys else None,
        "identified_only": identified_only,
        "limit": limit,
    }
    con.execute(sql, params)
    names = [d[0] for d in con.description]
    return [dict(zip(names, row, strict=True)) for row in con.fetchall()]


def _candidates(con: duckdb.DuckDBPyConnection, tokens: list[str]) -> list[tuple]:
    """(typed token, name in the vocabulary, similarity) for every name a token may mean."""
    return con.execute(
        f"""WITH toks AS (SELECT DISTINCT unnest($names::VARCHAR[]) AS tok)
            SELECT t.tok, v.term,
                   CASE WHEN v.term = t.tok THEN 1.0
                        WHEN starts_with(v.term, t.tok) THEN 0.9
                        ELSE jaro_winkler_similarity(v.term, t.tok) END AS sim
            FROM toks t JOIN {VOCAB} v
              ON v.term = t.tok
              OR (length(t.tok) >= {PREFIX_FROM} AND starts_with(v.term, t.tok))
              OR (abs(length(v.term) - length(t.tok)) <= 2
                  AND damerau_levenshtein(v.term, t.tok)
                      <= CASE WHEN length(t.tok) <= {SHORT_NAME} THEN 1 ELSE 2 END)""",
        {"names": tokens},
    ).fetchall()


def _pair_keys(toks: list[str], cand: list[tuple]) -> list[str] | None:
    """The `search_name_pairs` keys meaning two typed name tokens, or None when the pair
    lookup does not apply (not exactly two tokens, two tokens that may mean the same name,
    or too many combinations): then the postings of each name are joined."""
    if len(toks) != 2 or not cand:
        return None
    first = {term for tok, term, _ in cand if tok == toks[0]}
    second = {term for tok, term, _ in cand if tok == toks[1]}
    if first & second or len(first) * len(second) > MAX_PAIR_KEYS:
        return None
    return sorted({" ".join(sorted((a, b))) for a in first for b in second})


def _lookup(table: str, column: str, columns: str, values: list[str], chunk: int = IN_CHUNK) -> str:
    """SELECT `columns` of the rows whose `column` is one of `values`: IN lists of up to
    `chunk` constants in a UNION ALL. Short lists stay index scans (each common name has
    thousands of postings: reading only them matters); the name pairs, with a few postings
    per key, are cheaper as one list (measured: 19 ms of CPU against 24 ms in chunks of 4)."""
    chunks = [values[i : i + chunk] for i in range(0, len(values), chunk)] or [[]]
    return " UNION ALL ".join(
        f"SELECT {columns} FROM {table} WHERE {column} IN ({_constants(chunk)})" for chunk in chunks
    )


def _constants(values) -> str:
    """SQL string literals (quotes doubled), so that DuckDB sees constants it can look up in
    the index; NULL for none (matches nothing)."""
    literals = ["'" + str(v).replace("'", "''") + "'" for v in values]
    return ", ".join(literals) or "NULL"
