"""Customer search: the typo-tolerant query on the index built at publication (app/search_index.py).

Three queries, each only index lookups of constants, so that the cost follows the postings of
the names typed, not the number of customers:

1. the names one typo away from each typed name token (the token's symmetric-delete keys in
   `app.search_name_deletes`, verified with the Damerau-Levenshtein distance) and the names it
   begins (from 3 letters); a token with none gets the names two edits away (a scan of the
   vocabulary: the rare case);
2. the persons: two typed names are looked up as pairs of one person's names
   (`app.search_name_pairs`), one name and an initial ("Dupont M.") in
   `app.search_name_initials`, anything else through the postings of each name
   (`app.search_terms`, every typed name must match); exact values (e-mail, ids, order
   numbers, phone digits) in `app.search_terms`. Ranked and cut to the page in the database;
3. the display columns of the page's persons from `marts.customer_360`.

Ranking: each typed name counts with the idf of its most similar meaning (ln(named persons /
persons with that name)): a rare name says more than a common one, so matching it exactly
outweighs matching the common one exactly. A name matched exactly scores 1, one edit away
0.9 plus 0.05 x Jaro-Winkler (a typo near the end keeps more of the name than one at its
start), a name the token begins 0.8 plus up to 0.05 (the share typed), two edits away 0.75
plus 0.05 x Jaro-Winkler. A person's score is the weighted mean over the typed names (at most
1); "Dupont M" read as a first name Dupont scores x 0.95 (the surname reading first); an
exact id, e-mail or phone scores 2 and comes first. A reading of the typed names held by
more than FEW persons shows its best CAP, then the other readings. Nothing typed is logged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import duckdb
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from app.search_index import DELETES, INITIALS, PAIRS, PHONE_DIGITS, TERMS, VOCAB
from cdp import serving
from cdp.warehouse import table_exists

LIMIT = 25
PREFIX_FROM = 3  # a typed token of this length or more also matches names it begins
MAX_KEYS = 1000  # more name pairs than this to look up: without the prefix meanings, then
# the postings of each name
IN_CHUNK = 4  # postings of common names: one index scan per few names (a scan beyond)
EXACT_SCORE = 2.0  # an exact id, e-mail or phone ranks before any name (names score <= 1)
INITIAL_WEIGHT = 1.0  # the weight of an initial: about a very common name's (1 person in e)
CAP = 5  # persons of a common reading of the typed names before the other readings' (_search)
FEW = 10  # a reading held by at most this many persons shows them all first
FIRST_NAME_READING = 0.95  # "Dupont M": a first name Dupont with an M surname ranks lower


@dataclass(frozen=True)
class Query:
    """What the text typed in the search box can be."""

    names: list[str]  # name tokens, fuzzy
    initials: list[str]  # one-letter tokens ("M." in "Dupont M.")
    exact: list[str]  # e-mail, ids, order numbers: exact (upper-cased ids, lower e-mail)
    phone: str | None  # last digits of a phone number


@dataclass(frozen=True)
class Meaning:
    """A name of the vocabulary that a typed token may mean."""

    term: str
    sim: float  # 1 exact, < 1 with a typo or typed in part
    idf: float  # ln(named persons / persons with this name)


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
    tokens = [] if "@" in folded else re.split(r"[^a-z0-9]+", folded.lower())
    words = [t for t in tokens if t.isalpha()]
    return Query(
        names=[t for t in words if len(t) >= 2],
        initials=[t for t in words if len(t) == 1],
        exact=exact,
        phone=phone,
    )


def search(
    con: duckdb.DuckDBPyConnection, text: str, *, identified_only: bool, limit: int = LIMIT
) -> list[dict]:
    """Persons matching `text`, best first: exact ids, e-mail and phone before fuzzy names.

    Every name token typed must match one of the person's names (allowing a typo), and an
    initial typed with one name must be the initial of another of the person's names.
    `identified_only` hides anonymous visitors (before ranking: the page is full of them).
    """
    q = parse(text)
    if not q.names and not q.exact:
        return []
    try:
        return _search(con, q, identified_only, limit)
    except (duckdb.CatalogException, duckdb.BinderException):
        if table_exists(con, DELETES):
            raise
        raise serving.NoSnapshot(
            "the snapshot predates the search index: publish it again"
        ) from None


def _search(con: duckdb.DuckDBPyConnection, q: Query, identified_only: bool, limit: int):
    toks = list(dict.fromkeys(q.names))
    meanings = candidates(con, toks)
    if any(not meanings[t] for t in toks):
        toks = []  # a typed name means no name: no person can match them all
    weights = {t: _weight(meanings[t]) for t in toks}
    table, keys = _keys(toks, q.initials, meanings, weights)
    total = sum(weights.values()) or 1.0
    general = [(t, m.term, weights[t] * m.sim / total) for t in toks for m in meanings[t]]
    general = general if table is None else []
    values = [*q.exact, *([q.phone] if q.phone else [])]
    shown = " AND identified" if identified_only else ""  # store staff: identified only
    lookup = _lookup(
        TERMS, "term", "term, kind, person_id, identified", [*(g[1] for g in general), *values]
    )
    ctes = [f"hits AS MATERIALIZED ({lookup})"]  # only index lookups: no filter merged into them
    parts = [
        f"""SELECT person_id, {EXACT_SCORE} AS score, NULL AS reading FROM hits
        WHERE kind <> 'name'{shown}
          AND (term IN ({_constants(q.exact)}) OR (kind = 'phone' AND term = $phone))"""
    ]
    params: dict = {"phone": q.phone, "limit": limit}
    if general:  # the postings of each name: every typed name must match
        ctes.append(
            """cand AS (SELECT unnest($toks::VARCHAR[]) AS tok, unnest($terms::VARCHAR[]) AS term,
                              unnest($wsims::DOUBLE[]) AS wsim)"""
        )
        parts.append(
            f"""SELECT person_id, sum(wsim), NULL FROM (
                SELECT s.person_id, c.tok, max(c.wsim) AS wsim
                FROM cand c JOIN hits s ON s.term = c.term AND s.kind = 'name'{shown}
                GROUP BY ALL)
            GROUP BY person_id HAVING count(*) = {len(toks)}"""
        )
        params.update(
            toks=[g[0] for g in general],
            terms=[g[1] for g in general],
            wsims=[g[2] for g in general],
        )
    if keys:  # pairs of names, or a name and an initial, of one person
        surname = "surname" if table == INITIALS else "true AS surname"
        columns = f"key, person_id, identified, {surname}"
        ctes.append(
            "keyed AS (SELECT unnest($keys::VARCHAR[]) AS key, unnest($scores::DOUBLE[]) AS score)"
        )
        ctes.append(
            f"key_hits AS MATERIALIZED ({_lookup(table, 'key', columns, list(keys), len(keys))})"
        )
        parts.append(
            f"""SELECT h.person_id,
                   max(CASE WHEN h.surname THEN k.score ELSE k.score * {FIRST_NAME_READING} END),
                   key
            FROM key_hits h JOIN keyed k USING (key) WHERE true{shown.replace("identified", "h.identified")}
            GROUP BY h.person_id, key"""
        )
        params.update(keys=list(keys), scores=list(keys.values()))
    union = "\n UNION ALL ".join(parts)
    # a reading held by more than FEW persons shows its best CAP first, then the other
    # readings: an ambiguous typo shows each name it may mean, not only the holders of the
    # closest one (the searched person may be any of its many holders anyway)
    sql = f"""WITH {", ".join(ctes)},
        best AS (
            SELECT person_id, round(max(score), 6) AS score,
                   coalesce(arg_max(reading, score), person_id) AS reading
            FROM ({union}) GROUP BY person_id
        )
        SELECT person_id, score FROM best
        ORDER BY row_number() OVER (PARTITION BY reading ORDER BY score DESC, person_id) > {CAP}
                     AND count(*) OVER (PARTITION BY reading) > {FEW},
                 score DESC, person_id
        LIMIT $limit"""
    ranked = con.execute(sql, params).fetchall()
    return _display(con, ranked)


def candidates(con: duckdb.DuckDBPyConnection, tokens: list[str]) -> dict[str, list[Meaning]]:
    """Every name each typed token may mean: one edit away (its delete keys), or a name it
    begins; two edits away when it has none of those."""
    found: dict[str, dict[str, Meaning]] = {t: {} for t in tokens}
    if not tokens:
        return {}
    keys = {k for t in tokens for k in _deletes(t)}
    prefixes = [t for t in tokens if len(t) >= PREFIX_FROM]
    ranges = " UNION ALL ".join(
        f"SELECT {_constants([t])}, term, idf FROM {VOCAB} "
        f"WHERE term >= {_constants([t])} AND term < {_constants([t[:-1] + chr(ord(t[-1]) + 1)])}"
        for t in prefixes
    )
    rows = con.execute(
        f"SELECT key, term, idf FROM {DELETES} WHERE key IN ({_constants(sorted(keys))})"
        + (f" UNION ALL {ranges}" if ranges else "")
    ).fetchall()
    deletes = {t: _deletes(t) for t in tokens}
    for key, term, idf in rows:
        for t in tokens:
            if key == t and term.startswith(t) and term != t:
                _keep(found[t], Meaning(term, 0.8 + 0.05 * len(t) / len(term), idf))
            if key in deletes[t] and DamerauLevenshtein.distance(t, term, score_cutoff=1) <= 1:
                _keep(found[t], Meaning(term, _similarity(t, term, 1), idf))
    for t in tokens:
        if not found[t]:  # a token with no name one edit away: two edits (scans the names)
            for term, idf in con.execute(
                f"""SELECT term, idf FROM {VOCAB}
                WHERE abs(length(term) - length($t)) <= 2 AND damerau_levenshtein(term, $t) <= 2""",
                {"t": t},
            ).fetchall():
                _keep(found[t], Meaning(term, _similarity(t, term, 2), idf))
    return {t: list(found[t].values()) for t in tokens}


def _similarity(token: str, term: str, distance: int) -> float:
    """1 for the name itself; one or two edits away: a base plus the Jaro-Winkler similarity
    (a typo near the end keeps more of the name than one at its start)."""
    if token == term:
        return 1.0
    base = 0.9 if distance <= 1 else 0.75
    return base + 0.05 * JaroWinkler.similarity(token, term)


def _keep(found: dict[str, Meaning], meaning: Meaning) -> None:
    """Keep the best similarity of each name (a name can be both begun and one edit away)."""
    if meaning.term not in found or found[meaning.term].sim < meaning.sim:
        found[meaning.term] = meaning


def _weight(meanings: list[Meaning]) -> float:
    """A typed token's weight: the idf of its most similar meaning (the rarest of them if
    several are as similar), the same whichever meaning a person has."""
    best = max(m.sim for m in meanings)
    return max(m.idf for m in meanings if m.sim == best)


def _deletes(token: str) -> set[str]:
    """The token and each of its one-letter deletions: its symmetric-delete keys."""
    return {token} | {token[:i] + token[i + 1 :] for i in range(len(token))}


def _keys(
    toks: list[str],
    initials: list[str],
    meanings: dict[str, list[Meaning]],
    weights: dict[str, float],
) -> tuple[str | None, dict[str, float]]:
    """(table, {key: score}) when two typed names are looked up as pairs of one person's names,
    or one name and an initial as a name with the initial of another; (None, {}) for the
    postings of each name (one or three names, two that may mean the same name, or too many
    pairs even without the names merely begun)."""
    if len(toks) == 1 and initials:
        (tok,) = toks
        w = weights[tok]
        return INITIALS, {
            f"{m.term} {initials[0]}": (w * m.sim + INITIAL_WEIGHT) / (w + INITIAL_WEIGHT)
            for m in meanings[tok]
        }
    if len(toks) != 2:
        return None, {}
    first, second = meanings[toks[0]], meanings[toks[1]]
    if {m.term for m in first} & {m.term for m in second}:
        return None, {}
    if len(first) * len(second) > MAX_KEYS:  # the likeliest meanings: not the names begun
        first, second = ([m for m in ms if m.sim >= 0.9] or ms for ms in (first, second))
    if len(first) * len(second) > MAX_KEYS:
        return None, {}
    w1, w2 = weights[toks[0]], weights[toks[1]]
    keys: dict[str, float] = {}
    for a in first:
        for b in second:
            key = " ".join(sorted((a.term, b.term)))
            keys[key] = max(keys.get(key, 0.0), (w1 * a.sim + w2 * b.sim) / (w1 + w2))
    return PAIRS, keys


def _display(con: duckdb.DuckDBPyConnection, ranked: list[tuple]) -> list[dict]:
    """The display columns of the ranked persons, in rank order."""
    if not ranked:
        return []
    con.execute(
        f"""SELECT person_id, first_name, last_name, email, city, is_identified,
                   loyalty_card_ids
            FROM marts.customer_360 WHERE person_id IN ({_constants(r[0] for r in ranked)})"""
    )
    names = [d[0] for d in con.description]
    rows = {row[0]: dict(zip(names, row, strict=True)) for row in con.fetchall()}
    return [{**rows[pid], "score": score} for pid, score in ranked if pid in rows]


def _lookup(table: str, column: str, columns: str, values: list[str], chunk: int = IN_CHUNK) -> str:
    """SELECT `columns` of the rows whose `column` is one of `values`: IN lists of up to
    `chunk` constants in a UNION ALL. DuckDB turns an IN list into an index scan while the
    rows it finds stay under max(2,048, 0.1 % of the table) and scans beyond: common names
    (thousands of postings each) are looked up a few at a time; keys with a few postings
    each (pairs, initials) in one list."""
    chunks = [values[i : i + chunk] for i in range(0, len(values), chunk)] or [[]]
    return " UNION ALL ".join(
        f"SELECT {columns} FROM {table} WHERE {column} IN ({_constants(chunk)})" for chunk in chunks
    )


def _constants(values) -> str:
    """SQL string literals (quotes doubled), so that DuckDB sees constants it can look up in
    the index; NULL for none (matches nothing)."""
    literals = ["'" + str(v).replace("'", "''") + "'" for v in values]
    return ", ".join(literals) or "NULL"
