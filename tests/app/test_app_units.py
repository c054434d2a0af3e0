"""Accounts, sign-in protections and the search index without a browser (starlette's client)."""

from __future__ import annotations

import re
import sqlite3
import stat

import duckdb
import pytest

from app import accounts
from app.search import parse, search
from app.search_index import DELETES, PAIRS, build_search_index
from cdp.serving import NoSnapshot
from cdp.settings import get_settings

PASSWORD = "a long test password"


@pytest.fixture
def client(cdp_env, monkeypatch):
    from starlette.testclient import TestClient

    from app.web import create_app

    monkeypatch.setenv("CDP_APP_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("CDP_APP_INSECURE_COOKIES", "1")  # the test client speaks plain http
    accounts.add_user(get_settings(), "ada", "admin", PASSWORD)
    return TestClient(create_app(), follow_redirects=False)


def _token(client) -> str:
    return re.search(r'name="csrftoken" value="([^"]+)"', client.get("/login").text)[1]


def test_passwords_are_argon2_hashes_in_a_private_file(cdp_env):
    settings = get_settings()
    accounts.add_user(settings, "mia", "marketing", PASSWORD)
    path = accounts.store_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    stored = sqlite3.connect(path).execute("select password_hash from users").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert accounts.authenticate(settings, "mia", PASSWORD) == "marketing"
    assert accounts.authenticate(settings, "mia", PASSWORD + "x") is None
    assert accounts.authenticate(settings, "nobody", PASSWORD) is None
    with pytest.raises(accounts.AccountError, match="at least"):
        accounts.add_user(settings, "bob", "admin", "short")
    with pytest.raises(accounts.AccountError, match="unknown role"):
        accounts.add_user(settings, "bob", "owner", PASSWORD)
    with pytest.raises(accounts.AccountError, match="exists"):
        accounts.add_user(settings, "mia", "admin", PASSWORD)


def test_the_app_refuses_to_start_without_a_secret_key(cdp_env, monkeypatch):
    from app.web import ConfigurationError, create_app

    monkeypatch.setenv("CDP_APP_SECRET_KEY", "short")
    with pytest.raises(ConfigurationError, match="CDP_APP_SECRET_KEY"):
        create_app()


def test_sign_in_needs_the_csrf_token_and_the_right_password(client):
    form = {"username": "ada", "password": PASSWORD, "next": "/"}
    assert client.post("/login", data=form).status_code == 403  # no CSRF token
    token = _token(client)
    bad = client.post("/login", data={**form, "password": "wrong password!", "csrftoken": token})
    assert bad.status_code == 401 and "Wrong user name or password" in bad.text
    ok = client.post("/login", data={**form, "next": "//evil.example", "csrftoken": token})
    assert ok.status_code == 303 and ok.headers["location"] == "/"  # no open redirect
    cookie = ok.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    page = client.get("/")  # signed in, no snapshot published yet: says so
    assert page.status_code == 503 and "No serving snapshot yet" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_session_cookies_are_secure_by_default(cdp_env, monkeypatch):
    from starlette.testclient import TestClient

    from app.web import create_app

    monkeypatch.setenv("CDP_APP_SECRET_KEY", "s" * 40)
    accounts.add_user(get_settings(), "ada", "admin", PASSWORD)
    client = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    form = {"username": "ada", "password": PASSWORD, "next": "/", "csrftoken": _token(client)}
    assert "secure" in client.post("/login", data=form).headers["set-cookie"].lower()


def test_charts_library_is_served_by_the_app(client):
    response = client.get("/static/plotly.min.js")
    assert response.status_code == 200 and "plotly" in response.text[:2000].lower()


def test_query_parsing():
    assert parse("Dupnot").names == ["dupnot"]
    assert parse("Élodie Lefèvre").names == ["elodie", "lefevre"]
    assert parse("06 12 34 56 78").phone == "612345678"
    assert parse("+33 6 12 34 56 78").phone == "612345678"
    assert parse("06 12 34 56 78").names == []  # digits are never looked up as names
    assert parse("marie@example.com").names == []
    assert "LC00011700" in parse("lc00011700").exact


@pytest.fixture
def people():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        """create table marts.customer_360 as select * from (values
        ('p1', true, 'Mathilde', 'Fleury', 'mathilde.fleury@example.com', '+33612345678',
         ['LC001'], ['1001'], null::varchar[], null::varchar[], 'Lyon'),
        ('p2', true, 'Mathieu', 'Fleuret', 'm.fleuret@example.com', '+33698765432',
         null, ['1002'], null, null, 'Paris'),
        ('p3', false, null, null, null, null, null, null, null, null, null),
        ('p4', false, 'Mathilde', 'Fleury', null, null, null, null, null, null, null))
        t(person_id, is_identified, first_name, last_name, email, phone, loyalty_card_ids,
          shop_customer_ids, clienteling_ids, esp_contact_ids, city)"""
    )
    con.execute(
        "create table marts.orders as select * from (values ('p2', '100000042')) "
        "t(person_id, source_order_id)"
    )
    build_search_index(con)
    return con


