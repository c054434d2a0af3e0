"""SHA-256 of every file the demo generator writes for fixed seeds (a byte-for-byte check).

    .venv/bin/python scripts/generator_hashes.py OUT_DIR > hashes.json

Generates 400 customers with seed 3 (`standard` noise) and seed 5 (`unseen`), end date
2026-10-31, under OUT_DIR and prints `{"<profile>/<file>": sha256}` as sorted JSON. Run it on
two commits and `cmp` the outputs to show that a refactoring left the output unchanged.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import date
from pathlib import Path

from cdp_demo.generator import generate

RUNS = (("standard", 400, 3), ("unseen", 400, 5))


def main(root: Path) -> dict[str, str]:
    hashes = {}
    for noise, customers, seed in RUNS:
        out = root / noise
        generate(customers, seed, out, date(2026, 10, 31), noise=noise)
        for path in sorted(out.rglob("*")):
            if path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                hashes[f"{noise}/{path.relative_to(out)}"] = digest
    return hashes


if __name__ == "__main__":
    json.dump(main(Path(sys.argv[1])), sys.stdout, indent=1, sort_keys=True)
