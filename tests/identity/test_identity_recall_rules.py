"""Rules that read the file's own evidence to link more, each with the trap it keeps apart:
a near-miss e-mail or phone as evidence, first-name variants learned from shared e-mails, and
a birth date that differs weighed (not vetoed) in a file whose namesakes at one home are rare.
"""

from __future__ import annotations

from identity import fellegi_sunter as fs
from identity import resolve
from tests.identity.test_identity_engine import _homes, config, ids, rec, recs, same
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
