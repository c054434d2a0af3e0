"""The identity engine: deterministic rules, guards, caps, blocklists, probabilistic matching,
cluster-size splitting and stable person ids, on small hand-built frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdp.config import ConfigError
from identity import load_config, resolve
from identity.config import IdentityConfig
from identity.records import RECORD_COLUMNS

CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "identity.yaml"
# the record columns the engine reads (identity.records), updated_at left out: it is optional
COLUMNS = [c for c in RECORD_COLUMNS if c != "updated_at"]


@pytest.fixture(scope="module")
def config() -> IdentityConfig:
    return load_config(CONFIG_PATH)


def recs(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame([{c: row.get(c) for c in COLUMNS} for row in rows])
    frame["source_system"] = frame["record_id"].str.split(":").str[0]
    return frame


def rec(record_id: str, first_name=None, last_name=None, **columns) -> dict:
    """One record of `recs`: its id, first and last name, any other column by name."""
    return {"record_id": record_id, "first_name": first_name, "last_name": last_name, **columns}


def ids(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["record_id", "id_type", "id_value"])


def person(result, record_id: str) -> str:
    g = result.graph.set_index("record_id")
    return g.loc[record_id, "person_id"]


def same(result, *record_ids: str) -> bool:
    return len({person(result, r) for r in record_ids}) == 1


def test_default_config_loads_and_rejects_unknown_keys(tmp_path, config):
    assert config.default_region == "FR"
    bad = tmp_path / "identity.yaml"
    bad.write_text(CONFIG_PATH.read_text() + "\nmax_cluster_sise: 3\n")
    with pytest.raises(ConfigError, match=r"identity\.yaml.*max_cluster_sise"):
        load_config(bad)
    bad.write_text(CONFIG_PATH.read_text().replace("guard: names,", "guard: sometimes,", 1))
    with pytest.raises(ConfigError, match=r"deterministic\.\d+\.guard"):
        load_config(bad)


@pytest.mark.parametrize(
    ("id_type", "value"),
    [
        ("shop_customer_id", "100234"),
        ("loyalty_card_id", "LC00012345"),
        ("esp_contact_id", "SP-00001234"),
        ("clienteling_id", "CL-0000123"),
        ("shop_order_id", "100009123"),
    ],
)
def test_each_identifier_rule_links_records(config, id_type, value):
    records = recs(
        rec("a:1", "Marie", "Dupont"), rec("b:1", "Lucie", "Bernard"), rec("c:1", "Zoé", "Petit")
    )
    result = resolve(records, ids(("a:1", id_type, value), ("b:1", id_type, value)), config)
    assert same(result, "a:1", "b:1")
    assert not same(result, "a:1", "c:1")
    assert set(result.edges["rule"]) == {id_type}
    assert result.graph.set_index("record_id").loc["b:1", "match_rule"] == id_type
    assert result.graph.set_index("record_id").loc["c:1", "match_rule"] == "singleton"


def test_identifier_numbers_stored_as_floats_still_match(config):
    records = recs(rec("web_visitor:x"), rec("shop_customer:100234"))
    identifiers = pd.DataFrame(
        {
            "record_id": ["web_visitor:x", "shop_customer:100234"],
            "id_type": ["shop_customer_id", "shop_customer_id"],
            "id_value": [100234.0, "100234"],
        }
    )
    assert same(resolve(records, identifiers, config), "web_visitor:x", "shop_customer:100234")


def test_email_rule_uses_match_key(config):
    records = recs(
        rec("a:1", "Marie", "Dupont", email="Marie.Dupont@gmail.com"),
        rec("b:1", "Marie", "Dupont", email="mariedupont+shop@gmial.com"),
        rec("c:1", "Marie", "Dupont", email="marie.dupont@free.fr"),
    )
    dots = config.model_copy(update={"email_ignore_gmail_dots": True})
    result = resolve(records, None, dots)
    assert same(result, "a:1", "b:1")
    assert not same(result, "a:1", "c:1")
    assert result.stats["edges_per_rule"].get("email") == 1
    # the shipped default keeps Gmail dots (homonyms own both forms in practice)
    assert not config.email_ignore_gmail_dots
    kept = resolve(
        records.assign(email=["marie.dupont@gmail.com", "marie.dupont+x@gmial.com", None]),
        None,
        config,
    )
    assert same(kept, "a:1", "b:1")


def test_phone_rule_links_same_person_across_formats(config):
    records = recs(
        rec("a:1", "Marie", "Dupont", phone="06 12 34 56 79"),
        rec("b:1", full_name="DUPONT Marie", phone="612345679"),
        rec("c:1", "Cathy", "Lenoir", phone="+33 7 61 22 33 44"),
        rec("d:1", "Catherine", "Lenoir", phone="0761223344"),
    )
    result = resolve(records, None, config)
    assert same(result, "a:1", "b:1")
    assert same(result, "c:1", "d:1")
    assert not same(result, "a:1", "c:1")


def test_phone_guard_household_phone_not_merged(config):
    records = recs(
        rec("a:1", "Marie", "Dupont", phone="01 45 67 89 12", birth_date="1980-01-01"),
        rec("b:1", "Paul", "Dupont", phone="0145678912", birth_date="1978-05-05"),
        rec("c:1", "Léa", "Dupont", phone="+33145678912"),
    )
    result = resolve(records, None, config)
    assert result.graph["person_id"].nunique() == 3
    assert "phone" not in result.stats["edges_per_rule"]


def test_frequency_cap_generic_email_not_merged_and_reported(config):
    people = [
        {
            "record_id": f"pos_card:{i}",
            "first_name": f,
            "last_name": last,
            "email": "boutique.paris@maison.fr",
        }
        for i, (f, last) in enumerate(
            zip(
                [
                    "Anne",
                    "Bruno",
                    "Chloé",
                    "David",
                    "Emma",
                    "Fabien",
                    "Gaëlle",
                    "Hugo",
                    "Inès",
                    "Jules",
                ]
                * 3,
                [f"Nom{i}" for i in range(30)],
                strict=True,
            )
        )
    ]
    result = resolve(recs(*people), None, config)
    assert result.graph["person_id"].nunique() == 30
    rep = result.cluster_report
    capped = rep[(rep["kind"] == "frequency_cap") & (rep["rule"] == "email")]
    assert capped["value"].tolist() == ["boutique.paris@maison.fr"]
    assert capped["count"].tolist() == [30]


def test_frequency_cap_ignores_repeated_names_of_one_person(config):
    rows = [
        {
            "record_id": f"shop_guest_order:{i}",
            "first_name": "Marie",
            "last_name": "Dupont",
            "email": "marie@free.fr",
        }
        for i in range(12)
    ]
    result = resolve(recs(*rows), None, config)
    assert result.graph["person_id"].nunique() == 1


@pytest.mark.parametrize(
    ("email", "phone"),
    [
        ("test@test.com", None),
        ("noemail@boutique.fr", None),
        (None, "06 00 00 00 00"),
        (None, "0611111111"),
    ],
)
def test_blocklisted_values_do_not_link(config, email, phone):
    records = recs(
        rec("a:1", "Marie", "Dupont", email=email, phone=phone),
        rec("b:1", "Marie", "Durand", email=email, phone=phone),
    )
    result = resolve(records, None, config)
    assert not same(result, "a:1", "b:1")
    assert (result.cluster_report["kind"] == "blocklist").any()


def test_probabilistic_typo_same_birth_date_same_postcode_merged(config):
    records = recs(
        rec(
            "clienteling:CL-1",
            "Stéphanie",
            "Lefebvre",
            birth_date="14/07/1979",
            postcode="69003",
            city="Lyon",
        ),
        rec(
            "spreadsheet:f.xlsx#3",
            "Stephanie",
            "Lefebre",
            birth_date="1979-07-14",
            postcode="69003",
        ),
    )
    result = resolve(records, None, config)
    assert same(result, "clienteling:CL-1", "spreadsheet:f.xlsx#3")
    assert result.edges["rule"].tolist() == ["probabilistic"]
    assert result.edges["score"].iloc[0] >= config.probabilistic.match_probability


def test_probabilistic_homonym_other_city_other_birth_date_not_merged(config):
    records = recs(
        rec(
            "pos_card:LC1",
            "Marie",
            "Martin",
            birth_date="1985-03-12",
            street="3 rue de la Paix",
            postcode="75002",
            city="Paris",
        ),
        rec(
            "pos_card:LC2",
            "Marie",
            "Martin",
            birth_date="1962-11-30",
            street="8 cours Lafayette",
            postcode="69003",
            city="Lyon",
        ),
    )
    result = resolve(records, None, config)
    assert not same(result, "pos_card:LC1", "pos_card:LC2")


def test_probabilistic_household_same_address_other_first_name_not_merged(config):
    base = {"last_name": "Moreau", "street": "12 bd Voltaire", "postcode": "75011", "city": "Paris"}
    records = recs(
        {"record_id": "a:1", "first_name": "Julien", "birth_date": "1975-02-02", **base},
        {"record_id": "b:1", "first_name": "Julie", "birth_date": "1977-09-09", **base},
        {
            "record_id": "c:1",
            "first_name": "Julien",
            "birth_date": "1975-02-02",
            **base,
            "street": "12 boulevard Voltaire",
        },
    )
    result = resolve(records, None, config)
    assert same(result, "a:1", "c:1")
    assert not same(result, "a:1", "b:1")


def test_full_name_in_last_first_order_matches(config):
    records = recs(
        rec("service_ticket:T-1", full_name="GARNIER Sophie", email="sophie.g@orange.fr"),
        rec("shop_customer:1", "Sophie", "Garnier", email="sophie.g@orange.fr"),
    )
    assert same(resolve(records, None, config), "service_ticket:T-1", "shop_customer:1")


def test_max_cluster_size_splits_and_reports(config):
    small = config.model_copy(update={"max_cluster_size": 3})
    # a chain of 5 records held together only by probabilistic links plus two by an id
    base = {
        "first_name": "Marc",
        "last_name": "Lemoine",
        "birth_date": "1990-01-01",
        "postcode": "33000",
    }
    records = recs(*({"record_id": f"x:{i}", **base} for i in range(5)))
    identifiers = ids(("x:0", "shop_customer_id", "7"), ("x:1", "shop_customer_id", "7"))
    result = resolve(records, identifiers, small)
    report = result.cluster_report[result.cluster_report["kind"] == "max_cluster_size"]
    assert report["count"].tolist() == [5]
    sizes = result.graph["person_id"].value_counts()
    assert sizes.max() <= 3
    assert same(result, "x:0", "x:1")


def test_stable_ids_rerun_unchanged(config):
    records = recs(
        rec("a:1", "Marie", "Dupont", email="m@free.fr"),
        rec("b:1", "Marie", "Dupont", email="m@free.fr"),
        rec("c:1", "Paul", "Roux"),
    )
    first = resolve(records, None, config)
    assert first.graph["person_id"].str.startswith("p_").all()
    again = resolve(records.iloc[::-1].reset_index(drop=True), None, config, previous=first.graph)
    merged = first.graph.merge(again.graph, on="record_id", suffixes=("_1", "_2"))
    assert (merged["person_id_1"] == merged["person_id_2"]).all()
    assert again.merges.empty


def test_new_record_joins_existing_person_and_keeps_its_id(config):
    records = recs(
        rec("b:1", "Marie", "Dupont", email="m@free.fr"),
        rec("c:1", "Marie", "Dupont", email="m@free.fr"),
    )
    first = resolve(records, None, config)
    old_id = person(first, "b:1")
    grown = pd.concat(
        [
            records,
            recs(rec("a:0", "Marie", "Dupont", email="m@free.fr")),
        ],
        ignore_index=True,
    )
    second = resolve(grown, None, config, previous=first.graph)
    assert person(second, "a:0") == old_id  # although a:0 is now the smallest record id
    assert second.merges.empty


def test_merge_of_two_persons_larger_survives(config):
    records = recs(
        rec("a:1", "Marie", "Dupont", email="m@free.fr"),
        rec("a:2", "Marie", "Dupont", email="m@free.fr"),
        rec("z:1", "Marie", "Dupont", phone="0698765431"),
    )
    first = resolve(records, None, config)
    big, small = person(first, "a:1"), person(first, "z:1")
    assert big != small
    linked = records.copy()
    linked.loc[linked["record_id"] == "a:2", "phone"] = "06 98 76 54 31"
    second = resolve(linked, None, config, previous=first.graph)
    assert second.graph["person_id"].unique().tolist() == [big]
    assert second.merges[["merged_person_id", "into_person_id"]].values.tolist() == [[small, big]]


def test_split_keeps_id_on_larger_part(config):
    rows = [
        {"record_id": f"r:{i}", "first_name": "Marie", "last_name": "Dupont", "email": "m@free.fr"}
        for i in range(3)
    ]
    records = recs(
        *rows,
        rec("q:0", "Marie", "Dupont", email="m@free.fr"),
    )
    first = resolve(records, None, config)
    assert first.graph["person_id"].nunique() == 1
    old_id = first.graph["person_id"].iloc[0]
    split = records.copy()
    split.loc[split["record_id"] == "q:0", ["email", "first_name"]] = ["other@free.fr", "Paula"]
    second = resolve(split, None, config, previous=first.graph)
    assert {person(second, f"r:{i}") for i in range(3)} == {old_id}
    new_id = person(second, "q:0")
    assert new_id != old_id and new_id.startswith("p_")
    assert second.merges.empty


def test_bad_input_reported_not_crashing(config):
    records = recs(
        rec("a:1", "Marie", "Dupont"),
        rec("a:1", "Marie", "Dupont"),
    )
    identifiers = ids(("nope:1", "shop_customer_id", "5"), ("a:1", "mystery_id", "5"))
    result = resolve(records, identifiers, config)
    kinds = set(result.cluster_report["kind"])
    assert {"duplicate_record_id", "unknown_record_id", "unused_id_type"} <= kinds
    assert len(result.graph) == 1
    with pytest.raises(ValueError, match="record_id"):
        resolve(records.drop(columns="record_id"), None, config)


def test_birth_date_conflict_keeps_father_and_son_apart(config):
    home = {
        "first_name": "Jean",
        "last_name": "Hamel",
        "street": "50 avenue Anatole France",
        "postcode": "76000",
        "city": "Rouen",
    }
    records = recs(
        {"record_id": "shop_customer:1", **home, "birth_date": "1960-01-07"},
        {"record_id": "pos_card:C1", **home, "email": "jean.hamel@free.fr"},
        {"record_id": "pos_card:C2", **home, "birth_date": "1998-07-04"},
        {"record_id": "clienteling:X", **home, "email": "jean.hamel@free.fr"},
    )
    identifiers = ids(
        ("shop_customer:1", "loyalty_card_id", "C1"),
        ("pos_card:C1", "loyalty_card_id", "C1"),
        ("pos_card:C2", "loyalty_card_id", "C2"),
        ("clienteling:X", "loyalty_card_id", "C2"),
    )
    result = resolve(records, identifiers, config)
    assert same(result, "shop_customer:1", "pos_card:C1")
    assert same(result, "pos_card:C2", "clienteling:X")
    assert not same(result, "shop_customer:1", "pos_card:C2")
    rep = result.cluster_report
    assert ((rep["kind"] == "conflict") & (rep["id_type"] == "birth_date")).any()
    # switched off, the shared e-mail joins them (which is why the check exists)
    off = config.model_copy(
        update={"conflicts": config.conflicts.model_copy(update={"enabled": False})}
    )
    assert same(resolve(records, identifiers, off), "shop_customer:1", "pos_card:C2")


def test_birth_date_conflict_shared_email_of_homonyms(config):
    records = recs(
        rec("a:1", "Arthur", "Dubois", email="arthurdubois@gmail.com", birth_date="1976-05-16"),
        rec("b:1", "Arthur", "Dubois", email="arthurdubois@gmail.com", birth_date="05/16/1990"),
        rec("c:1", "Arthur", "Dubois", email="arthurdubois@gmail.com", birth_date="1990-16-05"),
        rec("d:1", "Arthur", "Dubois", email="arthurdubois@gmail.com", birth_date="16/05/1976"),
        rec("e:1", "Arthur", "Dubois", email="arthurdubois@gmail.com", birth_date="1976-05-61"),
    )
    result = resolve(records, None, config)
    # d (same date, other format) joins a; b, c, e have unparseable dates and join too
    assert same(result, "a:1", "d:1", "b:1", "c:1", "e:1")
    other = recs(
        rec("a:1", "Arthur", "Dubois", email="arthurdubois@gmail.com", birth_date="1976-05-16"),
        rec("b:1", "Arthur", "Dubois", email="arthurdubois@gmail.com", birth_date="1990-02-03"),
        rec("c:1", "Arthur", "Dubois", email="arthurdubois@gmail.com", birth_date="1976-16-05"),
    )
    result = resolve(other, None, config)
    assert not same(result, "a:1", "b:1")


def test_mobile_conflict_keeps_homonyms_sharing_an_email_apart(config):
    records = recs(
        rec(
            "shop_customer:1",
            "Daniel",
            "Leroy",
            email="danielleroy@gmail.com",
            phone="06 16 91 22 83",
        ),
        rec(
            "esp_contact:2",
            "Daniel",
            "Leroy",
            email="danielleroy@gmail.com",
            phone="06 64 24 31 79",
        ),
        rec("esp_contact:3", "Daniel", "Leroy", email="danielleroy@gmail.com"),
        # a shared landline is no conflict
        rec("pos_card:4", "Lucie", "Roy", email="lucie@free.fr", phone="01 45 67 89 12"),
        rec("pos_card:5", "Lucie", "Roy", email="lucie@free.fr", phone="06 12 44 55 66"),
    )
    result = resolve(records, None, config)
    assert not same(result, "shop_customer:1", "esp_contact:2")
    assert same(result, "pos_card:4", "pos_card:5")
    rep = result.cluster_report
    assert ((rep["kind"] == "conflict") & (rep["id_type"] == "mobile_phone")).any()


def test_typed_columns_from_the_warehouse(config):
    # DuckDB hands over DATE, BIGINT and TIMESTAMP columns: they are normalised like text
    records = pd.DataFrame(
        {
            "record_id": ["spreadsheet:a.xlsx#1", "pos_card:LC1"],
            "first_name": ["Zoé", "Zoe"],
            "last_name": ["Lambert", "LAMBERT"],
            "phone": pd.array([612345671, None], dtype="Int64"),
            "birth_date": pd.to_datetime(["1990-04-02", "1990-04-02"]),
            "postcode": [1000, 1000],
            "updated_at": pd.to_datetime(["2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"]),
        }
    )
    result = resolve(records, None, config)
    assert same(result, "spreadsheet:a.xlsx#1", "pos_card:LC1")
    from identity.engine import prepare

    norm = prepare(records, config)
    assert norm["phone"].tolist() == ["+33612345671", None]
    assert norm["postcode"].tolist() == ["01000", "01000"]
    assert norm["birth_date"].tolist() == ["1990-04-02", "1990-04-02"]


def test_empty_input(config):
    result = resolve(pd.DataFrame(columns=COLUMNS), None, config)
    assert result.graph.empty and list(result.graph.columns) == [
        "record_id",
        "person_id",
        "match_rule",
    ]
    assert result.stats["persons"] == 0


def test_a_birth_date_held_by_many_records_weighs_little(config, tmp_path):
    """Two homonyms in one postcode born on a form's default date stay apart, while the same
    pair born on an ordinary date is one person (the date's weight is its real rarity)."""
    filler = [
        {"record_id": f"spreadsheet:f#{i}", "first_name": f"Nom{i}", "birth_date": "2004-10-30"}
        for i in range(30)
    ]
    pair = [
        {"record_id": "shop_customer:1", "first_name": "Olivia", "last_name": "Davies",
         "email": "olivia.davies3@gmail.com", "postcode": "75011"},
        {"record_id": "pos_card:LC1", "first_name": "Olivia", "last_name": "Davies",
         "phone": "+33612345670", "postcode": "75011"},
    ]  # fmt: skip
    common = recs(*filler, *[dict(r, birth_date="2004-10-30") for r in pair])
    rare = recs(*filler, *[dict(r, birth_date="1987-03-12") for r in pair])
    assert not same(resolve(common, None, config), "shop_customer:1", "pos_card:LC1")
    assert same(resolve(rare, None, config), "shop_customer:1", "pos_card:LC1")
    plain = tmp_path / "identity.yaml"
    plain.write_text(
        CONFIG_PATH.read_text().replace("term_frequency: true", "term_frequency: false")
    )
    no_tf = load_config(plain)
    assert same(resolve(common, None, no_tf), "shop_customer:1", "pos_card:LC1")


def test_term_frequency_only_on_exact_levels(tmp_path):
    bad = tmp_path / "identity.yaml"
    bad.write_text(
        CONFIG_PATH.read_text().replace(
            "kind: date_typo, m: 0.06, u: 0.001",
            "kind: date_typo, m: 0.06, u: 0.001, term_frequency: true",
        )
    )
    with pytest.raises(ConfigError, match="term_frequency needs kind exact"):
        load_config(bad)


FIRSTS = ["julien", "camille", "thomas", "sophie", "nicolas", "claire", "antoine", "emma", "hugo",
          "lea", "lucas", "chloe", "mathieu", "manon", "pierre", "laura"]  # fmt: skip
LASTS = ["martin", "bernard", "dubois", "thomas", "robert", "richard", "petit", "durand",
         "leroy", "moreau", "simon", "laurent", "lefebvre", "michel", "garcia", "david"]  # fmt: skip


def _homes(n: int, second_birth_date) -> list[dict]:
    """n homes, each with two records under one full name; the second record's birth date is
    ``second_birth_date(first's)``: the same (one person typed twice) or another (father, son)."""
    rows = []
    for k in range(n):
        first, last = FIRSTS[k % len(FIRSTS)], LASTS[(k // len(FIRSTS)) % len(LASTS)]
        home = {"first_name": first, "last_name": last, "street": f"{k + 1} rue des lilas",
                "postcode": f"{75001 + k % 20:05d}", "city": "paris"}  # fmt: skip
        born = f"19{50 + k % 40}-0{1 + k % 9}-1{k % 10}"
        rows.append({**home, "record_id": f"shop:{k}a", "birth_date": born})
        rows.append({**home, "record_id": f"pos:{k}b", "birth_date": second_birth_date(born)})
    return rows


@pytest.mark.parametrize(
    ("second_birth_date", "linked"),
    [
        (lambda born: born, True),  # namesakes at one home are rare in this file
        (lambda born: f"{int(born[:4]) + 28}-11-2{born[-1]}", False),  # fathers and sons
    ],
)
def test_namesake_guard_follows_the_file(config, second_birth_date, linked):
    """A same-name pair at one home without a birth date on one side is held as possible
    namesakes only when the file shows that namesakes at one home are common."""
    target = {"first_name": "gaspard", "last_name": "fontaine", "street": "9 impasse verte",
              "postcode": "69003", "city": "lyon"}  # fmt: skip
    rows = [
        *_homes(60, second_birth_date),
        {**target, "record_id": "shop:t1", "birth_date": "1971-04-02"},
        {**target, "record_id": "pos:t2"},
    ]
    result = resolve(recs(*rows), ids(), config)
    model = result.stats["model"]
    assert model["namesake_pairs"] >= config.probabilistic.namesake_min_pairs
    assert (model["namesake_rate"] <= config.probabilistic.namesake_rate_max) is linked
    assert same(result, "shop:t1", "pos:t2") is linked


def test_a_first_name_cut_short_shares_an_email_but_not_its_other_gender_form(config):
    """Isa/Isabelle on one e-mail is one person; Jean/Jeanne on one e-mail is a household."""
    records = recs(
        rec("shop_customer:1", "Isa", "Lecomte", email="isabelle.lecomte@hotmail.com"),
        rec("esp_contact:1", "Isabelle", "Lecomte", email="isabelle.lecomte@hotmail.com"),
        rec("shop_customer:2", "Jean", "Roux", email="famille.roux@orange.fr"),
        rec("esp_contact:2", "Jeanne", "Roux", email="famille.roux@orange.fr"),
    )
    result = resolve(records, None, config)
    assert same(result, "shop_customer:1", "esp_contact:1")
    assert not same(result, "shop_customer:2", "esp_contact:2")
