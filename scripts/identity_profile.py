"""Profile the identity stage on a warehouse copy: seconds, CPU and peak RSS per stage (benchmark).

    .venv/bin/python scripts/identity_profile.py WAREHOUSE.duckdb [--out DIR] [--compare DIR]
        [--cprofile N] [--pairs-per-chunk N] [--scale F]

Reads the identity inputs as the ``identity/identity_graph`` asset does (``read_inputs`` on a
read-only connection with the platform's memory limit and threads), runs
``identity.engine.resolve`` with the pipeline's config (a full resolution, no previous graph)
and prints, per stage of ``ResolutionResult.stats["seconds"]``, the wall seconds and the peak
resident memory of the process inside that stage (RSS sampled every 20 ms in a thread), then
the CPU time (user + sys) and the peak RSS of the whole run.

``--out DIR`` writes the result (graph, edges, review pairs, report, statistics without the
timings) as Parquet/JSON; ``--compare DIR`` says whether this run's result equals the one
written there (same persons, edges, review pairs, report and statistics). ``--scale F``
estimates the candidate pairs per blocking key of a file F times larger (see
``_scaled_pairs``). Run it on a COPY of a warehouse: it only reads, but a warehouse in use by a
pipeline is locked.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cdp.settings import get_settings
from cdp.warehouse import connect
from identity import load_config, resolve
from identity.records import read_inputs

PAGE = 4096
#: relative difference allowed between two runs' floats (the EM's prior share is a weighted
#: mean over pattern counts instead of a mean over pairs: a few units of the last digit)
TOLERANCE = 1e-12


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


class RssSampler(threading.Thread):
    """RSS of this process every ``interval`` seconds, with the time of each sample."""

    def __init__(self, interval: float = 0.02):
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[tuple[float, float, float]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append((time.perf_counter(), time.process_time(), _rss_mib()))
            time.sleep(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def window(self, start: float, end: float) -> tuple[float, float]:
        """(CPU seconds of the process, peak RSS MiB) between two ``perf_counter`` times."""
        inside = [(cpu, rss) for t, cpu, rss in self.samples if start <= t <= end]
        if not inside:
            return float("nan"), float("nan")
        return inside[-1][0] - inside[0][0], max(rss for _, rss in inside)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _comparable(result) -> dict[str, pd.DataFrame]:
    """The result frames in a canonical order, and the statistics without the timings."""
    stats = {k: v for k, v in result.stats.items() if k != "seconds"}
    edges = result.edges.copy()
    return {
        "graph": result.graph.sort_values("record_id", ignore_index=True),
        "edges": edges.sort_values(["record_id_a", "record_id_b", "rule"], ignore_index=True),
        "possible_matches": result.possible_matches.sort_values(
            ["record_id_a", "record_id_b"], ignore_index=True
        ),
        "cluster_report": result.cluster_report,
        "stats": pd.DataFrame({"json": [json.dumps(stats, sort_keys=True, default=str)]}),
    }


def _numbers(value, path: str = "") -> dict[str, object]:
    """The leaves of a JSON value by path (to compare statistics number by number)."""
    if isinstance(value, dict):
        return {
            k: v for key, item in value.items() for k, v in _numbers(item, f"{path}/{key}").items()
        }
    if isinstance(value, list):
        return {
            k: v for i, item in enumerate(value) for k, v in _numbers(item, f"{path}/{i}").items()
        }
    return {path: value}


def _compare(frames: dict[str, pd.DataFrame], other: Path) -> bool:
    """Equal frames, or equal but for float columns within ``TOLERANCE`` (relative); the
    largest difference of those is printed."""
    same = True
    for name, frame in frames.items():
        saved = pd.read_parquet(other / f"{name}.parquet")
        frame = frame.reset_index(drop=True)
        if name == "stats":
            mine, theirs = (_numbers(json.loads(f["json"].iat[0])) for f in (frame, saved))
            if mine.keys() != theirs.keys():
                print(f"  {name:<17} DIFFERENT keys")
                same = False
                continue
            worst = 0.0
            for key, value in mine.items():
                if isinstance(value, float) and isinstance(theirs[key], float):
                    worst = max(worst, abs(value - theirs[key]) / max(abs(theirs[key]), 1e-300))
                elif value != theirs[key]:
                    print(f"  {name:<17} DIFFERENT at {key}: {value} != {theirs[key]}")
                    same = False
            ok = worst <= TOLERANCE
            same &= ok
            print(f"  {name:<17} {'equal' if ok else 'DIFFERENT'} (largest relative "
                  f"difference of a number {worst:.1e})")  # fmt: skip
            continue
        try:
            pd.testing.assert_frame_equal(frame, saved, check_dtype=False, check_exact=True)
            print(f"  {name:<17} equal ({len(frame):,} rows)")
            continue
        except AssertionError:
            pass
        try:
            pd.testing.assert_frame_equal(
                frame, saved, check_dtype=False, check_exact=False, rtol=TOLERANCE, atol=0
            )
            floats = frame.select_dtypes("float").columns
            worst = max(
                (frame[c] - saved[c]).abs().div(saved[c].abs().clip(lower=1e-300)).max()
                for c in floats
            )
            print(f"  {name:<17} equal ({len(frame):,} rows; largest relative difference of a "
                  f"score {worst:.1e})")  # fmt: skip
        except AssertionError as err:
            same = False
            print(f"  {name:<17} DIFFERENT: {str(err).splitlines()[:6]}")
    return same


def _scaled_pairs(records: pd.DataFrame, graph: pd.DataFrame, factor: float) -> None:
    """Candidate pairs per blocking key now and, estimated, in a file ``factor`` times larger
    (blocks over ``max_block_size`` skipped there as here, blocks over ``block_window``
    paired by their window): a block whose value several
    persons share (a common name, a street) grows with the file, a value of one person does
    not; the upper figure lets every block grow."""
    from identity.blocking import _ColumnCodes, _key_codes
    from identity.records import prepare, valid_records

    config = load_config(get_settings().config_dir / "identity.yaml")
    norm = prepare(valid_records(records, []), config)
    person = pd.factorize(
        graph.set_index("record_id").loc[norm["record_id"].to_numpy(), "person_id"]
    )[0]
    columns = _ColumnCodes(norm)
    cap = config.probabilistic.max_block_size

    window = config.probabilistic.block_window or cap

    def pairs(size: np.ndarray) -> int:
        # a block over the window gives each record window - 1 partners on either side
        inside = np.where(
            size <= window, size * (size - 1) // 2, (window - 1) * size - window * (window - 1) // 2
        )
        return int(np.where((size >= 2) & (size <= cap), inside, 0).sum())

    totals = np.zeros(3)
    print(f"{'blocking key':<44} {'pairs now':>11} {f'x{factor:g} shared grow':>16} "
          f"{f'x{factor:g} all grow':>14}")  # fmt: skip
    for key in config.probabilistic.blocking_keys:
        recs, block, _, _ = _key_codes(columns, list(key))
        size = np.bincount(block)
        persons = pd.Series(person[recs]).groupby(block).nunique().to_numpy()
        grown = np.round(size * factor).astype(np.int64)
        row = [pairs(size), pairs(np.where(persons >= 2, grown, size)), pairs(grown)]
        totals += row
        print(f"{'+'.join(key):<44} {row[0]:>11,} {row[1]:>16,} {row[2]:>14,}")
    print(f"{'total (a pair found by two keys counts twice)':<44} "
          f"{int(totals[0]):>11,} {int(totals[1]):>16,} {int(totals[2]):>14,}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--out", type=Path, help="write the result here (Parquet)")
    parser.add_argument("--compare", type=Path, help="compare with a result written by --out")
    parser.add_argument(
        "--cprofile", type=int, metavar="N", help="print the N calls costliest in CPU time"
    )
    parser.add_argument("--pairs-per-chunk", type=int, help="candidate pairs per chunk of stage 3")
    parser.add_argument(
        "--scale", type=float, help="estimate the candidate pairs of a file this many times larger"
    )
    args = parser.parse_args()

    if args.pairs_per_chunk:
        from identity import pair_chunks

        pair_chunks.PAIRS_PER_CHUNK = args.pairs_per_chunk
    sampler = RssSampler()
    sampler.start()
    config = load_config(get_settings().config_dir / "identity.yaml")
    base = _rss_mib()
    t0, c0 = time.perf_counter(), _cpu()
    with connect(args.warehouse, read_only=True) as con:
        records, identifiers = read_inputs(con)
    t_read, c_read = time.perf_counter(), _cpu()
    profiler = cProfile.Profile(time.process_time) if args.cprofile else None
    if profiler:
        profiler.enable()
    result = resolve(records, identifiers, config)
    t_end, c_end = time.perf_counter(), _cpu()
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.cprofile)
    sampler.stop()

    print(f"{len(records):,} records, {len(identifiers):,} identifiers -> "
          f"{result.stats['persons']:,} persons, {result.stats['candidate_pairs']:,} candidate "
          f"pairs, {result.stats['possible_matches']:,} review pairs")  # fmt: skip
    print(f"{'stage':<16} {'seconds':>8} {'CPU s':>8} {'peak RSS MiB':>13}")

    def row(stage: str, start: float, end: float) -> None:
        cpu, rss = sampler.window(start, end)
        print(f"{stage:<16} {end - start:8.2f} {cpu:8.2f} {rss:13.0f}")

    row("read_inputs", t0, t_read)
    start = t_read
    for stage, seconds in result.stats["seconds"].items():
        if stage != "total":
            row(stage, start, start + seconds)
            start += seconds
    row("resolve total", t_read, t_end)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"wall {t_end - t0:.2f} s, CPU (user+sys) {c_end - c0:.2f} s (resolve "
          f"{c_end - c_read:.2f} s); RSS before reading {base:.0f} MiB, peak {peak:.0f} MiB "
          f"(ru_maxrss)")  # fmt: skip

    if args.scale:
        _scaled_pairs(records, result.graph, args.scale)
    frames = _comparable(result)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            frame.to_parquet(args.out / f"{name}.parquet", index=False)
        print(f"result written to {args.out}")
    if args.compare:
        same = _compare(frames, args.compare)
        print("SAME RESULT" if same else "RESULT DIFFERS")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
