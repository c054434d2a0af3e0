"""Incremental against full identity resolution on one warehouse's identity inputs.

Reads ``intermediate.int_identity_records_unioned`` and ``int_identifiers_unioned`` of a built
warehouse (``cdp demo`` / ``cdp bench`` / the pipeline), makes a day of changes out of them
(a share of the records held back to arrive on the second day, a share of the others edited,
a few deleted), resolves the first day in full, then the second day three ways and prints the
seconds of each: in full as ``cdp run --full-refresh`` does (model re-estimated), in full with
the first day's model, and incrementally from the first day's state (read back from the
tables the pipeline writes). The incremental persons must be those of the full run with the
same model: the script says whether they are.

    .venv/bin/python scripts/identity_incremental_bench.py WAREHOUSE.duckdb [--new 0.01]
        [--changed 0.005] [--deleted 0.001] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import duckdb
import pandas as pd

from identity import load_config, resolve
from identity.incremental import state_from_tables, state_tables
from identity.records import read_inputs


def read_warehouse(warehouse: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return read_inputs(con)


def make_day(
    records: pd.DataFrame, identifiers: pd.DataFrame, args: argparse.Namespace
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(day-one records, identifiers, day-two records, identifiers): new records held back,
    e-mails and last names edited, records deleted, each drawn by hash of the record id."""
    draw = pd.util.hash_pandas_object(records["record_id"], index=False).to_numpy() % 1_000_000
    share = draw / 1_000_000
    new = share < args.new
    changed = (share >= args.new) & (share < args.new + args.changed)
    deleted = (share >= args.new + args.changed) & (share < args.new + args.changed + args.deleted)
    day1 = records[~new]
    ids1 = identifiers[identifiers["record_id"].isin(day1["record_id"])]
    day2 = records[~deleted].copy()
    edit = changed[~deleted]
    for column in ("email", "last_name"):
        day2[column] = day2[column].astype(object)
        rows = edit & day2[column].notna().to_numpy()
        day2.loc[rows, column] = (
            day2.loc[rows, column].astype(str).str.replace(r"^(.)(.)", r"\2\1", regex=True)
        )
    ids2 = identifiers[identifiers["record_id"].isin(day2["record_id"])]
    return day1, ids1, day2, ids2


def timed(label: str, figures: dict, run):
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    figures[label] = {"seconds": round(seconds, 2), "stages": result.stats["seconds"]}
    print(f"{label:<34} {seconds:8.2f} s  {result.stats['seconds']}", flush=True)
    return result


def partition(graph: pd.DataFrame) -> set[frozenset]:
    return {frozenset(ids) for ids in graph.groupby("person_id")["record_id"].agg(list)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--new", type=float, default=0.01, help="share of records held back")
    parser.add_argument("--changed", type=float, default=0.005, help="share of records edited")
    parser.add_argument("--deleted", type=float, default=0.001, help="share of records deleted")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    config = load_config()
    records, identifiers = read_warehouse(args.warehouse)
    day1, ids1, day2, ids2 = make_day(records, identifiers, args)
    print(f"records: day one {len(day1):,}, day two {len(day2):,}", flush=True)
    figures: dict = {"records_day_one": len(day1), "records_day_two": len(day2)}
    first = timed("day one, full (estimated)", figures, lambda: resolve(day1, ids1, config))

    def state():  # as the pipeline reads it back from its tables
        return state_from_tables(state_tables(first.state), first.possible_matches, config)

    full = timed(
        "day two, full (re-estimated)",
        figures,
        lambda: resolve(day2, ids2, config, previous=first.graph),
    )
    fixed = timed(
        "day two, full (day one's model)",
        figures,
        lambda: resolve(day2, ids2, config, previous=first.graph, model=state().model),
    )
    prior = state()
    incremental = timed(
        "day two, incremental",
        figures,
        lambda: resolve(day2, ids2, config, previous=first.graph, prior=prior),
    )
    same = partition(incremental.graph) == partition(fixed.graph)
    figures["incremental"] = incremental.stats["incremental"]
    figures["same_persons_as_full_with_the_model"] = same
    figures["persons"] = {
        "full": full.stats["persons"],
        "incremental": incremental.stats["persons"],
    }
    figures["merges"] = len(incremental.merges)
    figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({k: figures[k] for k in ("incremental", "persons", "merges")}))
    print(f"same persons as the full run with day one's model: {same}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