def test_search_tolerates_typos_and_finds_every_identifier(people):
    def ids(text, identified_only=False):
        return [r["person_id"] for r in search(people, text, identified_only=identified_only)]

    assert ids("Mathilde Flerry")[:2] == ["p1", "p4"]  # one letter too many
    assert ids("mathidle fleury", identified_only=True) == ["p1"]  # swapped letters; staff view
    assert "p2" not in ids("Mathilde Fleury")  # every typed word must match
    assert ids("m.fleuret@example.com") == ["p2"]
    assert ids("06 98 76 54 32") == ["p2"]
    assert ids("lc001") == ["p1"]
    assert ids("1001") == ["p1"]
    assert ids("100000042") == ["p2"]
    assert ids("p2") == ["p2"]
    assert ids("zzzz") == []


def test_identity_panel_tables_are_keyed_by_person():
    """app.person_tables: each record of a person with its best edge score and rules, and the
    possible matches touching any of its records with the other record's person, from both
    sides (what the profile's identity panel reads by person id)."""
    from app import queries
    from app.person_tables import build_person_tables

    con = duckdb.connect()
    con.execute("create schema identity")
    con.execute(
        """create table identity.identity_graph as select * from (values
        ('shop:1', 'shop', '1', 'pa', 'email'), ('pos:9', 'pos', '9', 'pa', 'loyalty_card'),
        ('esp:5', 'esp', '5', 'pa', 'email'), ('shop:2', 'shop', '2', 'pb', null))
        t(record_id, source_system, source_key, person_id, match_rule)"""
    )
    con.execute(
        """create table identity.identity_edges as select * from (values
        ('shop:1', 'pos:9', 'loyalty_card', 1.0::DOUBLE), ('shop:1', 'esp:5', 'email', 0.97),
        ('esp:5', 'shop:1', 'fuzzy', 0.80))
        t(record_id_a, record_id_b, rule, score)"""
    )
    con.execute(
        """create table identity.possible_matches as select * from (values
        ('shop:2', 'esp:5', 0.71::DOUBLE, 'namesake_guard'))
        t(record_id_a, record_id_b, score, reason)"""
    )
    build_person_tables(con)
    pa, pb = queries.identity(con, "pa"), queries.identity(con, "pb")
    best = {r["record_id"]: (r["best_score"], r["edge_rules"]) for r in pa["records"]}
    assert best == {
        "shop:1": (1.0, "email, fuzzy, loyalty_card"),
        "pos:9": (1.0, "loyalty_card"),
        "esp:5": (0.97, "email, fuzzy"),
    }
    assert [r["record_id"] for r in pb["records"]] == ["shop:2"]
    assert pb["records"][0]["best_score"] is None
    assert [(m["record_id_a"], m["other_person"]) for m in pa["possible"]] == [("shop:2", "pb")]
    assert [(m["record_id_b"], m["other_person"]) for m in pb["possible"]] == [("esp:5", "pa")]
    assert queries.identity(con, "nobody") == {"records": [], "possible": []}


def test_two_names_looked_up_as_a_pair_give_what_joining_each_name_gives(people, monkeypatch):
    """Two typed names are looked up in app.search_name_pairs; the same search joining the
    postings of each name (the general path) finds the same people with the same scores."""
    from app import search as search_module

    queries = ["Mathilde Flerry", "fleury mathilde", "Mathieu Fleuret", "mathidle fleury"]
    for q in queries:
        toks = search_module.parse(q).names
        meanings = search_module.candidates(people, toks)
        weights = {t: 1.0 for t in toks}
        assert search_module._keys(toks, [], meanings, weights)[0] == PAIRS  # pairs used
    paired = {q: search(people, q, identified_only=False) for q in queries}
    monkeypatch.setattr(search_module, "MAX_KEYS", 0)  # every search on the general path
    for q in queries:
        assert search(people, q, identified_only=False) == paired[q], q
    assert [r["person_id"] for r in paired["Mathieu Fleuret"]] == ["p2"]


