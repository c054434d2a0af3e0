"""One linker on one records file, in its own process: ``python -m cdp_demo.linkbench.worker``.

The benchmark runs every linker as a child process so that its wall time and peak memory
(``wait4``) are its own, interpreter start and imports included, as for ``cdp resolve``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

import pandas as pd

PAIR_LINKERS = {
    "splink": "cdp_demo.linkbench.splink_linker",
    "recordlinkage": "cdp_demo.linkbench.recordlinkage_linker",
}


def read_records(path: Path) -> pd.DataFrame:
    """The records file as the benchmark wrote it: every value text, empty -> missing."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cdp_demo.linkbench.worker")
    parser.add_argument("linker", choices=sorted(PAIR_LINKERS))
    parser.add_argument("records", type=Path)
    parser.add_argument("out", type=Path, help="CSV of predicted pairs: left,right")
    args = parser.parse_args(argv)
    module = importlib.import_module(PAIR_LINKERS[args.linker])
    pairs = module.link_pairs(read_records(args.records))
    pairs.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
