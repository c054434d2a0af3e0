"""The `cdp` command line: one entry point, sub-commands registered by each installed package.

Each package declares its commands as `cdp.commands` entry points (pyproject.toml of the platform,
demo/pyproject.toml of the demo package): a module exposing `register(subparsers)`. The demo
retailer, the vendor fakes and the benchmarks ship apart (`open-cdp-demo`), so `cdp demo`,
`cdp generate` and `cdp bench` exist only where that package is installed. Heavy imports stay
inside the command functions so that `cdp --help` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from importlib.metadata import entry_points

from cdp.settings import disable_telemetry

ENTRY_POINT_GROUP = "cdp.commands"


def command_modules() -> list[str]:
    """Modules declaring commands, in a stable order (platform first, then add-ons by name)."""
    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return [found[name] for name in sorted(found, key=lambda n: (not n[0].isdigit(), n))]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cdp", description="Open Customer Data Platform")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in command_modules():
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
