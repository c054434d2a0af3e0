"""Rules that read the file's own evidence to link more, each with the trap it keeps apart:
a near-miss e-mail or phone as evidence, first-name variants learned from shared e-mails, and
a birth date that differs weighed (not vetoed) in a file whose namesakes at one home are rare.
"""

from __future__ import annotations

from identity import fellegi_sunter as fs
from identity import resolve
from tests.identity.test_identity_engine import FIRSTS, LASTS, _homes, config, ids, rec, recs, same
from tests.identity.test_identity_scoring import _pair

__all__ = ["config"]  # the module fixture, shared with the engine tests


def _outcome(config, records: int, **levels: str) -> str:
    """The fate of one hand-made pair in a file of ``records`` records (0.8 duplicates each)."""
    model = fs.starting_model(config)
    model.prior, model.records, model.candidate_pairs = 0.2, records, 2 * records
    _, probability, reason = fs.score(_pair(config, **levels), model, config, {})
    assert probability[0] >= config.probabilistic.match_probability
    return fs.HELD[reason[0]] if reason[0] else "linked"


def test_a_mistyped_email_is_a_piece_of_evidence(config):
    """A full name and the same mailbox one typo away (olivia.edwadrs@ / olivia.edwards@) is
    two pieces of evidence, one of them personal: linked. A full name and another mailbox is a
    namesake as often as not: held, as before."""
    name = {"first_name": "exact", "last_name": "exact"}
    assert _outcome(config, 1_000, email="one_typo", **name) == "linked"
    assert _outcome(config, 1_000, phone="last_digits", **name) == "linked"
    assert _outcome(config, 1_000, email="different", **name) == "too_little_evidence"
    assert _outcome(config, 1_000, **name) == "too_little_evidence"


def test_a_name_and_a_birth_date_link_only_on_rare_evidence_and_nothing_against(config):
    """Two pieces, one personal, nothing that differs, and a weight the whole file's prior
    cannot explain: one person in two sources. Twins (another first name) and father and son
    (another birth date) still need a third piece."""
    assert _outcome(config, 1_000, first_name="exact", last_name="exact",
                    birth_date="exact") == "linked"  # fmt: skip
    assert _outcome(config, 1_000, first_name="two_edits", last_name="exact",
                    birth_date="exact") == "too_little_evidence"  # fmt: skip
    # a name and a birth date with one digit changed weigh too little in a file of 10^8
    assert _outcome(config, 100_000_000, first_name="exact", last_name="exact",
                    birth_date="typo") == "too_little_evidence"  # fmt: skip


def _family(last: str, first_a: str, first_b: str, email: str) -> list[dict]:
    return [
        rec(f"shop_customer:{last}-{first_a}", first_a, last, email=email),
        rec(f"esp_contact:{last}-{first_b}", first_b, last, email=email),
    ]


def test_first_name_variants_are_learned_from_the_file(config):
    """Mimie sits with Marie on one e-mail in family after family: a diminutive, learned, and
    the name guard of the e-mail rule lets it through. Paul shares e-mails with Marie, Sophie
    and Anne: a husband, never learned, and Paul and Marie Roux on one family address stay
    two persons."""
    rows = []
    for k, last in enumerate(["vidal", "caron", "faure", "morel", "roche"]):
        rows += _family(last, "Mimie", "Marie", f"marie.{last}{k}@free.fr")
    for k, last in enumerate(["blanc", "brun", "colin", "dumas", "fabre", "gauthier", "henry",
                              "jacob", "lemoine"]):  # fmt: skip
        rows += _family(last, "Paul", ["Marie", "Sophie", "Anne"][k % 3], f"famille.{last}@sfr.fr")
    rows += _family("roux", "Paul", "Marie", "famille.roux@orange.fr")
    records = recs(*rows)
    result = resolve(records, ids(), config)
    assert same(result, "shop_customer:vidal-Mimie", "esp_contact:vidal-Marie")
    assert not same(result, "shop_customer:roux-Paul", "esp_contact:roux-Marie")
    assert not same(result, "shop_customer:blanc-Paul", "esp_contact:blanc-Marie")
    off = config.model_copy(
        update={"name_variants": config.name_variants.model_copy(update={"enabled": False})}
    )
    assert not same(resolve(records, ids(), off), "shop_customer:vidal-Mimie",
                    "esp_contact:vidal-Marie")  # fmt: skip


