"""The EM is not fooled by blocking, and a file with few kinds of evidence still links.

Candidate pairs are chosen for agreeing on a blocking key, so inside a name block the
homonyms agree on the name by selection: a plain EM takes them for matches (the m of a
disagreeing birth date goes up, the prior to its bound). One EM per key with the key's own
fields left out, as Splink trains per blocking rule, recovers the model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from identity import fellegi_sunter as fs
from identity import load_config, resolve
from identity.config import Comparison, ComparisonLevel
from identity.em import exact_weighs_most

CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "identity.yaml"
FIELDS = ["first_name", "birth_date", "postcode"]
TRUE_M = [np.array([0.90, 0.07, 0.03]), np.array([0.85, 0.10, 0.05]), np.array([0.80, 0.12, 0.08])]
# common names (a name block holds many strangers), rare birth dates
TRUE_U = [np.array([0.03, 0.05, 0.92]), np.array([0.0005, 0.01, 0.9895]),
          np.array([0.01, 0.04, 0.95])]  # fmt: skip


@pytest.fixture(scope="module")
def config():
    return load_config(CONFIG_PATH)


def _draw(rng, n: int, probs: np.ndarray) -> np.ndarray:
    return rng.choice(len(probs), size=n, p=probs).astype(np.int16)


def _blocked_pairs(rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs from a known model, kept when they agree on the first name or the birth date
    (two blocking keys): (levels, key agreement, is_match)."""
    n_match, n_other = 4_000, 3_000_000
    levels = np.empty((n_match + n_other, 3), dtype=np.int16)
    is_match = np.zeros(n_match + n_other, dtype=bool)
    is_match[:n_match] = True
    for i in range(3):
        levels[:n_match, i] = _draw(rng, n_match, TRUE_M[i])
        levels[n_match:, i] = _draw(rng, n_other, TRUE_U[i])
    same_key = np.column_stack([levels[:, 0] == 0, levels[:, 1] == 0])
    chosen = same_key.any(axis=1)
    return levels[chosen], same_key[chosen], is_match[chosen]


def _config(config):
    comps = [
        Comparison(
            field=f,
            levels=[
                ComparisonLevel(name=f"l{j}", kind="exact" if j < 2 else "else", m=m, u=u)
                for j, (m, u) in enumerate([(0.6, 0.1), (0.2, 0.2), (0.2, 0.7)])
            ],
        )
        for f in FIELDS
    ]
    prob = config.probabilistic.model_copy(update={"comparisons": comps})
    return config.model_copy(update={"probabilistic": prob})


def test_em_per_blocking_key_recovers_m_where_plain_em_takes_homonyms_for_matches(config):
    rng = np.random.default_rng(11)
    levels, same_key, is_match = _blocked_pairs(rng)
    randoms = np.column_stack([_draw(rng, 400_000, u) for u in TRUE_U])
    cfg = _config(config)
    per_key = fs.fit(levels, randoms, cfg, blocked=(same_key, [[0], [1]]))
    plain = fs.fit(levels, randoms, cfg)
    for i, f in enumerate(FIELDS):
        fitted = [lv.m for lv in per_key.comparisons[f]]
        np.testing.assert_allclose(fitted, TRUE_M[i], atol=0.05)
    # the plain EM's "matches" are the name block's strangers: a different birth date looks
    # likely for a match, which is what sent RLdata10000's homonyms the wrong way
    assert plain.comparisons["birth_date"][2].m > 0.3
    assert per_key.prior == pytest.approx(is_match.mean(), rel=0.5)


def _name_and_date_file(seed: int) -> pd.DataFrame:
    """Persons known by first name, last name and birth date only (no shared identifier),
    each typed twice with one error, and namesakes born on other dates."""
    rng = np.random.default_rng(seed)
    first = ["Anna", "Ben", "Clara", "David", "Elena", "Felix", "Greta", "Hanna", "Ivan",
             "Jonas", "Karla", "Lukas", "Mia", "Noah", "Olga", "Paul", "Rita", "Sven"]  # fmt: skip
    last = ["Berger", "Fischer", "Hartmann", "Keller", "Lange", "Meyer", "Neumann", "Richter",
            "Schulz", "Vogel", "Wagner", "Zimmer", "Krause", "Brandt", "Seidel"]  # fmt: skip
    rows = []
    for p in range(900):
        born = f"{rng.integers(1940, 2005)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}"
        rec = {"first_name": str(rng.choice(first)), "last_name": str(rng.choice(last)),
               "birth_date": born}  # fmt: skip
        rows.append({"record_id": f"a:{p}", "person": p, **rec})
        if p % 3 == 0:  # a duplicate with a typo in the last name
            la = rec["last_name"]
            rows.append({"record_id": f"b:{p}", "person": p, **rec, "last_name": la + la[-1]})
        elif p % 3 == 1:  # a duplicate with a typo in the birth day
            day = (int(born[-2:]) % 28) + 1
            rows.append({"record_id": f"b:{p}", "person": p, **rec,
                         "birth_date": f"{born[:-2]}{day:02d}"})  # fmt: skip
    return pd.DataFrame(rows)


