"""Scoring rules that depend on the size of the file, on a hand-made pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from identity import fellegi_sunter as fs
from identity import load_config

CONFIG = Path(__file__).resolve().parents[2] / "config" / "identity.yaml"


def _pair(config, **levels: str) -> np.ndarray:
    """One pair's level per comparison, by level name; comparisons not named are missing."""
    comps = config.probabilistic.comparisons
    g = np.full((1, len(comps)), -1, dtype=np.int16)
    for i, comp in enumerate(comps):
        if comp.field in levels:
            g[0, i] = [lv.name for lv in comp.levels].index(levels[comp.field])
    return g


def _married_name_pair(config) -> np.ndarray:
    """First name, birth date and city equal, last name at its ``different`` level, the rest
    missing: the shape of a married name, and of two namesakes born on one day in one city."""
    return _pair(config, first_name="exact", birth_date="exact", city="exact",
                 last_name="different")  # fmt: skip


def test_a_link_through_a_different_name_needs_rare_evidence_in_the_whole_file():
    config = load_config(CONFIG)
    g = _married_name_pair(config)
    reasons = {}
    for records in (1_000, 1_000_000):
        model = fs.starting_model(config)
        model.prior, model.records, model.candidate_pairs = 0.2, records, 2 * records
        _, probability, reason = fs.score(g, model, config, {})
        assert probability[0] >= config.probabilistic.match_probability
        reasons[records] = fs.HELD[reason[0]] if reason[0] else "linked"
    # the same pair (and the same 0.8 duplicates per record): one person in a small file,
    # in a large one a common first name, a birth date and a city may be two people
    assert reasons == {1_000: "linked", 1_000_000: "contradicted"}


def test_one_home_and_last_names_two_typos_apart_are_housemates():
    """At one address with nothing personal on both sides, a last name one typo away links
    (in a file whose namesakes at one home are rare); two typos away, the home is all the
    pair shares (Lena Weber and Léa Gerber): held for review."""
    config = load_config(CONFIG)
    model = fs.starting_model(config)
    model.prior, model.records, model.candidate_pairs = 0.2, 1_000, 2_000
    model.namesake_rate, model.namesake_pairs, model.frozen = 0.0, 100, True
    home = {"street": "same", "postcode": "exact", "city": "exact", "first_name": "one_edit"}
    outcome = {}
    for last in ("one_edit", "two_edits"):
        _, probability, reason = fs.score(_pair(config, last_name=last, **home), model, config, {})
        assert probability[0] >= config.probabilistic.match_probability
        outcome[last] = fs.HELD[reason[0]] if reason[0] else "linked"
    assert outcome == {"one_edit": "linked", "two_edits": "namesakes_at_one_address"}
