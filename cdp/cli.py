"""The `cdp` command line: one entry point, sub-commands registered by each domain package.

Each module below exposes `register(subparsers)`; imports of heavy libraries stay inside the
command functions so that `cdp --help` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from cdp.settings import disable_telemetry

COMMAND_MODULES = (
    "ingestion.generator.cli",  # cdp generate
    "ingestion.cli",  # cdp ingest
    "cdp.identity.cli",  # cdp resolve
    "ml.cli",  # cdp predict ... (alias cdp churn ...)
    "data_quality.cli",  # cdp quarantine, cdp quality
    "activation.cli",  # cdp segments, cdp sync, cdp syncs
    "app.cli",  # cdp app, cdp app user add|list
    "cdp.pipeline",  # cdp run
    "cdp.demo",  # cdp demo, cdp bench
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cdp", description="Open Customer Data Platform")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    disable_telemetry()
    parser = build_parser()
    args = parser.parse_args(argv)
    result = args.func(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