def test_a_snapshot_without_the_name_keys_asks_for_a_new_publication(people):
    people.execute(f"drop table {DELETES}")
    with pytest.raises(NoSnapshot, match="publish it again"):
        search(people, "Mathilde Fleury", identified_only=False)


def _customers(con, rows):
    """marts.customer_360 of (person_id, first name, last name) identified customers, no orders."""
    con.execute("create schema marts")
    con.execute(
        """create table marts.customer_360 as
        select t.person_id, true as is_identified, t.first_name, t.last_name,
               null::varchar as email, null::varchar as phone, null::varchar[] as loyalty_card_ids,
               null::varchar[] as shop_customer_ids, null::varchar[] as clienteling_ids,
               null::varchar[] as esp_contact_ids, null::varchar as city
        from (select unnest($p) as person_id, unnest($f) as first_name, unnest($l) as last_name) t""",
        {"p": [r[0] for r in rows], "f": [r[1] for r in rows], "l": [r[2] for r in rows]},
    )
    con.execute("create table marts.orders (person_id varchar, source_order_id varchar)")
    build_search_index(con)
    return con


CLOSE_NAMES = [
    ("fleury", "Mathilde", "Fleury"),
    ("fleuret", "Mathieu", "Fleuret"),
    ("fleur", "Matilda", "Fleur"),
    ("fleurot", "Mathilde", "Fleurot"),
    ("fleurie", "Mathis", "Fleurie"),
    ("flery", "Clothilde", "Flery"),
    ("duval", "Mathilde", "Duval"),
    ("fleuryd", "Marc", "Fleury"),
]


@pytest.mark.parametrize(
    "typed",
    [
        "Mathilde Fleurry",  # a letter added
        "Mathilde Fleuy",  # a letter left out
        "Mathilde Fleuty",  # a letter changed
        "Mathilde Fluery",  # two letters swapped
        "Matihlde Fleury",  # the typo in the first name
        "fleury mathlde",  # the other order
        "Fleurry M",  # the last name and the first initial
        "M. Fleurry",
    ],
)
def test_a_misspelt_name_finds_the_person_first_among_close_names(typed):
    """Persons whose names are all one or two letters from each other and none the same: one
    typo in the first or the last name, or in the last name typed with an initial, puts the
    person first."""
    con = _customers(duckdb.connect(), CLOSE_NAMES)
    assert search(con, typed, identified_only=False)[0]["person_id"] == "fleury"


def test_an_initial_must_be_the_initial_of_another_name():
    con = _customers(duckdb.connect(), CLOSE_NAMES)

    def ids(typed):
        return [r["person_id"] for r in search(con, typed, identified_only=False)]

    # both Fleury with an M first (tied: by id), then the Fleur- one edit away with an M
    assert ids("Fleury M") == ["fleury", "fleuryd", "fleur"]
    assert ids("Fleury C") == ["flery"]  # Clothilde Flery: one edit, the right initial
    assert ids("Fleury Z") == []


def test_a_rare_name_matched_exactly_beats_a_common_one():
    """ "Marie Kowalsky" is one letter from both Maria Kowalsky and Marie Kowalski: a rare name
    says more than a common one, so the person whose rare name matches exactly comes first,
    whichever of the two is typed first; with the common name matched exactly and the rare
    one not at all, nobody is found."""
    common = [(f"m{i}", "Marie", last) for i, last in enumerate(["Martin", "Bernard"] * 10)]
    maria = [(f"a{i}", "Maria", last) for i, last in enumerate(["Petit", "Robert", "Durand"])]
    con = _customers(
        duckdb.connect(),
        [*common, *maria, ("rare", "Maria", "Kowalsky"), ("other", "Marie", "Kowalski")],
    )
    for typed in ("Marie Kowalsky", "kowalsky marie"):
        assert [r["person_id"] for r in search(con, typed, identified_only=False)] == [
            "rare",
            "other",
        ], typed
    assert search(con, "Marie Zzyzx", identified_only=False) == []


def test_rare_keys_rank_by_similarity_then_idf_weight():
    """The score is the mean of the typed names' similarities weighted by their idf: an exact
    match scores 1, a name one edit away less, and the exact one ranks first."""
    con = _customers(
        duckdb.connect(),
        [("exact", "Jean", "Dupont"), ("typo", "Jean", "Dupond"), ("jeanne", "Jeanne", "Dupont")],
    )
    results = search(con, "jean dupont", identified_only=False)
    assert [r["person_id"] for r in results] == ["exact", "typo", "jeanne"]
    assert results[0]["score"] == 1.0 and 0.9 < results[1]["score"] < 1.0
