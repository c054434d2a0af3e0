"""What each blocking key contributes, on a warehouse's identity inputs (a benchmark helper).

    .venv/bin/python scripts/identity_keys.py WAREHOUSE.duckdb [--truth GROUND_TRUTH_DIR]
        [--config YAML]

Resolves the inputs in full (``identity.resolve``) and prints, per blocking key, the candidate
pairs of its used blocks (a pair found by several keys counts once per key), the probabilistic
links and review pairs it finds, those no other key finds, and, with ``--truth``, the true links
no other key finds. Then, per block size bound S, the links and candidate pairs left if every
block over S records were skipped. Then the records, the distinct attribute profiles and the
share of candidate pairs the deterministic rules had already joined. Only counts are printed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from identity_misses import prepared

from identity import evaluate, load_config, resolve
from identity.evaluation import truth_record_ids
from identity.pair_chunks import PairChunks
from identity.pairs import components
from identity.records import read_inputs


def _pair_index(norm: pd.DataFrame, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    pos = pd.Series(np.arange(len(norm)), index=norm["record_id"].to_numpy())
    a = pos[frame["record_id_a"].to_numpy()].to_numpy()
    b = pos[frame["record_id_b"].to_numpy()].to_numpy()
    return np.minimum(a, b), np.maximum(a, b)


def _in_window(blocks, norm, a, b, found, window: int) -> None:
    """Keep (in place) in ``found`` only the keys whose window holds the pair."""
    from identity.blocking import neighbourhood_rank

    rank = neighbourhood_rank(norm)
    n = len(norm)
    for k, code in enumerate(blocks.codes):
        recs = np.flatnonzero(code >= 0)
        order = recs[np.lexsort((rank[recs], code[recs]))]
        pos = np.full(n, -1, dtype=np.int64)
        pos[order] = np.arange(len(order))
        found[:, k] &= np.abs(pos[a] - pos[b]) < window


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--truth", type=Path)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--keep", help="keys to evaluate, ';'-separated names as printed")
    parser.add_argument("--window", type=int, help="evaluate a block window (neighbourhood)")
    args = parser.parse_args()
    config = load_config(args.config)
    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        records, identifiers = read_inputs(con)
    started = time.process_time()
    result = resolve(records, identifiers, config)
    print(f"resolve: {time.process_time() - started:.1f} CPU s, stats candidate pairs "
          f"{result.stats.get('candidate_pairs')}")  # fmt: skip
    if args.truth:
        truth = pd.read_parquet(args.truth / "identity.parquet")
        truth = truth.assign(record_id=truth_record_ids(truth))
        scores = evaluate(result.graph, truth, pd.read_parquet(args.truth / "traps.parquet"))
        print({k: scores[k] for k in ("precision", "recall", "f1", "over_merged",
                                      "trap_pairs_merged")})  # fmt: skip
    norm, coded, det, blocks = prepared(records, identifiers, config)
    n = len(norm)
    links = result.edges[result.edges["rule"] == "probabilistic"]
    la, lb = _pair_index(norm, links)
    ra, rb = _pair_index(norm, result.possible_matches)
    true_link = np.zeros(len(la), dtype=bool)
    if args.truth:
        person = truth.set_index("record_id")["person_id"].reindex(norm["record_id"]).to_numpy()
        true_link = (person[la] == person[lb]) & pd.notna(person[la])
    keys = len(blocks.codes)
    # per link: the block size of each key that finds it (0: not found by that key)
    size_of = np.zeros((len(la), keys), dtype=np.int64)
    review_by = np.zeros((len(ra), keys), dtype=bool)
    print(f"{'key':<40} {'pairs':>10} {'links':>7} {'only':>6} {'true only':>9} {'review':>7} "
          f"{'only':>6}")  # fmt: skip
    pairs_by_size = []
    for k in range(keys):
        code = blocks.codes[k]
        sizes = np.bincount(code[code >= 0], minlength=len(blocks.usable[k]))
        used = blocks.usable[k]
        pairs_by_size.append(sizes[used])
        ca = code[la]
        hit = (ca >= 0) & (ca == code[lb])
        hit[hit] &= used[ca[hit]]
        size_of[hit, k] = sizes[ca[hit]]
        cr = code[ra]
        rh = (cr >= 0) & (cr == code[rb])
        rh[rh] &= used[cr[rh]]
        review_by[:, k] = rh
    found = size_of > 0
    if args.window:
        _in_window(blocks, norm, la, lb, found, args.window)
        _in_window(blocks, norm, ra, rb, review_by, args.window)
        w = args.window
        windowed = 0
        for c, u in zip(blocks.codes, blocks.usable, strict=True):
            size = np.bincount(c[c >= 0], minlength=len(u))[u]
            windowed += int(
                np.where(size <= w, size * (size - 1) // 2, (w - 1) * size - w * (w - 1) // 2).sum()
            )
        print(f"window {w}: candidate pairs (repeats) {windowed:,}")
    if args.keep:
        keep = [blocks.names.index(k) for k in args.keep.split(";")]
        lost = ~found[:, keep].any(axis=1)
        rlost = review_by.any(axis=1) & ~review_by[:, keep].any(axis=1)
        print(f"keeping {len(keep)} keys: links lost {int(lost.sum())} (true "
              f"{int((lost & true_link).sum())}), review pairs lost {int(rlost.sum())} of "
              f"{int(review_by.any(axis=1).sum())}")  # fmt: skip
    for k in range(keys):
        only = found[:, k] & (found.sum(axis=1) == 1)
        ronly = review_by[:, k] & (review_by.sum(axis=1) == 1)
        s = pairs_by_size[k]
        print(f"{blocks.names[k]:<40} {int((s * (s - 1) // 2).sum()):>10,} "
              f"{int(found[:, k].sum()):>7,} {int(only.sum()):>6,} "
              f"{int((only & true_link).sum()):>9,} {int(review_by[:, k].sum()):>7,} "
              f"{int(ronly.sum()):>6,}")  # fmt: skip
    print(f"links {len(la):,} (true {int(true_link.sum()):,}), review pairs {len(ra):,}, "
          f"links found by no key {int((~found.any(axis=1)).sum())}")  # fmt: skip
    # keys that can go, most candidate pairs first, while every link keeps a key that finds it
    pair_count = [int((s * (s - 1) // 2).sum()) for s in pairs_by_size]
    alive = list(range(keys))
    reviews = int(review_by.any(axis=1).sum())
    while True:
        free = [
            k for k in alive
            if found[:, [j for j in alive if j != k]].any(axis=1).sum() == found.any(axis=1).sum()
        ]  # fmt: skip
        if not free:
            break
        k = max(free, key=lambda j: pair_count[j])
        alive.remove(k)
        left = int(review_by[:, alive].any(axis=1).sum())
        print(f"can drop {blocks.names[k]:<40} ({pair_count[k]:>9,} pairs; review pairs still "
              f"found {left:,} of {reviews:,})")  # fmt: skip
    for cap in (10, 20, 30, 50, 100, 200):
        kept = ((size_of > 0) & (size_of <= cap)).any(axis=1)
        pairs = sum(int((s[s <= cap] * (s[s <= cap] - 1) // 2).sum()) for s in pairs_by_size)
        print(
            f"blocks over {cap:>3} skipped: links lost {int((~kept).sum()):>6,} "
            f"(true {int((~kept & true_link).sum()):,}), pairs (repeats) {pairs:>11,}"
        )
    # profiles: records equal on every compared field, in one deterministic cluster
    det_labels = components(n, det["a"].to_numpy(), det["b"].to_numpy())
    fields = ["first_name", "last_name", "birth_date", "street", "postcode", "city", "email",
              "phone", "personal_id"]  # fmt: skip
    table = pd.DataFrame({f: coded[f].codes[f] for f in fields}).assign(det=det_labels)
    profiles = len(table.drop_duplicates())
    chunks = PairChunks(blocks)
    candidates = joined = 0
    for pa, pb in chunks:
        candidates += len(pa)
        joined += int((det_labels[pa] == det_labels[pb]).sum())
    print(
        f"records {n:,}, profiles {profiles:,}, candidate pairs {candidates:,}, joined by "
        f"the rules {joined:,} ({joined / max(candidates, 1):.1%})"
    )


if __name__ == "__main__":
    main()
