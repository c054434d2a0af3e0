"""`cdp generate`: write the synthetic demo retailer's extracts and ground truth."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from cdp.commands import add_command
from cdp_demo.generator.history import DEFAULT_END_DATE


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "generate", run)
    parser.add_argument("--customers", type=int, default=100_000, help="number of true persons")
    parser.add_argument("--seed", type=int, default=42, help="random seed (same seed, same bytes)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default: CDP_DATA_DIR, i.e. data/)",
    )
    parser.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=DEFAULT_END_DATE,
        help=f"last day of the three-year history, YYYY-MM-DD (default {DEFAULT_END_DATE})",
    )
    parser.add_argument(
        "--noise",
        default="standard",
        help="noise profile of demo/cdp_demo/generator/noise_profiles.yaml: 'standard' (the demo's) "
        "or 'unseen' (other error rates and kinds, that the matcher was not written against)",
    )


def run(args: argparse.Namespace) -> int:
    """generate synthetic source extracts (landing/) and ground truth (ground_truth/)

    Generate the demo retailer: nine source systems over three years, with planted noise,
    duplicates and traps, plus the ground truth used for evaluation.
    """
    from cdp.settings import get_settings
    from cdp_demo.generator import generate

    out = args.out if args.out is not None else get_settings().data_dir
    from cdp_demo.generator.profiles import profile_names

    if args.noise not in profile_names():
        print(
            f"cdp generate: unknown noise profile {args.noise!r}; known: {', '.join(profile_names())}"
        )
        return 2
    report = generate(args.customers, args.seed, out, args.end_date, noise=args.noise)
    rows = report["rows"]
    by_source: dict[str, list[int]] = {}
    for name, count in rows.items():
        parts = name.split("/")
        if parts[0] == "landing":
            key = parts[1]
        elif name.startswith("pos."):  # SQLite tables of landing/pos/pos.sqlite
            key = "pos"
        else:
            key = parts[0]
        entry = by_source.setdefault(key, [0, 0])
        entry[0] += 1
        entry[1] += count
    print(f"generated {args.customers:,} persons (seed {args.seed}, noise {args.noise}) into {out}")
    for key in sorted(by_source):
        files, count = by_source[key]
        print(f"  {key:<14} {files:>4} files/tables {count:>12,} rows")
    measured = report["measured"]
    print(
        f"  persons in 2+ customer-record systems: {measured['share_in_2plus_customer_record_systems']:.1%}"
    )
    print(
        "  seconds: "
        + ", ".join(f"{k} {v:.1f}" for k, v in report["seconds"].items())
        + f" | total {report['total_seconds']:.1f}"
    )
    return 0
