"""Where the identity engine's missed links come from, on a generated retailer.

Scores the engine on a warehouse's identity inputs against the generator's ground truth
(precision, recall, F1, trap pairs merged), then sorts the true pairs it left apart by why:
each pair of predicted persons that one true person spans gets the reason of its closest
record pair (a link refused by the conflict check, held for review by a guard, scored under
the threshold, or never a candidate pair), weighted by the record pairs it leaves apart. For
the pairs never scored, it says which extra blocking key would have made them candidates.
Only counts are printed: no name, e-mail or other value of a record.

    .venv/bin/python scripts/identity_misses.py FOLDER [--build --customers 20000 --seed 42
        --noise unseen] [--config YAML] [--json OUT.json]

``--build`` first makes FOLDER with ``cdp_demo.demo.resolve_generated`` (generation,
ingestion, staging and the identity graph in FOLDER); without it FOLDER must hold a warehouse
built that way (``warehouse.duckdb``, ``ground_truth/``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from identity import compare as cmp
from identity import evaluate, load_config
from identity import fellegi_sunter as fs
from identity.blocking import block_codes
from identity.clusters import link
from identity.deterministic import deterministic_edges
from identity.evaluation import truth_record_ids
from identity.probabilistic import _probabilistic, ignore_dropped_values, probabilistic_edges
from identity.records import prepare, read_inputs, valid_records

#: extra blocking keys tried on the pairs never scored (fields of the prepared records)
TRIED_KEYS = {
    "first_name+last_name": ["first_name", "last_name"],
    "first_name_sound+last_name_sound": ["first_name_sound", "last_name_sound"],
    "first_name+last_name_sound": ["first_name", "last_name_sound"],
    "first_name+city": ["first_name", "city"],
    "last_name+city": ["last_name", "city"],
    "first_name+street": ["first_name", "street"],
    "last_name+birth_year": ["last_name", "birth_year"],
    "email_local": ["email_local"],
    "phone_last8": ["phone_last8"],
}
NAMES = {0: "deterministic link refused (conflict)", 1: "probabilistic link refused (conflict)"}
NAMES.update({i + 1: f"held: {reason}" for i, reason in enumerate(fs.HELD) if i})
NAMES.update({8: "below the match probability", 9: "never a candidate pair"})


def _key(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b).astype(np.int64)


def prepared(records: pd.DataFrame, identifiers: pd.DataFrame, config) -> tuple:
    """The engine's stages up to blocking, as ``identity.resolve`` runs them in full:
    (normalised records, coded fields, deterministic edges, blocks)."""
    report: list[dict] = []
    norm = prepare(valid_records(records, report), config)
    coded = cmp.encode_fields(norm)
    det = deterministic_edges(norm, identifiers, config, report, coded, None)
    ignore_dropped_values(norm, coded, report)
    return norm, coded, det, block_codes(norm, config, report)


def stages(records: pd.DataFrame, identifiers: pd.DataFrame, config) -> dict:
    """The engine's stages in order (as ``identity.resolve`` runs them in full), keeping what
    each decided about every pair."""
    norm, coded, det, blocks = prepared(records, identifiers, config)
    scored = _probabilistic(norm, coded, det, config, None, blocks, None)
    model, prob_edges, _possible, _ = probabilistic_edges(scored, config, None)
    labels, _, _ = link(
        len(norm), det, prob_edges, norm, config, [], not fs.namesakes_rare(model, config)
    )
    return {"norm": norm, "coded": coded, "det": det, "scored": scored,
            "prob_edges": prob_edges, "labels": labels, "model": model}  # fmt: skip


def missed_pairs(run: dict, truth: pd.DataFrame) -> pd.DataFrame:
    """Record pairs of one true person in two predicted persons, with a status (``NAMES``)."""
    norm, labels = run["norm"], run["labels"]
    n = len(norm)
    pos = pd.Series(np.arange(n), index=norm["record_id"])
    truth = truth[truth["record_id"].isin(pos.index)]
    frame = pd.DataFrame(
        {"r": pos[truth["record_id"]].to_numpy(), "t": pd.factorize(truth["person_id"])[0]}
    )
    frame["p"] = labels[frame["r"].to_numpy()]
    split = frame.groupby("t")["p"].transform("nunique") > 1
    frame = frame[split]
    pairs = frame.merge(frame, on="t")
    pairs = pairs[(pairs["r_x"] < pairs["r_y"]) & (pairs["p_x"] != pairs["p_y"])]
    key = _key(pairs["r_x"].to_numpy(), pairs["r_y"].to_numpy(), n)
    status = np.full(len(key), 9, dtype=np.int16)
    det, pe = run["det"], run["prob_edges"]
    status[np.isin(key, _key(det["a"].to_numpy(), det["b"].to_numpy(), n))] = 0
    linked = np.isin(key, _key(pe["a"].to_numpy(), pe["b"].to_numpy(), n))
    status[(status == 9) & linked] = 1
    _model, pa, pb, _probability, held, _scored = run["scored"]
    scored = pd.Series(np.arange(len(pa)), index=_key(pa, pb, n))
    todo = (status == 9) & np.isin(key, scored.index)
    reason = held[scored[key[todo]].to_numpy()]
    status[todo] = np.where(reason > 0, reason + 1, 8)
    return pairs.assign(status=status)


def _name_only(run: dict, a: np.ndarray, b: np.ndarray, config) -> np.ndarray:
    """Pairs whose only agreement is the full name (first and last exact, nothing else)."""
    g = fs.levels(run["coded"], a, b, config, fs.starting_model(config))
    col = {c.field: i for i, c in enumerate(config.probabilistic.comparisons)}
    names = (g[:, col["first_name"]] == 0) & (g[:, col["last_name"]] == 0)
    others = [i for f, i in col.items() if f not in fs.NAME_FIELDS]
    return names & ~(g[:, others] == 0).any(axis=1)


def attribute(pairs: pd.DataFrame, run: dict, config) -> dict:
    """Missed record pairs per reason (closest record pair of each pair of predicted persons),
    and, for those never scored, the extra blocking keys that would have caught them."""
    norm = run["norm"]
    per = pairs.sort_values("status", kind="stable").groupby(["t", "p_x", "p_y"])
    closest = per["status"].min()
    size = per.size()
    by_reason = Counter()
    for status, count in size.groupby(closest).sum().items():
        by_reason[NAMES[int(status)]] = int(count)
    first = per.first()
    few = first[first["status"] == 3]
    only = _name_only(run, few["r_x"].to_numpy(), few["r_y"].to_numpy(), config)
    name_only = int(size.reindex(few.index)[only].sum())
    never = pairs[
        closest.reindex(pd.MultiIndex.from_frame(pairs[["t", "p_x", "p_y"]])).to_numpy() == 9
    ]
    a, b = never["r_x"].to_numpy(), never["r_y"].to_numpy()
    caught = {}
    for name, fields in TRIED_KEYS.items():
        hit = np.ones(len(a), dtype=bool)
        for f in fields:
            v = norm[f].astype(object).to_numpy()
            hit &= pd.notna(v[a]) & (v[a] == v[b])
        groups = never.assign(hit=hit).groupby(["t", "p_x", "p_y"])
        caught[name] = int(groups.size()[groups["hit"].any()].sum())
    total = sum(by_reason.values())
    return {
        "missed_pairs": total,
        "by_reason": {k: [v, round(v / total, 3)] for k, v in by_reason.most_common()},
        # of the pairs held for too little evidence, those that share a full name and nothing
        # else: what a homonym looks like too
        "too_little_evidence_full_name_only": [name_only, round(name_only / total, 3)],
        "never_candidates_caught_by": dict(sorted(caught.items(), key=lambda kv: -kv[1])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--build", action="store_true")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--noise", default="standard")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.build:
        from cdp_demo.demo import resolve_generated

        resolve_generated(args.folder, args.customers, args.seed, args.noise)
    with duckdb.connect(str(args.folder / "warehouse.duckdb"), read_only=True) as con:
        records, identifiers = read_inputs(con)
    gt = args.folder / "ground_truth"
    truth = pd.read_parquet(gt / "identity.parquet")
    truth = truth.assign(record_id=truth_record_ids(truth))
    config = load_config(args.config)
    started = time.process_time()
    run = stages(records, identifiers, config)
    cpu = time.process_time() - started
    graph = pd.DataFrame({"record_id": run["norm"]["record_id"], "person_id": run["labels"]})
    scores = evaluate(graph, truth, pd.read_parquet(gt / "traps.parquet"))
    out = {k: scores[k] for k in ("precision", "recall", "f1", "over_merged",
                                  "trap_pairs_merged", "trap_pairs_by_type")}  # fmt: skip
    model = run["model"]
    out.update(
        cpu_seconds=round(cpu, 1),
        records=len(run["norm"]),
        candidate_pairs=model.candidate_pairs,
        namesake_rate=model.namesake_rate,
        housemate_rate=model.housemate_rate,
    )
    out.update(attribute(missed_pairs(run, truth), run, config))
    text = json.dumps(out, indent=1, default=str)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