def test_a_variant_seen_in_too_few_families_is_not_learned(config):
    rows = []
    for k, last in enumerate(["vidal", "caron"]):
        rows += _family(last, "Mimie", "Marie", f"marie.{last}{k}@free.fr")
    result = resolve(recs(*rows), ids(), config)
    assert config.name_variants.min_persons > 2
    assert not same(result, "shop_customer:vidal-Mimie", "esp_contact:vidal-Marie")


def _target(result) -> bool:
    return same(result, "shop:t1", "pos:t2")


def test_a_birth_date_that_differs_is_weighed_where_namesakes_are_rare(config):
    """Same name, same home, another birth date: a corrupted date in a file whose namesakes
    at one home are rare (every other same-name pair at one home agrees on its date), linked;
    a father and his son in a file of fathers and sons, kept apart (guard and date conflict)."""
    target = {"first_name": "gaspard", "last_name": "fontaine", "street": "9 impasse verte",
              "postcode": "69003", "city": "lyon"}  # fmt: skip
    pair = [
        {**target, "record_id": "shop:t1", "birth_date": "1971-04-02"},
        {**target, "record_id": "pos:t2", "birth_date": "1998-10-27"},
    ]
    rare = resolve(recs(*_homes(60, lambda born: born), *pair), ids(), config)
    assert rare.stats["model"]["namesake_rate"] <= config.probabilistic.namesake_rate_max
    assert _target(rare)
    fathers = resolve(
        recs(*_homes(60, lambda born: f"{int(born[:4]) + 28}-11-2{born[-1]}"), *pair),
        ids(),
        config,
    )
    assert fathers.stats["model"]["namesake_rate"] > config.probabilistic.namesake_rate_max
    assert not _target(fathers)
    assert not any(same(fathers, f"shop:{k}a", f"pos:{k}b") for k in range(60))


OTHER_FIRSTS = ["bertrand", "odile", "gilles", "yvette", "roland", "ginette", "marcel", "josiane"]


def _at_home(n: int, spouses: bool) -> list[dict]:
    """n homes of two records under one last name and two first names: one person whose first
    name was replaced in one file (one birth date), or a couple (two birth dates)."""
    rows = []
    for k in range(n):
        home = {"last_name": f"{LASTS[k % len(LASTS)]}{'abcdefgh'[k // len(LASTS)]}",
                "street": f"{k + 1} rue des lilas", "postcode": f"{75001 + k % 20:05d}",
                "city": "paris"}  # fmt: skip
        born = f"19{50 + k % 40}-0{1 + k % 9}-1{k % 10}"
        other = f"19{52 + k % 40}-1{k % 3}-2{k % 10}" if spouses else born
        rows.append({**home, "record_id": f"shop:{k}a", "first_name": FIRSTS[k % len(FIRSTS)],
                     "birth_date": born})  # fmt: skip
        rows.append({**home, "record_id": f"pos:{k}b",
                     "first_name": OTHER_FIRSTS[k % len(OTHER_FIRSTS)], "birth_date": other})  # fmt: skip
    return rows


def test_a_second_difference_is_a_typo_where_the_file_has_no_households(config):
    """Another first name and another town, the rest equal (a birth date among it): in a file
    where another first name at one home comes with the same birth date (names mistyped),
    linked; in a file of couples (two birth dates at every home), held as contradicted."""
    target = {"last_name": "fontaine", "street": "9 impasse verte", "postcode": "69003",
              "birth_date": "1971-04-02"}  # fmt: skip
    pair = [
        {**target, "record_id": "shop:t1", "first_name": "gaspard", "city": "lyon"},
        {**target, "record_id": "pos:t2", "first_name": "norbert", "city": "villeurbanne"},
    ]
    typos = resolve(recs(*_at_home(60, spouses=False), *pair), ids(), config)
    assert typos.stats["model"]["housemate_rate"] <= config.probabilistic.namesake_rate_max
    assert _target(typos)
    couples = resolve(recs(*_at_home(60, spouses=True), *pair), ids(), config)
    assert couples.stats["model"]["housemate_rate"] > config.probabilistic.namesake_rate_max
    assert not _target(couples)
    assert not any(same(couples, f"shop:{k}a", f"pos:{k}b") for k in range(60))
