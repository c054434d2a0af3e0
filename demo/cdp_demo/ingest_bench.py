"""The ingestion steps as `cdp bench` times them, with their CPU seconds, against its floor.

`python -m cdp_demo.ingest_bench --landing <generated>/landing --work <scratch> [--source S]`
materialises the raw assets of every source (or each `--source`) in one in-process Dagster
run into a fresh warehouse, as `cdp bench` does, then times `cdp bench`'s floor (DuckDB
reading each source's files into tables, `duckdb_read_floor`). Per source it prints the
Dagster step's wall seconds (what `cdp bench` reports) and CPU seconds (this process, all
threads, over the step), the floor's wall and CPU seconds, and both ratios; the figures also
go to `<work>/ingest_bench.json`. On a shared machine compare the CPU seconds.
"""

from __future__ import annotations

import json
from typing import Any

from cdp_demo.bench import duckdb_read_floor
from cdp_demo.demo import data_dir_env
from cdp_demo.env import scoped_env
from ingestion.benchmark import benchmark_arguments, ratio


def main(argv: list[str] | None = None) -> int:
    args = benchmark_arguments(__doc__.splitlines()[0], argv)
    landing = args.landing.resolve()
    with (
        data_dir_env(args.work.resolve(), dagster_home=args.work.resolve() / "dagster_home"),
        scoped_env({"CDP_LANDING_DIR": str(landing)}),
    ):
        from cli.runner import run_assets
        from orchestration.definitions import defs

        keys = [  # the raw tables (tagged with their source), not their checks
            spec.key
            for spec in defs.resolve_all_asset_specs()
            if (source := spec.tags.get("cdp/source"))
            and (not args.source or source in args.source)
        ]
        report = run_assets(keys)
    floor_cpu: dict[str, float] = {}
    floor = duckdb_read_floor(landing, cpu=floor_cpu, sources=args.source)
    print(
        f"{'source':<13}{'rows':>10}{'step s':>9}{'step cpu':>9}{'floor s':>9}"
        f"{'floor cpu':>10}{'ratio':>7}{'cpu ratio':>10}"
    )
    figures: dict[str, Any] = {}
    for step in report.steps:
        if not step.step.startswith("ingest_"):
            continue
        source = step.step.removeprefix("ingest_")
        entry = {
            "rows": step.rows,
            "step_seconds": step.seconds,
            "step_cpu_seconds": step.cpu_seconds,
            "floor_seconds": floor.get(source),
            "floor_cpu_seconds": floor_cpu.get(source),
            "ratio": ratio(step.seconds, floor.get(source)),
            "cpu_ratio": ratio(step.cpu_seconds, floor_cpu.get(source)),
            "status": step.status,
        }
        figures[source] = entry
        cells = [entry[k] for k in ("step_seconds", "step_cpu_seconds", "floor_seconds")]
        cells += [entry[k] for k in ("floor_cpu_seconds", "ratio", "cpu_ratio")]
        widths = (9, 9, 9, 10, 7, 10)
        print(
            f"{source:<13}{step.rows:>10}"
            + "".join(
                f"{c:>{w}.2f}" if c is not None else f"{'-':>{w}}"
                for c, w in zip(cells, widths, strict=True)
            )
            + ("" if step.status == "ok" else f"  {step.status}: {step.error}")
        )
    (args.work / "ingest_bench.json").write_text(json.dumps(figures, indent=2))
    return 0 if report.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
