"""recordlinkage's documented FEBRL workflow, unsupervised.

From its guides (``data_deduplication``, ``link_two_dataframes``, ``classifiers``): candidate
pairs by blocking on ``given_name`` plus sorted-neighbourhood indexing on ``surname`` (the guide's
answer to misspellings, default window), the guide's comparisons (exact given name, Jaro-Winkler
surname >= 0.85, exact birth date, suburb and state, address_1 >= 0.85), classified by the
ECM classifier with the guide's ``binarize=0.8``. Comparisons on columns a data set lacks are
dropped (every data set has given_name, surname and date_of_birth).
"""

from __future__ import annotations

import pandas as pd

from cdp_demo.linkbench.datasets import SOURCE


def link_pairs(records: pd.DataFrame) -> pd.DataFrame:
    """Predicted pairs (``left, right``) of recordlinkage on ``records``."""
    import recordlinkage as rl

    frames = (
        [g.drop(columns=SOURCE).set_index("rec_id") for _, g in records.groupby(SOURCE, sort=True)]
        if SOURCE in records.columns
        else [records.set_index("rec_id")]
    )
    columns = set(frames[0].columns)
    indexer = rl.Index()
    indexer.block("given_name")
    indexer.sortedneighbourhood("surname")
    candidates = indexer.index(*frames)
    compare = rl.Compare()
    compare.exact("given_name", "given_name", label="given_name")
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    for column in ("date_of_birth", "suburb", "state"):
        if column in columns:
            compare.exact(column, column, label=column)
    if "address_1" in columns:
        compare.string("address_1", "address_1", threshold=0.85, label="address_1")
    features = compare.compute(candidates, *frames)
    links = rl.ECMClassifier(binarize=0.8).fit_predict(features)
    return pd.DataFrame(
        {
            "left": links.get_level_values(0).astype(str),
            "right": links.get_level_values(1).astype(str),
        }
    )
