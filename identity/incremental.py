"""Incremental identity resolution: the last run's links kept, only what changed rescored.

A run leaves a :class:`PriorState` (saved by the pipeline in the ``identity_state`` schema): a
fingerprint of each record's normalised fields, every link before the conflict check and the
cluster cap, the pairs held for review, the blocks skipped as oversized and the fitted model
(with the value counts of its term-frequency levels). The next run, given that state, scores
only the candidate pairs that can differ from last time, with the saved model (no
re-estimation), and gives the persons that a full resolution with that model would give:

* a record is *touched* when it is new or its fingerprint changed (a value blanked because a
  new record took it over a frequency cap counts as a change);
* the deterministic links are recomputed for every record (a frequency cap counts the records
  of a value, new ones included); a record whose deterministic group changed is *affected*
  too (a pair that was already joined by identifiers is not scored, and the other way round);
* candidate pairs: every affected record against all records of its blocks, plus every pair of
  a block that was oversized last time and is not any more;
* kept: the probabilistic links and review pairs of last time between records that are not
  affected, if their blocks are still used (a block grown over ``max_block_size`` drops them);
* conflicts, the cluster cap, components and person ids run on the whole graph as in a full
  run, so every guard applies exactly as it does there.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from identity import compare as cmp
from identity import fellegi_sunter as fs
from identity.blocking import Blocks, encode_pairs, still_candidates
from identity.config import IdentityConfig
from identity.pairs import components, pairs_within_groups
from identity.probabilistic import probabilistic_edges, score_pairs

PROBABILISTIC = "probabilistic"


@dataclass
class PriorState:
    """What a resolution leaves for the next incremental one (see the module docstring)."""

    fingerprints: pd.DataFrame  # record_id, fingerprint (int64)
    links: pd.DataFrame  # record_id_a, record_id_b, rule, score: before conflicts and the cap
    possible: pd.DataFrame  # record_id_a, record_id_b, score, reason
    capped_blocks: pd.DataFrame  # blocking_key, block_hash (int64)
    model: fs.FittedModel
    config_hash: str


def config_hash(config: IdentityConfig) -> str:
    """A digest of the whole configuration: another one means a full resolution."""
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]


def fingerprints(norm: pd.DataFrame) -> np.ndarray:
    """A hash of each record's normalised fields (its inputs as the engine compares them)."""
    return (
        pd.util.hash_pandas_object(norm.drop(columns=["record_id"]), index=False)
        .to_numpy(dtype=np.uint64)
        .view(np.int64)
    )


def _positions(index: pd.Index, wanted: pd.Series) -> np.ndarray:
    """Position of each ``wanted`` record id in ``index`` (-1: not there any more)."""
    return index.get_indexer(wanted.to_numpy(dtype=object))


