"""The identity-resolution engine: records in, a stable record -> person graph out.

Stages (all set-based: pandas/numpy joins and sorts, rapidfuzz vectorised pairwise scores,
scipy connected components; no Python loop over records or pairs):

1. ``prepare``: normalise every attribute into match keys (cdp.normalize, once per distinct
   value).
2. deterministic edges (``deterministic.py``): records sharing an identifier value
   (identifiers table, e-mail match key, E.164 phone), after blocklists and frequency caps;
   guarded rules keep only pairs with compatible first names.
3. probabilistic edges: candidate pairs from blocking keys (``blocking.py``), a Fellegi-Sunter
   model estimated on them (``fellegi_sunter.py``), a match-probability threshold, guards that
   hold pairs for review; the pairs are generated, compared and scored by chunks of records
   (``pair_chunks.py``), never all at once.
4. connected components; components larger than ``max_cluster_size`` are split by dropping
   their weakest rules.
5. stable person ids against the previous graph (merges and splits recorded).

Given the state the last run left (``prior``), stage 3 scores only the pairs that can have
changed, with the saved model, and keeps the other links (``incremental.py``).

The stages live in their own modules: ``records.py`` (1), ``deterministic.py`` (2),
``probabilistic.py`` (3), ``clusters.py`` (4), ``person_ids.py`` (5) and ``result.py`` (the
output frames and statistics); :func:`resolve` runs them in order.
"""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd

from identity import compare as cmp
from identity import fellegi_sunter as fs
from identity.blocking import block_codes
from identity.clusters import link
from identity.config import IdentityConfig
from identity.deterministic import deterministic_edges
from identity.incremental import PriorState, fingerprints, incremental_edges, new_state
from identity.person_ids import _assign_person_ids
from identity.probabilistic import _probabilistic, ignore_dropped_values, probabilistic_edges
from identity.records import link_groups, prepare, valid_records
from identity.result import ResolutionResult, _empty_result, build_result

__all__ = ["ResolutionResult", "prepare", "resolve"]


def resolve(
    records: pd.DataFrame,
    identifiers: pd.DataFrame | None,
    config: IdentityConfig,
    previous: pd.DataFrame | None = None,
    link_column: str | None = None,
    *,
    model: fs.FittedModel | None = None,
    prior: PriorState | None = None,
) -> ResolutionResult:
    """Group ``records`` into persons. See the module docstring and docs/identity.md.

    ``link_column``: records with the same value in this column (a source file) are never
    linked to each other directly: the sources are linked, not deduplicated inside each.
    ``model``: a fitted model to score with as it is (no estimation).
    ``prior``: the state the last run left (``result.state``): the run is incremental, only
    the pairs that can have changed are scored, with the state's model unless ``model`` is
    given (``identity/incremental.py``); the persons are those of a full run with that model.
    """
    if prior is not None and link_column is not None:
        raise ValueError("an incremental run does not take a link column")
    timings: dict[str, float] = {}
    report: list[dict] = []
    t0 = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    records = valid_records(records, report)
    n = len(records)
    if n == 0:
        return _empty_result(report, time.perf_counter() - t0)

    norm = prepare(records, config)
    coded = cmp.encode_fields(norm)
    groups = link_groups(records, link_column)
    timings["normalise"] = time.perf_counter() - t0

    t = time.perf_counter()
    det = deterministic_edges(norm, identifiers, config, report, coded, groups)
    ignore_dropped_values(norm, coded, report)
    timings["deterministic"] = time.perf_counter() - t

    t = time.perf_counter()
    blocks = block_codes(norm, config, report, coded)
    fixed = model or (prior.model if prior is not None else None)
    prints = fingerprints(norm)
    # the match keys are coded: the rest of the run reads these three columns
    norm = norm[["record_id", "birth_date", "phone"]]
    changes: dict = {}
    if prior is not None:
        found, prob_edges, possible, n_candidates, changes = incremental_edges(
            norm, coded, det, config, blocks, prior, fixed, prints
        )
    else:
        scored = None
        if config.probabilistic.enabled and n > 1:
            scored = _probabilistic(norm, coded, det, config, groups, blocks, fixed)
        found, prob_edges, possible, n_candidates = probabilistic_edges(scored, config, fixed)
    timings["probabilistic"] = time.perf_counter() - t
    del coded

    t = time.perf_counter()
    labels, edges, match_rule = link(
        n, det, prob_edges, norm, config, report, not fs.namesakes_rare(found, config)
    )
    timings["cluster"] = time.perf_counter() - t

    t = time.perf_counter()
    person_ids, merges, splits = _assign_person_ids(norm["record_id"], labels, previous, now)
    timings["person_ids"] = time.perf_counter() - t

    result = build_result(
        norm["record_id"],
        person_ids,
        match_rule,
        edges,
        possible,
        merges,
        report,
        labels,
        found,
        n_candidates,
        timings,
        started=t0,
    )
    result.splits = splits
    result.stats["splits"] = len(splits)
    result.stats["mode"] = "incremental" if prior is not None else "full"
    if changes:
        result.stats["incremental"] = changes
    if link_column is None:
        result.state = new_state(norm, det, prob_edges, possible, blocks, found, config, prints)
    return result
