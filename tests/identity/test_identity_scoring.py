"""Scoring rules that depend on the size of the file, on a hand-made pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from identity import fellegi_sunter as fs
from identity import load_config

CONFIG = Path(__file__).resolve().parents[2] / "config" / "identity.yaml"


def _married_name_pair(config) -> np.ndarray:
    """First name, birth date and city equal, last name at its ``different`` level, the rest
    missing: the shape of a married name, and of two namesakes born on one day in one city."""
    comps = config.probabilistic.comparisons
    g = np.full((1, len(comps)), -1, dtype=np.int16)
    for i, comp in enumerate(comps):
        names = [lv.name for lv in comp.levels]
        if comp.field in ("first_name", "birth_date", "city"):
            g[0, i] = names.index("exact")
        elif comp.field == "last_name":
            g[0, i] = names.index("different")
    return g


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