def _regrouped(
    index: pd.Index, det: pd.DataFrame, prior: PriorState, new: np.ndarray
) -> np.ndarray:
    """Records whose group of deterministic links split or joined another since last time
    (both read on the old records of this run; a deleted record may have held a group
    together). A new record joining a group changes no pair of the others."""
    n = len(index)
    old = prior.links[prior.links["rule"] != PROBABILISTIC]
    ends = [old[c].to_numpy(dtype=object) for c in ("record_id_a", "record_id_b")]
    a, b = (index.get_indexer(e) for e in ends)
    gone = np.concatenate([ends[0][a < 0], ends[1][b < 0]])
    codes, uniques = pd.factorize(gone)
    a[a < 0], b[b < 0] = n + codes[: int((a < 0).sum())], n + codes[int((a < 0).sum()) :]
    before = components(n + len(uniques), a, b)[:n][~new].astype(np.int64)
    after = components(n, det["a"].to_numpy(np.int64), det["b"].to_numpy(np.int64))[~new]
    both = np.unique(before * n + after)
    split = np.bincount(both // n, minlength=n) > 1
    joined = np.bincount(both % n, minlength=n) > 1
    out = np.zeros(n, dtype=bool)
    out[~new] = split[before] | joined[after]
    return out


def _pairs_of_affected(blocks: Blocks, affected: np.ndarray) -> list[np.ndarray]:
    """Every affected record against all the records of its used blocks, per key."""
    parts: list[np.ndarray] = []
    for k in range(len(blocks.codes)):
        recs, codes = blocks.members(k)
        hit = affected[recs]
        if not hit.any():
            continue
        inside = np.isin(codes, np.unique(codes[hit]))
        recs, codes = recs[inside], codes[inside]
        order = np.argsort(codes, kind="stable")
        recs, codes = recs[order], codes[order]
        mine = affected[recs]
        own, own_code = recs[mine], codes[mine]
        start = np.searchsorted(codes, own_code, "left")
        count = np.searchsorted(codes, own_code, "right") - start
        offsets = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        parts += [np.repeat(own, count), recs[np.repeat(start, count) + offsets]]
    return parts


def _pairs_of_reopened(blocks: Blocks, prior: PriorState) -> list[np.ndarray]:
    """Every pair of a block that was skipped as oversized last time and is used now."""
    parts: list[np.ndarray] = []
    for k, name in enumerate(blocks.names):
        was = prior.capped_blocks.loc[prior.capped_blocks["blocking_key"] == name, "block_hash"]
        if was.empty:
            continue
        reopened = blocks.usable[k] & np.isin(blocks.hashes[k], was.to_numpy(np.int64))
        if not reopened.any():
            continue
        recs, codes = blocks.members(k)
        inside = reopened[codes]
        recs, codes = recs[inside], codes[inside]
        order = np.argsort(codes, kind="stable")
        parts += list(pairs_within_groups(recs[order], codes[order]))
    return parts


def _kept(
    frame: pd.DataFrame, index: pd.Index, affected: np.ndarray, blocks: Blocks
) -> pd.DataFrame:
    """Last run's pairs between records that are not affected, whose blocks are still used."""
    a = _positions(index, frame["record_id_a"])
    b = _positions(index, frame["record_id_b"])
    ok = (a >= 0) & (b >= 0)
    ok[ok] &= ~affected[a[ok]] & ~affected[b[ok]]
    ok[ok] &= still_candidates(blocks, a[ok], b[ok])
    kept = frame[ok].drop(columns=["record_id_a", "record_id_b"])
    return kept.assign(a=a[ok], b=b[ok]).reset_index(drop=True)


def incremental_edges(
    norm: pd.DataFrame,
    coded: dict[str, cmp.Coded],
    det: pd.DataFrame,
    config: IdentityConfig,
    blocks: Blocks,
    prior: PriorState,
    model: fs.FittedModel,
    prints: np.ndarray,
) -> tuple[fs.FittedModel, pd.DataFrame, pd.DataFrame, int, dict]:
    """(model, probabilistic links, review pairs, pairs scored, what changed) for the
    records of ``norm`` (their ``prints``) given the last run's state: see the module
    docstring."""
    n = len(norm)
    record_ids = norm["record_id"]
    index = pd.Index(record_ids.to_numpy(dtype=object))
    before = prior.fingerprints.drop_duplicates("record_id")
    last = pd.Index(before["record_id"].to_numpy(dtype=object)).get_indexer(index)
    new = last < 0
    was = (
        before["fingerprint"].to_numpy(dtype=np.int64)[np.maximum(last, 0)] if len(before) else last
    )
    changed = ~new & (was != prints)
    regrouped = _regrouped(index, det, prior, new)
    affected = new | changed | regrouped
    parts = _pairs_of_affected(blocks, affected) + _pairs_of_reopened(blocks, prior)
    pairs = encode_pairs(parts, n)
    pa, pb = pairs // n, pairs % n
    labels = components(n, det["a"].to_numpy(np.int64), det["b"].to_numpy(np.int64))
    fresh = labels[pa] != labels[pb]
    scored = None
    if config.probabilistic.enabled and n > 1:
        scored = score_pairs(coded, pa[fresh], pb[fresh], config, model)
    model, prob_edges, possible, n_scored = probabilistic_edges(scored, config, model)
    links = prior.links[prior.links["rule"] == PROBABILISTIC]
    kept_links = _kept(links, index, affected, blocks)
    kept_possible = _kept(prior.possible, index, affected, blocks)
    prob_edges = pd.concat([prob_edges, kept_links[["a", "b", "rule", "score"]]], ignore_index=True)
    possible = pd.concat(
        [possible, kept_possible[["a", "b", "score", "reason"]]], ignore_index=True
    )
    deleted = len(before) - int((~new).sum())
    info = {
        "new_records": int(new.sum()),
        "changed_records": int(changed.sum()),
        "deleted_records": int(deleted),
        "regrouped_records": int((regrouped & ~new & ~changed).sum()),
        "pairs_scored": int(n_scored),
        "links_kept": len(kept_links),
    }
    return model, prob_edges, possible, n_scored, info


def new_state(
    norm: pd.DataFrame,
    det: pd.DataFrame,
    prob_edges: pd.DataFrame,
    possible: pd.DataFrame,
    blocks: Blocks,
    model: fs.FittedModel,
    config: IdentityConfig,
    prints: np.ndarray,
) -> PriorState:
    """The state this run leaves for the next one (``prints``: the records' fingerprints)."""
    rid = norm["record_id"].astype("str").array  # Arrow strings, gathered by ``take``
    links = pd.concat([det, prob_edges], ignore_index=True)
    a, b = links["a"].to_numpy(np.int64), links["b"].to_numpy(np.int64)
    capped = pd.DataFrame(
        {
            "blocking_key": np.repeat(blocks.names, [len(o) for o in blocks.oversized]),
            "block_hash": np.concatenate(
                [h[o] for h, o in zip(blocks.hashes, blocks.oversized, strict=True)]
                or [np.empty(0, np.int64)]
            ).astype(np.int64),
        }
    )
    return PriorState(
        fingerprints=pd.DataFrame({"record_id": rid, "fingerprint": prints}),
        links=pd.DataFrame(
            {
                "record_id_a": rid.take(a),
                "record_id_b": rid.take(b),
                "rule": links["rule"].to_numpy(),
                "score": links["score"].to_numpy(dtype=float),
            }
        ),
        possible=pd.DataFrame(
            {
                "record_id_a": rid.take(possible["a"].to_numpy(np.int64)),
                "record_id_b": rid.take(possible["b"].to_numpy(np.int64)),
                "score": possible["score"].to_numpy(dtype=float),
                "reason": possible["reason"].to_numpy(),
            }
        ),
        capped_blocks=capped,
        model=model,
        config_hash=config_hash(config),
    )


#: the schema of the state's tables: the engine's own, not served to readers
STATE_SCHEMA = "identity_state"
#: the tables of :func:`state_tables` (besides ``resolution_state``), in ``STATE_SCHEMA``
STATE_TABLES = ("record_fingerprints", "candidate_links", "capped_blocks", "term_frequencies")


def state_tables(state: PriorState) -> dict[str, pd.DataFrame]:
    """The state as frames for the warehouse (``STATE_SCHEMA.<name>``), the model and the
    config digest in ``resolution_state``; the review pairs are ``identity.possible_matches``."""
    tf = state.model.term_frequencies or {}
    frequencies = pd.DataFrame(
        {
            "field": np.repeat(list(tf), [len(t) for t, _ in tf.values()]),
            "value": np.concatenate(
                [t.index.to_numpy(dtype=object) for t, _ in tf.values()] or [np.empty(0, object)]
            ),
            "records": np.concatenate(
                [t.to_numpy(dtype=np.int64) for t, _ in tf.values()] or [np.empty(0, np.int64)]
            ),
        }
    )
    known = {f: int(k) for f, (_, k) in tf.items()}
    return {
        "record_fingerprints": state.fingerprints,
        "candidate_links": state.links,
        "capped_blocks": state.capped_blocks,
        "term_frequencies": frequencies,
        "resolution_state": pd.DataFrame(
            {
                "config_hash": [state.config_hash],
                "model": [json.dumps(state.model.as_dict())],
                "term_frequency_known": [json.dumps(known)],
            }
        ),
    }


def state_from_tables(
    tables: dict[str, pd.DataFrame | None], possible: pd.DataFrame | None, config: IdentityConfig
) -> PriorState | None:
    """The last run's state read back (None when a table is missing, the configuration
    changed or its model does not fit the configuration: the run resolves in full)."""
    meta = tables.get("resolution_state")
    if possible is None or meta is None or len(meta) != 1:
        return None
    if any(tables.get(name) is None for name in STATE_TABLES):
        return None
    row = meta.iloc[0]
    if row["config_hash"] != config_hash(config):
        return None
    try:
        model = fs.model_from_dict(json.loads(row["model"]), config)
    except (ValueError, KeyError, TypeError):
        return None
    known = json.loads(row["term_frequency_known"])
    frequencies = tables["term_frequencies"]
    model.term_frequencies = {
        f: (
            pd.Series(
                sub["records"].to_numpy(dtype=float),
                index=pd.Index(sub["value"].to_numpy(), dtype=object),
            ),
            int(known[f]),
        )
        for f, sub in frequencies.groupby("field")
    }
    for f, k in known.items():
        model.term_frequencies.setdefault(f, (pd.Series([], dtype=float), int(k)))
    return PriorState(
        fingerprints=tables["record_fingerprints"],
        links=tables["candidate_links"],
        possible=possible[["record_id_a", "record_id_b", "score", "reason"]],
        capped_blocks=tables["capped_blocks"],
        model=model,
        config_hash=str(row["config_hash"]),
    )
