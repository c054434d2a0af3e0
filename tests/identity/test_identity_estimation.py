"""The probabilistic model is estimated from the data: EM recovers a known model, ids stay
stable across re-estimation, caps count persons rather than spellings, guards still hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from identity import fellegi_sunter as fs
from identity import load_config, resolve
from identity.config import Comparison, ComparisonLevel

CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "identity.yaml"


@pytest.fixture(scope="module")
def config():
    return load_config(CONFIG_PATH)


def _draw(rng, n: int, probs: np.ndarray) -> np.ndarray:
    return rng.choice(len(probs), size=n, p=probs).astype(np.int16)


def test_em_recovers_known_m_u_and_prior(config):
    """Pairs drawn from a known Fellegi-Sunter model: the fit finds m and the prior again,
    starting from YAML values that are far off."""
    rng = np.random.default_rng(7)
    true_m = [np.array([0.80, 0.15, 0.05]), np.array([0.70, 0.20, 0.10]),
              np.array([0.90, 0.10]), np.array([0.60, 0.30, 0.10])]  # fmt: skip
    true_u = [np.array([0.01, 0.04, 0.95]), np.array([0.02, 0.08, 0.90]),
              np.array([0.05, 0.95]), np.array([0.005, 0.05, 0.945])]  # fmt: skip
    prior, n_candidates, n_random = 0.3, 200_000, 400_000
    is_match = rng.random(n_candidates) < prior
    candidates = np.empty((n_candidates, 4), dtype=np.int16)
    randoms = np.empty((n_random, 4), dtype=np.int16)
    for i in range(4):
        candidates[is_match, i] = _draw(rng, int(is_match.sum()), true_m[i])
        candidates[~is_match, i] = _draw(rng, int((~is_match).sum()), true_u[i])
        randoms[:, i] = _draw(rng, n_random, true_u[i])
    fields = ["first_name", "last_name", "birth_date", "postcode"]
    comps = [
        Comparison(
            field=f,
            levels=[
                ComparisonLevel(
                    name=f"l{j}",
                    kind="exact" if j < len(m) - 1 else "else",
                    m=1 / len(m),
                    u=1 / len(m),
                )
                for j in range(len(m))
            ],
        )
        for f, m in zip(fields, true_m, strict=True)
    ]
    prob = config.probabilistic.model_copy(update={"comparisons": comps})
    model = fs.fit(candidates, randoms, config.model_copy(update={"probabilistic": prob}))
    assert model.converged
    assert model.prior == pytest.approx(prior, abs=0.01)
    for f, m, u in zip(fields, true_m, true_u, strict=True):
        fitted = model.comparisons[f]
        np.testing.assert_allclose([lv.m for lv in fitted], m, atol=0.02)
        np.testing.assert_allclose([lv.u for lv in fitted], u, rtol=0.1, atol=0.002)


def _people(n: int, seed: int) -> pd.DataFrame:
    """Two records per person with typos, from a small list of names (homonyms included)."""
    rng = np.random.default_rng(seed)
    first = np.array(["Marie", "Paul", "Camille", "Lucas", "Chloe", "Hugo", "Emma", "Louis"])
    last = np.array(["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit"])
    rows = []
    for p in range(n):
        f, la = rng.choice(first), rng.choice(last)
        born = f"{rng.integers(1950, 2000)}-{rng.integers(1, 13):02d}-{rng.integers(1, 28):02d}"
        street = f"{rng.integers(1, 200)} rue {rng.choice(['des Lilas', 'Victor Hugo', 'Pasteur'])}"
        postcode = f"{rng.integers(10, 95):02d}{rng.integers(0, 999):03d}"
        base = dict(first_name=f, last_name=la, birth_date=born, street=street,
                    postcode=postcode, city="Ville")  # fmt: skip
        rows.append({"record_id": f"a:{p}", **base})
        typo = la[:-1] + la[-1] * 2
        rows.append({"record_id": f"b:{p}", **base, "last_name": typo})
    return pd.DataFrame(rows)


def test_ids_stable_across_rerun_and_reestimation(config):
    records = _people(300, seed=1)
    first = resolve(records, None, config)
    assert first.stats["model"]["estimated"]
    # another random sample for u and the records in another order: a re-estimation
    est = config.probabilistic.estimation.model_copy(update={"seed": 99})
    other = config.model_copy(
        update={"probabilistic": config.probabilistic.model_copy(update={"estimation": est})}
    )
    again = resolve(records.iloc[::-1].reset_index(drop=True), None, other, previous=first.graph)
    joined = first.graph.merge(again.graph, on="record_id", suffixes=("_1", "_2"))
    assert len(joined) == len(records)
    assert (joined["person_id_1"] == joined["person_id_2"]).all()
    assert again.merges.empty


def test_typo_variants_of_one_guest_count_as_one_name_for_the_cap(config):
    """One guest ordering under many spellings with one e-mail is one person; four really
    different persons behind one e-mail (a shop's address) still trip the cap."""
    spellings = [("Hadrien", "Moreau"), ("Hadrieen", "Mooreau"), ("Hadrien", "Mreau"),
                 ("Hardien", "Moreau"), ("Hadrian", "Moreau"), ("Hadrien", "Moreaux")]  # fmt: skip
    guest = pd.DataFrame(
        [{"record_id": f"shop_order:{i}", "first_name": f, "last_name": la,
          "email": "h.moreau@orange.fr"} for i, (f, la) in enumerate(spellings)]
    )  # fmt: skip
    result = resolve(guest, None, config)
    assert result.graph["person_id"].nunique() == 1
    assert not (result.cluster_report["kind"] == "frequency_cap").any()
    shop = pd.DataFrame(
        [{"record_id": f"pos:{i}", "first_name": f, "last_name": la,
          "email": "boutique.lyon@maison.fr"}
         for i, (f, la) in enumerate([("Anne", "Roux"), ("Paul", "Girard"),
                                      ("Jeanne", "Faure"), ("Marc", "Blanc")])]
    )  # fmt: skip
    capped = resolve(shop, None, config)
    assert capped.graph["person_id"].nunique() == 4
    report = capped.cluster_report
    assert ((report["kind"] == "frequency_cap") & (report["id_type"] == "email")).any()


def test_twins_with_their_own_contacts_stay_apart_and_go_to_review(config):
    base = dict(last_name="Lefebvre", birth_date="1994-06-02", street="12 rue Pasteur",
                postcode="69003", city="Lyon")  # fmt: skip
    twins = pd.DataFrame(
        [
            {"record_id": "shop:1", "first_name": "Lucas", "email": "lucas.lef@gmail.com",
             "phone": "+33611223344", **base},
            {"record_id": "pos:1", "first_name": "Hugo", "email": "hugo94@free.fr",
             "phone": "+33699887766", **base},
        ]
    )  # fmt: skip
    result = resolve(twins, None, config)
    assert result.graph["person_id"].nunique() == 2


def test_a_first_name_replaced_with_everything_else_equal_links(config):
    """No twin signal besides the name (no contact point differs): the evidence links them."""
    base = dict(last_name="Pantazopoulos", birth_date="1971-02-19", street="4 kiora place",
                postcode="2154", city="castle hill")  # fmt: skip
    pair = pd.DataFrame(
        [{"record_id": "a:1", "first_name": "chloe", **base},
         {"record_id": "b:1", "first_name": "eboni", **base}]
    )  # fmt: skip
    filler = _people(200, seed=3)
    result = resolve(pd.concat([filler, pair], ignore_index=True), None, config)
    g = result.graph.set_index("record_id")["person_id"]
    assert g["a:1"] == g["b:1"]


def test_link_mode_never_links_inside_one_source(config):
    rows = [
        {"record_id": "crm:1", "source": "crm", "first_name": "Marie", "last_name": "Dupont",
         "birth_date": "1980-05-04", "postcode": "75011", "email": "marie.d@free.fr"},
        {"record_id": "crm:2", "source": "crm", "first_name": "Marie", "last_name": "Dupont",
         "birth_date": "1980-05-04", "postcode": "75011", "email": "marie.d@free.fr"},
        {"record_id": "loyalty:1", "source": "loyalty", "first_name": "Paul",
         "last_name": "Roux", "birth_date": "1990-01-02", "postcode": "33000"},
    ]  # fmt: skip
    records = pd.DataFrame(rows)
    deduped = resolve(records, None, config)
    g = deduped.graph.set_index("record_id")["person_id"]
    assert g["crm:1"] == g["crm:2"]
    linked = resolve(records, None, config, link_column="source")
    g = linked.graph.set_index("record_id")["person_id"]
    assert g["crm:1"] != g["crm:2"]
    both = pd.concat(
        [records, pd.DataFrame([{**rows[0], "record_id": "loyalty:2", "source": "loyalty"}])],
        ignore_index=True,
    )
    g = resolve(both, None, config, link_column="source").graph.set_index("record_id")
    assert g.loc["crm:1", "person_id"] == g.loc["loyalty:2", "person_id"]


def test_the_order_of_the_records_changes_nothing(config):
    """A SQL read has no order: the estimation must not depend on it."""
    records = _people(300, seed=5)
    shuffled = records.sample(frac=1.0, random_state=3).reset_index(drop=True)
    a = resolve(records, None, config)
    b = resolve(shuffled, None, config)
    assert a.stats["model"] == b.stats["model"]
    joined = a.graph.merge(b.graph, on="record_id", suffixes=("_a", "_b"))
    assert (joined["person_id_a"] == joined["person_id_b"]).all()
