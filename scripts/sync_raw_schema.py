"""Write the declared raw schema into the dbt sources YAML and docs/data_contract.md.

    .venv/bin/python scripts/sync_raw_schema.py          # rewrite the files
    .venv/bin/python scripts/sync_raw_schema.py --check  # exit 1 and name the files that drift

The columns of each raw table are declared once in `ingestion/sources/<source>/`; this script
rewrites only the `columns:` blocks of `_<source>__sources.yml` and the generated section of
the contract page (see `ingestion/sources/contract.py`). Run it after changing a declaration;
`tests/ingestion/test_raw_schema.py` fails until then.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ingestion.sources.contract import sources_yaml_path, sync_data_contract, sync_sources_yaml
from ingestion.sources.specs import SOURCES

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report files that drift")
    args = parser.parse_args(argv)
    targets = [
        (p, lambda t, s=s: sync_sources_yaml(t, s))
        for s in SOURCES
        for p in [sources_yaml_path(ROOT / "dbt_project", s)]
    ]
    targets.append((ROOT / "docs" / "data_contract.md", sync_data_contract))
    drift = []
    for path, sync in targets:
        text = path.read_text(encoding="utf-8")
        synced = sync(text)
        if synced != text:
            drift.append(path.relative_to(ROOT))
            if not args.check:
                path.write_text(synced, encoding="utf-8")
    for path in drift:
        print(f"{'drifts' if args.check else 'rewritten'}: {path}")
    return 1 if args.check and drift else 0


if __name__ == "__main__":
    sys.exit(main())