def test_a_file_of_names_and_birth_dates_links_and_keeps_namesakes_apart(config):
    """Two kinds of evidence (a name, a birth date) where the default asks for three: the
    requirement follows the file, exact evidence links, a mistyped date goes to review."""
    records = _name_and_date_file(seed=5)
    result = resolve(records.drop(columns="person"), None, config)
    model = result.stats["model"]
    assert model["evidence_required"] == 2
    person = records.set_index("record_id")["person"]
    graph = result.graph.set_index("record_id")["person_id"]
    truth = person.reindex(graph.index)
    # precision: no predicted person holds two true persons (namesakes share names here)
    assert (truth.groupby(graph).nunique() == 1).all()
    typo_in_name = [f"{p}" for p in range(0, 900, 3)]
    linked = [graph[f"a:{p}"] == graph[f"b:{p}"] for p in typo_in_name]
    assert np.mean(linked) > 0.9
    review = result.possible_matches
    assert (review["reason"] == "inexact_evidence").any()


def test_a_file_of_names_and_towns_links_no_namesakes(config):
    """Names and postcodes only: the requirement drops to two kinds of evidence, but one must
    be personal (a birth date, a personal number): a name and a town never link, however
    rare the name (here every name is held by one person, or by two namesakes in one town)."""
    rng = np.random.default_rng(9)
    letters = np.array(list("bcdfghklmnprstvz"))
    rows = []
    for i in range(400):
        name = "".join(rng.choice(letters, 4)) + "a"
        rec = {"first_name": name.title(), "last_name": name[::-1].title() + "ek",
               "postcode": f"{10100 + int(rng.integers(0, 40))}", "city": "Berlin"}  # fmt: skip
        rows.append({"record_id": f"r:{i}", **rec})
        if i % 5 == 0:  # a namesake in the same town: another person
            rows.append({"record_id": f"n:{i}", **rec})
    records = pd.DataFrame(rows)
    result = resolve(records, None, config)
    assert result.stats["model"]["evidence_required"] == 2
    assert result.graph["person_id"].nunique() == len(records)


COMMON_NAMES = [("Peter", "Mueller"), ("Anna", "Schmidt"), ("Thomas", "Schneider")]


