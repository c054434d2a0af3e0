"""Normalisation: phones, e-mails, names, addresses, birth dates (scalar and vectorised agree)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import phonenumbers
import pytest

from cdp import normalize as nz

PHONE_FORMATS = [
    "06 12 34 56 78",
    "06.12.34.56.78",
    "06-12-34-56-78",
    "0612345678",
    "+33 6 12 34 56 78",
    "+33612345678",
    "+33 (0)6 12 34 56 78",
    "0033 6 12 34 56 78",
    "0033612345678",
    "33612345678",
    "612345678",
    "612345678.0",
    612345678.0,
    612345678,
]


@pytest.mark.parametrize("value", PHONE_FORMATS)
def test_phone_formats_give_e164(value):
    assert nz.normalize_phone(value) == "+33612345678"


def test_phone_series_matches_scalar_for_every_format():
    values = pd.Series([str(v) for v in PHONE_FORMATS] + [None, "12345", "06 12", "abc"])
    out = nz.normalize_phone_series(values)
    assert out.tolist()[: len(PHONE_FORMATS)] == ["+33612345678"] * len(PHONE_FORMATS)
    assert out.tolist()[len(PHONE_FORMATS) :] == [None, None, None, None]
    floats = nz.normalize_phone_series(pd.Series([612345678.0, float("nan")]))
    assert floats.tolist() == ["+33612345678", None]


def test_phone_fast_path_agrees_with_scalar_path():
    # every two-digit French prefix, right length or not: vectorised == scalar (phonenumbers)
    values = [f"0{p:02d}1234567" for p in range(0, 100)] + [
        f"0{p:02d}123456" for p in range(10, 20)
    ]
    assert nz.normalize_phone_series(pd.Series(values)).tolist() == [
        nz.normalize_phone(v) for v in values
    ]
    # assigned ranges are valid; an unassigned range of the right shape is kept; 00... is not
    assert nz.normalize_phone("0639226579") == "+33639226579"
    assert not phonenumbers.is_valid_number(phonenumbers.parse("0639226579", "FR"))
    assert nz.normalize_phone("0012345678") is None
    assert nz.normalize_phone("06123456789") is None


def test_phone_region_per_row_and_invalid():
    out = nz.normalize_phone_series(
        pd.Series(["020 7946 0958", "020 7946 0958", "+32 470 12 34 56"]),
        pd.Series(["GB", None, "BE"]),
    )
    assert out.tolist() == ["+442079460958", None, "+32470123456"]
    assert nz.normalize_phone("020 7946 0958", "GB") == "+442079460958"
    assert nz.normalize_phone("12") is None
    assert nz.normalize_phone(None) is None
    assert nz.normalize_phone("") is None
    # idempotent
    assert nz.normalize_phone("+442079460958", "FR") == "+442079460958"


@pytest.mark.parametrize(
    ("raw", "email", "key"),
    [
        (" Marie.Dupont@Gmail.com ", "marie.dupont@gmail.com", "mariedupont@gmail.com"),
        ("marie.dupont+promo@gmail.com", "marie.dupont+promo@gmail.com", "mariedupont@gmail.com"),
        ("Marie.Dupont@googlemail.com", "marie.dupont@googlemail.com", "mariedupont@gmail.com"),
        ("marie.dupont@gmial.com", "marie.dupont@gmial.com", "mariedupont@gmail.com"),
        ("marie.dupont@gmail.fr", "marie.dupont@gmail.fr", "mariedupont@gmail.com"),
        ("jean.martin@hotmial.com", "jean.martin@hotmial.com", "jean.martin@hotmail.com"),
        ("jean.martin+x@yaho.fr", "jean.martin+x@yaho.fr", "jean.martin@yahoo.fr"),
        ("j.martin@orange.fr", "j.martin@orange.fr", "j.martin@orange.fr"),
        ("<MAILTO:J@Free.fr>", "j@free.fr", "j@free.fr"),
        ("jean.martin@", None, None),
        ("jean..martin@free.fr", None, None),
        ("jean martin", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_email_display_and_match_key(raw, email, key):
    assert nz.normalize_email(raw) == email
    assert nz.email_match_key(raw) == key
    series = pd.Series([raw])
    assert nz.normalize_email_series(series).tolist() == [email]
    assert nz.email_match_key_series(series).tolist() == [key]
    if email is not None:  # idempotent
        assert nz.normalize_email(email) == email
        assert nz.email_match_key(key) == key


def test_name_fold_display_and_keys():
    assert nz.fold_name("  Hélène   D'ARCY-Lefèvre ") == "helene d arcy lefevre"
    assert nz.fold_name("ŒUVRAY") == "oeuvray"
    assert nz.fold_name("   ") is None
    assert nz.display_name("  héLÈNE  ") == "Hélène"
    assert nz.display_name("JEAN-PIERRE") == "Jean-Pierre"
    assert nz.display_name("charles DE GAULLE") == "Charles de Gaulle"
    assert nz.display_name("marie d'ARCY") == "Marie d'Arcy"
    assert nz.display_name("McAllister") == "McAllister"
    assert nz.name_key("de la Fontaine") == nz.name_key("Delafontaine") == "delafontaine"
    assert nz.name_key("Le Gall") == nz.name_key("LEGALL")
    assert nz.first_name_key("Jean-Pierre") == nz.first_name_key("jean pierre") == "jeanpierre"
    assert nz.first_name_key("JP") == "jp"
    assert nz.first_name_key("Éloïse") == "eloise"


@pytest.mark.parametrize(
    ("nick", "name"),
    [("Cathy", "Catherine"), ("Bob", "Robert"), ("Alex", "Alexandre"), ("Sasha", "Alex"),
     ("Max", "Maximilien"), ("Charlie", "Charles"), ("Adrien", "Adrian")],
)  # fmt: skip
def test_nicknames_come_from_the_general_list_and_keep_their_own_key(nick, name):
    a = pd.Series([nz.first_name_key(nick)])
    b = pd.Series([nz.first_name_key(name)])
    assert nz.first_name_key(nick) == nz.fold_name(nick)
    assert nz.is_nickname_pair(a, b).tolist() == [True]
    assert nz.is_nickname_pair(b, a).tolist() == [True]


def test_different_names_and_equal_names_are_no_nickname_pair():
    a = pd.Series(["alexandre", "charles", "marie", None])
    b = pd.Series(["charles", "charles", "paul", "marie"])
    assert nz.is_nickname_pair(a, b).tolist() == [False, False, False, False]


def test_matcher_carries_no_copy_of_the_generator_diminutives():
    """The generator's own diminutives must not be a table of the matcher (issue: generator
    independence); the general list may share some of them, as any list of nicknames would."""
    assert not hasattr(nz, "NICKNAMES") and not hasattr(nz, "AMBIGUOUS_NICKNAMES")
    assert not hasattr(nz, "EMAIL_DOMAIN_TYPOS")


def test_mailbox_domain_typos_are_corrected_by_rule_not_by_table():
    assert nz.email_match_key("marie@gmial.com") == "marie@gmail.com"
    assert nz.email_match_key("marie@hotmail.con") == "marie@hotmail.com"
    assert nz.email_match_key("marie@yahooo.fr") == "marie@yahoo.fr"
    assert nz.email_match_key("marie@googlemail.com") == "marie@gmail.com"
    # a real small domain one letter away from nothing known is kept
    assert nz.email_match_key("marie@dupont-avocats.fr") == "marie@dupont-avocats.fr"


def test_split_full_name():
    assert nz.split_full_name("DUPONT Marie") == ("Marie", "DUPONT")
    assert nz.split_full_name("Marie DUPONT") == ("Marie", "DUPONT")
    assert nz.split_full_name("Dupont, Marie") == ("Marie", "Dupont")
    assert nz.split_full_name("Mme Marie Dupont") == ("Marie", "Dupont")
    assert nz.split_full_name("Dupont") == (None, "Dupont")
    assert nz.split_full_name(None) == (None, None)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("12B, Bd  St-Michel\nApt 3", "12 bis boulevard saint michel"),
        ("12 bis boulevard Saint-Michel", "12 bis boulevard saint michel"),
        ("12bis boul. St Michel", "12 bis boulevard saint michel"),
        ("3 r. de la Paix", "3 rue de la paix"),
        ("5 av Foch", "5 avenue foch"),
        ("5 Avenue Foch", "5 avenue foch"),
        ("1 chem. des Vignes", "1 chemin des vignes"),
        ("2 pl. du Marché", "2 place du marche"),
        ("7 ter rue Pasteur", "7 ter rue pasteur"),
        ("7T rue Pasteur", "7 ter rue pasteur"),
    ],
)
def test_street(raw, key):
    assert nz.normalize_street(raw) == key
    assert nz.normalize_street(key) == key


def test_postcode_and_city():
    assert nz.normalize_postcode("1000") == "01000"
    assert nz.normalize_postcode("6000.0") == "06000"
    assert nz.normalize_postcode(" 75 002 ") == "75002"
    assert nz.normalize_postcode("SW1A 1AA", "GB") == "SW1A1AA"
    assert nz.normalize_postcode_series(pd.Series([1000.0, None])).tolist() == ["01000", None]
    assert nz.normalize_city("ST-DENIS CEDEX 02") == "saint denis"
    assert nz.normalize_city("Saint Denis") == "saint denis"
    assert nz.normalize_city("Saint-Étienne") == "saint etienne"
    assert nz.normalize_city("STE MAXIME") == "sainte maxime"
    assert nz.normalize_city("Paris 2e") == "paris"


@pytest.mark.parametrize(
    "raw",
    [
        "1985-03-12",
        "1985-03-12T00:00:00",
        "12/03/1985",
        "12-03-1985",
        "12.03.1985",
        "19850312",
        "31118",
        "31118.0",
    ],
)
def test_birth_date_formats(raw):
    assert nz.parse_birth_date(raw) == dt.date(1985, 3, 12)


@pytest.mark.parametrize(
    "raw", ["2090-01-01", "1900-01-01", "1850-05-05", "32/01/1990", "31/02/1990", "hier", "", None]
)
def test_birth_date_implausible_or_invalid(raw):
    assert nz.parse_birth_date(raw) is None


def test_birth_date_too_young_rejected():
    today = dt.date(2026, 6, 1)
    assert nz.parse_birth_date("2020-01-01", today) is None
    assert nz.parse_birth_date("2000-01-01", today) == dt.date(2000, 1, 1)


def test_birth_date_series():
    s = pd.Series(["1985-03-12", "12/03/1985", None, "nonsense"])
    assert nz.parse_birth_date_series(s).tolist() == ["1985-03-12", "1985-03-12", None, None]
    assert nz.parse_birth_date_series(pd.Series([31118.0])).tolist() == ["1985-03-12"]


def test_is_mobile_series():
    phones = pd.Series(
        ["+33612345678", "+33145678912", "+393261234567", "+442079460958", "+447911123456", None]
    )
    assert nz.is_mobile_series(phones).tolist() == [True, False, True, False, True, False]


def test_one_date_parser_placeholder_is_a_date_but_not_a_birth_date():
    today = dt.date(2026, 6, 1)
    assert nz.parse_date("1900-01-01") == dt.date(1900, 1, 1)
    assert nz.parse_past_date("1900-01-01", today) == dt.date(1900, 1, 1)
    assert nz.parse_birth_date("1900-01-01", today) is None
    assert nz.parse_birth_date("01/01/1900", today) is None
    assert nz.parse_birth_date("1900-01-02", today) == dt.date(1900, 1, 2)
    assert dt.date(1900, 1, 1) in nz.PLACEHOLDER_BIRTH_DATES


def test_one_date_parser_two_digit_years_and_order():
    today = dt.date(2026, 6, 1)
    # general dates stay in the past; birth dates leave the person old enough
    assert nz.parse_date("15/05/24", latest=today) == dt.date(2024, 5, 15)
    assert nz.parse_date("15/05/30", latest=today) == dt.date(1930, 5, 15)
    assert nz.parse_birth_date("12/03/85", today) == dt.date(1985, 3, 12)
    assert nz.parse_birth_date("12/03/20", today) == dt.date(1920, 3, 12)
    assert nz.parse_date("03/12/1985", "month_first") == dt.date(1985, 3, 12)
    assert nz.parse_past_date("2090-01-01", today) is None
    assert nz.parse_date("hier") is None


def test_dbt_date_udfs_are_the_python_rule():
    """The staging layer's UDFs (dbt_project/plugins/cdp_udfs.py) give the core's answers."""
    import importlib.util

    import duckdb

    from cdp.settings import PROJECT_ROOT

    spec = importlib.util.spec_from_file_location(
        "cdp_udfs", PROJECT_ROOT / "dbt_project" / "plugins" / "cdp_udfs.py"
    )
    udfs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(udfs)
    values = [
        "1985-03-12", "12/03/1985", "12.03.1985", "31118", "19850312", "12/03/85",
        "1900-01-01", "0001-01-01", "31/02/1990", "2090-01-01", "2020-01-01", "hier", None,
    ]  # fmt: skip
    con = duckdb.connect()
    udfs.register(con)
    rows = con.execute(
        "select v, cdp_parse_date(v), cdp_past_date(v), cdp_birth_date(v) from unnest(?) t(v)",
        [values],
    ).fetchall()

    def iso(d: dt.date | None) -> str | None:
        return None if d is None else d.isoformat()

    for value, parsed, past, birth in rows:
        assert parsed == iso(nz.parse_date(value)), value
        assert past == iso(nz.parse_past_date(value)), value
        assert birth == iso(nz.parse_birth_date(value)), value
    births = {value: birth for value, _, _, birth in rows}
    assert births["1900-01-01"] is None and births["12/03/1985"] == "1985-03-12"


def test_display_street_expands_with_accents_and_capitals():
    assert nz.display_street("12 r. de la Paix\nApt 3") == "12 rue de la Paix"
    assert nz.display_street("12 Bd. St-Michel") == "12 boulevard Saint-Michel"
    assert nz.display_street("3b all. des Roses") == "3 bis allée des Roses"
    assert nz.display_street("  ") is None


def test_dbt_phone_udf_is_the_python_rule():
    """`cdp_normalize_phone` normalises a whole column in one vectorised pass: the answer of
    `normalize_phone` for each value, with the row's region (the default when it has none)."""
    import duckdb

    from dbt_project.plugins.cdp_udfs import register

    rows = [
        ("06 12 34 56 78", "FR"), ("06.12.34.56.78", None), ("+33 (0)6 12 34 56 78", "FR"),
        ("0033 6 12 34 56 78", "FR"), ("33612345678", "FR"), ("612345678.0", "FR"),
        ("06 12 34 56 78 poste 12", "FR"), ("06 39 98 76 54", "FR"), ("12345", "FR"),
        ("00 00 00 00 00", "FR"), ("612 345 678", "ES"), ("+34 612 345 678", "FR"),
        ("07700 900123", "GB"), ("030 1234567", "DE"), ("", "FR"), (None, "FR"),
    ]  # fmt: skip
    con = duckdb.connect()
    register(con, "FR")
    table = pd.DataFrame(rows, columns=["v", "r"], dtype=object).reset_index()
    con.register("t", table)
    got = con.execute("select cdp_normalize_phone(v, coalesce(r, 'FR')) from t order by index")
    got = got.fetchall()
    assert [g for (g,) in got] == [nz.normalize_phone(v, r or "FR") for v, r in rows]
    assert got[0] == ("+33612345678",) and got[8] == (None,)
