"""The customer search index, built into the serving snapshot at publication.

`app.search_terms(term, kind, person_id, identified)`: one row per searchable value of a
person: name tokens (lower case, accents stripped), the e-mail and its local part, the last
nine digits of the phone (so +33 6 12.. and 06 12.. meet), loyalty card, shop customer,
clienteling and ESP ids, order numbers.

Name tokens get three more tables so that a misspelt name is found by index lookups whose
cost does not grow with the number of customers:

- `app.search_name_deletes(key, term, idf)`: each distinct name token under itself and under
  each of its one-letter deletions (the symmetric-delete neighbourhood of SymSpell). Two
  tokens one edit apart (a letter missing, added, changed or two letters swapped) share a
  key, so the names one typo away from a typed token are the rows of its own few keys
  (length + 1). `idf` is ln(named persons / persons with the token): how much a match on
  this name says (a rare name more than a common one).
- `app.search_name_pairs(key, person_id, identified)`: each pair of name tokens of one person,
  sorted (`"dupont marie"`): a first and a last name typed together are one key with a few
  postings, where a common first name has thousands.
- `app.search_name_initials(key, person_id, identified, surname)`: each name token with the
  initial of another name of the person (`"dupont m"`, `"marie d"`), for "Dupont M."
  searches; `surname` when the token is of the last name and the initial of the first (the
  usual reading, ranked first).

Every table is sorted by its key and has an ART index on it; `identified` lets the store
staff's search filter before it ranks, without reading the customer table.
"""

from __future__ import annotations

import duckdb

TERMS = "app.search_terms"
VOCAB = "app.search_vocab"
DELETES = "app.search_name_deletes"
PAIRS = "app.search_name_pairs"
INITIALS = "app.search_name_initials"
PHONE_DIGITS = 9


def build_search_index(con: duckdb.DuckDBPyConnection) -> None:
    """Create the index tables from the marts in the connection's default catalog."""
    con.execute("CREATE SCHEMA IF NOT EXISTS app")
    con.execute(
        f"""CREATE OR REPLACE TABLE {TERMS} AS
        WITH people AS (
            SELECT person_id, coalesce(is_identified, false) AS identified, first_name,
                   last_name, email, phone, loyalty_card_ids, shop_customer_ids,
                   clienteling_ids, esp_contact_ids
            FROM marts.customer_360
        ),
        terms AS (
            SELECT person_id, identified, 'name' AS kind,
                   unnest(regexp_split_to_array(
                       lower(strip_accents(concat_ws(' ', first_name, last_name))),
                       '[^a-z0-9]+')) AS term
            FROM people
            UNION ALL SELECT person_id, identified, 'email', lower(email) FROM people
            UNION ALL SELECT person_id, identified, 'email', lower(split_part(email, '@', 1))
            FROM people
            UNION ALL SELECT person_id, identified, 'phone',
                   right(regexp_replace(phone, '[^0-9]', '', 'g'), {PHONE_DIGITS}) FROM people
            UNION ALL SELECT person_id, identified, 'card', upper(unnest(loyalty_card_ids))
            FROM people
            UNION ALL SELECT person_id, identified, 'customer', upper(unnest(shop_customer_ids))
            FROM people
            UNION ALL SELECT person_id, identified, 'customer', upper(unnest(clienteling_ids))
            FROM people
            UNION ALL SELECT person_id, identified, 'customer', upper(unnest(esp_contact_ids))
            FROM people
            UNION ALL SELECT person_id, identified, 'customer', upper(person_id) FROM people
            UNION ALL SELECT o.person_id, p.identified, 'order', upper(o.source_order_id)
            FROM marts.orders o JOIN people p USING (person_id)
        )
        SELECT DISTINCT term, kind, person_id, identified FROM terms
        WHERE term IS NOT NULL AND length(term) >= 2
        ORDER BY term"""
    )
    con.execute(f"CREATE INDEX search_terms_term ON {TERMS} (term)")
    con.execute(
        f"""CREATE OR REPLACE TABLE {VOCAB} AS
        WITH named AS (
            SELECT count(DISTINCT person_id) AS n FROM {TERMS} WHERE kind = 'name'
        )
        SELECT term, count(*) AS postings, ln(any_value(named.n) / count(*)) AS idf
        FROM {TERMS}, named WHERE kind = 'name'
        GROUP BY term ORDER BY term"""
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE {DELETES} AS
        WITH positions AS (
            SELECT term, idf, unnest(range(0, length(term) + 1)) AS i FROM {VOCAB}
        )
        SELECT DISTINCT
               CASE WHEN i = 0 THEN term ELSE substr(term, 1, i - 1) || substr(term, i + 1) END
                   AS key,
               term, idf
        FROM positions ORDER BY key"""
    )
    con.execute(f"CREATE INDEX search_name_deletes_key ON {DELETES} (key)")
    names = f"(SELECT term, person_id, identified FROM {TERMS} WHERE kind = 'name')"
    con.execute(
        f"""CREATE OR REPLACE TABLE {PAIRS} AS
        SELECT a.term || ' ' || b.term AS key, a.person_id, a.identified
        FROM {names} a JOIN {names} b ON a.person_id = b.person_id AND a.term < b.term
        ORDER BY key"""
    )
    con.execute(f"CREATE INDEX search_name_pairs_key ON {PAIRS} (key)")
    con.execute(
        f"""CREATE OR REPLACE TABLE {INITIALS} AS
        WITH parts AS (
            SELECT person_id, coalesce(is_identified, false) AS identified,
                   regexp_split_to_array(lower(strip_accents(first_name)), '[^a-z0-9]+') AS f,
                   regexp_split_to_array(lower(strip_accents(last_name)), '[^a-z0-9]+') AS l
            FROM marts.customer_360
        ),
        tokens AS (
            SELECT person_id, identified, unnest(f) AS term, false AS surname FROM parts
            UNION ALL SELECT person_id, identified, unnest(l), true FROM parts
        )
        SELECT a.term || ' ' || left(b.term, 1) AS key, a.person_id, a.identified,
               bool_or(a.surname AND NOT b.surname) AS surname
        FROM tokens a JOIN tokens b ON a.person_id = b.person_id AND a.term <> b.term
        WHERE length(a.term) >= 2 AND b.term <> ''
        GROUP BY ALL ORDER BY key"""
    )
    con.execute(f"CREATE INDEX search_name_initials_key ON {INITIALS} (key)")