def _rare_and_common_names_file(seed: int) -> pd.DataFrame:
    """Persons known by name and birth date, half of them typed twice with one digit of the
    birth day mistyped: half bear a name nobody else bears, half one of a few very common
    names (where strangers born a few days apart abound). Birth dates are distinct and fall on
    even days, so that no slip lands on another person's date."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("bcdfghklmnprstvz"))
    days = rng.choice(65 * 12 * 13, size=1_200, replace=False)
    rows = []
    for p, day_index in enumerate(days):
        if p % 2:
            first, last = COMMON_NAMES[p % 6 // 2]
        else:
            first = "".join(rng.choice(letters, 3)).title() + "o"
            last = "".join(rng.choice(letters, 4)).title() + "er"
        year, rest = divmod(int(day_index), 12 * 13)
        month, day = divmod(rest, 13)
        born = f"{1940 + year}-{month + 1:02d}-{2 * day + 2:02d}"
        rows.append({"record_id": f"a:{p}", "person": p, "first_name": first,
                     "last_name": last, "birth_date": born})  # fmt: skip
        if p % 4 < 2:  # the last digit of the day, one up
            rows.append({"record_id": f"b:{p}", "person": p, "first_name": first,
                         "last_name": last, "birth_date": f"{born[:-2]}{2 * day + 3:02d}"})  # fmt: skip
    return pd.DataFrame(rows)


def test_a_birth_date_slip_links_a_rare_name_and_holds_a_common_one(config):
    """In a file of names and birth dates, a pair whose only difference is one slip of the
    birth date links when the full name is rare (its duplicate has few namesakes to compete
    with) and goes to review when the name is common."""
    records = _rare_and_common_names_file(seed=3)
    result = resolve(records.drop(columns="person"), None, config)
    graph = result.graph.set_index("record_id")["person_id"]
    person = records.set_index("record_id")["person"]
    assert (person.reindex(graph.index).groupby(graph).nunique() == 1).all()

    def linked(persons: range) -> float:
        return float(np.mean([graph[f"a:{p}"] == graph[f"b:{p}"] for p in persons]))

    assert linked(range(0, 1_200, 4)) > 0.95  # rare names (p % 4 == 0)
    assert linked(range(1, 1_200, 4)) == 0.0  # common names (p % 4 == 1)
    held = result.possible_matches
    assert (held["reason"] == "inexact_evidence").sum() >= 100


def test_an_exact_value_never_weighs_less_than_a_typo(config):
    """When every duplicate of a file carries exactly one error, the pairs of a blocking key
    differ, by selection, on the fields the key does not read, and the EM finds a typo likelier
    than an exact value among matches. The fitted exact level is raised to the best other
    level's ratio, so a clean record pair never scores below a mistyped one."""
    comp = config.probabilistic.comparisons[0]
    m = np.array([0.1, *[0.8 / (len(comp.levels) - 2)] * (len(comp.levels) - 2), 0.1])
    u = np.array([0.01, *[0.001] * (len(comp.levels) - 2), 0.9])
    fixed = exact_weighs_most(m, u, comp)
    weights = np.log2(fixed / u)
    assert weights[0] == pytest.approx(weights[1:].max())
    assert fixed.sum() == pytest.approx(1.0)
    # the order of the other levels is kept: every weight moved by the same amount
    np.testing.assert_allclose(np.diff(weights[1:]), np.diff(np.log2(m / u)[1:]))
    untouched = np.array([0.8, *[0.1 / (len(comp.levels) - 2)] * (len(comp.levels) - 2), 0.1])
    np.testing.assert_array_equal(exact_weighs_most(untouched, u, comp), untouched)


def test_m_read_off_the_joined_pairs_where_housemates_outnumber_the_matches(config):
    """In a postcode block of a large file the pairs that are not matches are not random pairs:
    housemates and neighbours share first names and birth dates more often than two strangers
    drawn from the whole file (u). A plain EM puts them in the match class (m of an equal first
    name falls towards theirs, the prior rises); the pairs the deterministic rules joined (a
    shared e-mail) show what a match looks like, and m is read off them."""
    rng = np.random.default_rng(7)
    n_joined, n_unknown, n_housemates = 20_000, 5_000, 400_000
    housemates_m = [np.array([0.30, 0.10, 0.60]), np.array([0.02, 0.08, 0.90]),
                    np.array([1.0, 0.0, 0.0])]  # fmt: skip
    n = n_joined + n_unknown + n_housemates
    levels = np.empty((n, 3), dtype=np.int16)
    for i in range(2):
        levels[: n_joined + n_unknown, i] = _draw(rng, n_joined + n_unknown, TRUE_M[i])
        levels[n_joined + n_unknown :, i] = _draw(rng, n_housemates, housemates_m[i])
    levels[:, 2] = 0  # the blocking key: the same postcode
    joined = np.zeros(n, dtype=bool)
    joined[:n_joined] = True
    randoms = np.column_stack([_draw(rng, 400_000, u) for u in TRUE_U])
    cfg = _config(config)
    same_key = np.ones((n, 1), dtype=bool)
    fitted = fs.fit(levels, randoms, cfg, known=joined, blocked=(same_key, [[2]]), joined=joined)
    for i, f in enumerate(FIELDS[:2]):
        np.testing.assert_allclose([lv.m for lv in fitted.comparisons[f]], TRUE_M[i], atol=0.02)
    est = cfg.probabilistic.estimation.model_copy(update={"min_joined_pairs": 10**9})
    plain_cfg = cfg.model_copy(
        update={"probabilistic": cfg.probabilistic.model_copy(update={"estimation": est})}
    )
    plain = fs.fit(levels, randoms, plain_cfg, known=joined, blocked=(same_key, [[2]]),
                   joined=joined)  # fmt: skip
    assert plain.comparisons["first_name"][0].m < 0.7  # 0.9 among the matches
    # the share of matches among the pairs not joined is 5,000 of 405,000
    assert plain.prior > 3 * fitted.prior
