"""`cdp demo`: the whole platform end to end on a generated retailer.

The demo is what a newcomer runs first: it generates the demo retailer, materialises every
asset in one Dagster run (visible afterwards in `make ui`), and prints what happened.
`cdp bench` (cdp_demo/bench.py) times the same graph at a chosen size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cdp.commands import add_command
from cdp.settings import Settings, get_settings
from cdp_demo.env import scoped_env
from cdp_demo.generator.history import DEFAULT_END_DATE
from cli.runner import (
    MemorySampler,
    RunReport,
    StepReport,
    format_checks,
    format_steps,
    is_sync_asset,
    run_all_assets,
    run_pipeline,
)
from ml.prediction_summary import format_predictions

DEMO_CUSTOMERS = 20_000
DEMO_SEED = 42
UNSEEN_CUSTOMERS = 2_000
UNSEEN_FOLDER = "unseen_noise"
KEPT_ON_RESET = {"dagster_home"}
PATH_VARIABLES = ("CDP_LANDING_DIR", "CDP_GROUND_TRUTH_DIR", "CDP_WAREHOUSE", "CDP_MODELS_DIR")


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = add_command(subparsers, "demo", run_demo)
    demo.add_argument("--customers", type=int, default=DEMO_CUSTOMERS)
    demo.add_argument("--seed", type=int, default=DEMO_SEED)
    demo.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        default=None,
        help="last day of the retailer's three-year history, YYYY-MM-DD (default: yesterday, "
        "so that the sources are as fresh as their freshness checks expect)",
    )
    demo.add_argument(
        "--keep",
        action="store_true",
        help="keep the current warehouse and landing files instead of starting afresh "
        "(generates only when the landing folder is empty)",
    )
    demo.add_argument(
        "--unseen-customers",
        type=int,
        default=UNSEEN_CUSTOMERS,
        help="size of the second retailer, generated with the 'unseen' noise profile, on which "
        f"the match quality is also reported (in <data dir>/{UNSEEN_FOLDER}; 0 skips it)",
    )


def reset_data_dir(settings: Settings) -> None:
    """Start from an empty data folder (the Dagster run history is kept for the UI)."""
    if not settings.data_dir.exists():
        return
    for child in settings.data_dir.iterdir():
        if child.name in KEPT_ON_RESET:
            continue
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


@contextmanager
def data_dir_env(data_dir: Path, dagster_home: Path | None = None) -> Iterator[Settings]:
    """Point every platform path at `data_dir` for the block, then put the environment back.

    The Dagster instance stays the current one unless `dagster_home` is given, so runs made
    in the block show in the same UI.
    """
    values: dict[str, str | None] = {"CDP_DATA_DIR": str(data_dir)}
    values.update(dict.fromkeys(PATH_VARIABLES))
    if dagster_home is not None:
        values["DAGSTER_HOME"] = str(dagster_home)
    with scoped_env(values):
        yield get_settings()


def generate_data(
    settings: Settings,
    customers: int,
    seed: int,
    noise: str = "standard",
    end_date: dt.date = DEFAULT_END_DATE,
) -> tuple[dict, float, int]:
    from cdp_demo.generator import generate

    started = time.time()
    with MemorySampler() as sampler:
        report = generate(
            customers=customers, seed=seed, out=settings.data_dir, end_date=end_date, noise=noise
        )
    return report, time.time() - started, sampler.peak


def demo_end_date(args: argparse.Namespace) -> dt.date:
    """`--end-date`, else yesterday (UTC): a retailer whose sources sent everything up to the
    last full day, as the dbt freshness blocks expect (error after 7 days without data)."""
    return args.end_date or dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


def print_section(title: str, body: str) -> None:
    print(f"\n== {title} ==\n{body}")


SUMMARY_SCHEMAS = ("identity", "marts", "ml", "activation", "quality")


def data_tables(con: Any, schemas: tuple[str, ...]) -> list[tuple[str, str]]:
    """(schema, table) of every raw table and every table of `schemas` (dlt's own left out)."""
    return con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where (schema_name like 'raw\\_%' escape '\\' or schema_name in ?) "
        "and schema_name not like '%\\_staging' escape '\\' "
        "and table_name not like '\\_dlt%' escape '\\' order by all",
        [list(schemas)],
    ).fetchall()


def summarise(warehouse: Path) -> str:
    """Rows of every raw, identity, mart, ML, activation and quality table (dlt staging left out)."""
    from cdp.warehouse import connect as duckdb_connect

    with duckdb_connect(str(warehouse), read_only=True) as con:
        tables = data_tables(con, SUMMARY_SCHEMAS)
        counts = {
            f"{schema}.{table}": con.execute(
                f'select count(*) from "{schema}"."{table}"'
            ).fetchone()[0]
            for schema, table in tables
        }
    return "\n".join(f"{name:<48} {rows:>12,}" for name, rows in counts.items())


def has_landing_files(settings: Settings) -> bool:
    return settings.landing_dir.is_dir() and any(
        p.is_file() for p in settings.landing_dir.rglob("*")
    )


def run_demo(args: argparse.Namespace) -> int:
    """generate the demo retailer, run every asset, print a summary"""
    settings = get_settings()
    if not args.keep:
        reset_data_dir(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if args.keep and has_landing_files(settings):
        print(f"Keeping the landing files in {settings.landing_dir} (not generating)")
    else:
        end = demo_end_date(args)
        print(
            f"Generating the demo retailer: {args.customers:,} customers, seed {args.seed}, "
            f"history up to {end}"
        )
        gen_report, gen_seconds, _ = generate_data(
            settings, args.customers, args.seed, end_date=end
        )
        print(
            f"  {sum_rows(gen_report):,} source rows in {gen_seconds:.1f} s "
            f"-> {settings.landing_dir}"
        )

    print("Materialising every asset (ingestion, then the rest; visible in `make ui`)...")
    report = run_pipeline(all_assets_but_syncs(), on_step=progress_line)
    print_section("Steps", format_steps(report))
    print_section("Tables (rows)", summarise(settings.warehouse))
    print_section("Quality", format_checks(report))
    print_section("Match quality", format_match_quality(report))
    unseen_ok = True
    if args.unseen_customers:
        print(
            f"\nResolving a second retailer with the 'unseen' noise profile "
            f"({args.unseen_customers:,} customers, seed {args.seed})..."
        )
        unseen, seconds = resolve_generated(
            settings.data_dir / UNSEEN_FOLDER, args.unseen_customers, args.seed, "unseen"
        )
        unseen_ok = unseen.success
        print_section(
            "Match quality (unseen noise)",
            f"{format_match_quality(unseen)}\n({seconds:.0f} s: generate, load, stage, resolve; "
            f"data in {settings.data_dir / UNSEEN_FOLDER})",
        )
    print_section("Churn model", format_churn(report))
    print_section("Predictions", format_predictions(report.materializations))
    synced = report.success
    if report.success:
        from cdp_demo.demo_syncs import run_demo_syncs
        from orchestration.serving.assets import publish_snapshot

        try:
            privacy: list[str] = []
            print_section("Syncs", run_demo_syncs(settings, privacy))
            if any(line.startswith("erase") for line in privacy):
                from privacy.serving import republish

                n = republish(settings)  # older snapshots hold the erased person
                privacy.append(f"serving snapshot republished, {n} older snapshot(s) deleted")
            else:
                publish_snapshot(schemas=("activation",))  # their runs, for `cdp syncs`
            print_section("Privacy requests", "\n".join(privacy))
        except Exception as exc:  # a destination stand-in that cannot start: say which
            synced = False
            print_section("Syncs", f"FAILED: {type(exc).__name__}: {exc}")
    else:
        print_section("Syncs", "not run: the asset run failed (see the steps above)")
    print_section("Automation", turn_on_automation_report())
    print(
        f"\nWarehouse: {settings.warehouse}\nRun ids: {report.run_id} (browse them with `make ui`)"
    )
    print(f"Step output (dbt): {report.log_path}")
    return 0 if report.success and synced and unseen_ok else 1


def progress_line(step: StepReport) -> None:
    """One line per finished step, while the run goes on."""
    rows = f", {step.rows:,} rows" if step.rows else ""
    print(f"  {step.status:<6} {step.label or step.step} ({step.seconds:.1f} s{rows})", flush=True)


def resolve_generated(
    folder: Path, customers: int, seed: int, noise: str
) -> tuple[RunReport, float]:
    """Generate a retailer with a noise profile in `folder` and resolve its identities.

    The folder holds its own landing files, ground truth and warehouse; the run builds only
    what the identity graph needs (ingestion, staging, the identity inputs, the graph) and
    runs the graph's own checks, match quality among them (the data-quality suites and dbt
    tests are left to the main run), in the current Dagster instance.
    """
    started = time.time()
    with data_dir_env(folder) as settings:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        generate_data(settings, customers, seed, noise=noise)
        report = run_all_assets(
            exclude=outside_of("identity/identity_graph", upstream=True),
            checks=lambda key: key.asset_key.path == ["identity", "identity_graph"],
        )
    return report, time.time() - started


def all_assets_but_syncs() -> list[Any]:
    from orchestration.definitions import defs

    return [spec.key for spec in defs.resolve_all_asset_specs() if not is_sync_asset(spec.key)]


def turn_on_automation_report() -> str:
    """Turn the sensors and schedules on in the demo's instance, for `make ui` to show."""
    import dagster as dg

    from orchestration.instance import turn_on_automation

    try:
        names = turn_on_automation(dg.DagsterInstance.get())
    except Exception as exc:  # the demo's data is built; say why the UI will show them off
        return f"not turned on: {type(exc).__name__}: {exc}"
    return (
        f"turned on in {get_settings().dagster_home}: {', '.join(names)}\n"
        "`make ui` runs them (dagster dev starts the daemon): new landing files or the 05:00 "
        "schedule load the raw layer, then `cdp_automation` rebuilds what depends on it"
    )


def _check(report: RunReport, name: str) -> dict | None:
    return next((c.metadata for c in report.checks if c.name == name), None)


def format_match_quality(report: RunReport) -> str:
    """Identity graph versus the generator's ground truth (the `match_quality` check)."""
    scores = _check(report, "match_quality")
    if scores is None:
        return "not evaluated (the identity graph was not built)"
    if "precision" not in scores:
        return f"no ground truth: {scores.get('ground_truth', '')}"
    identity = report.materializations.get("identity/identity_graph", {})
    return "\n".join(
        [
            f"records {identity.get('records', 0):,} -> persons {identity.get('persons', 0):,}"
            f" (true persons {scores['true_persons']:,})",
            f"pairwise precision {scores['precision']:.4f}  recall {scores['recall']:.4f}  "
            f"F1 {scores['f1']:.4f}",
            f"over-merged persons {scores['over_merged']}, under-merged persons "
            f"{scores['under_merged']}, trap pairs merged {scores.get('trap_pairs_merged', 'n/a')}",
        ]
    )


def format_churn(report: RunReport) -> str:
    """Back-test of the churn model against the baselines, and the scores written."""
    model = report.materializations.get("ml/churn_model")
    scores = report.materializations.get("ml/churn_scores", {})
    if model is None:
        return "not trained"
    lines = [
        f"model {model.get('model_version')}, {model.get('training_rows', 0):,} rows, "
        f"chosen by validation: {model.get('chosen')} ({model.get('training_plan')})"
    ]
    metrics = model.get("metrics_json")
    if metrics:
        lines.append(f"back-test at {model.get('evaluation_cutoff')}:")
        for name, m in metrics.items():
            lines.append(
                f"  {name:<22} ROC AUC {m['roc_auc']:.3f}  PR AUC {m['pr_auc']:.3f}  "
                f"Brier {m['brier']:.3f}  lift top decile {m['lift_top_decile']:.2f}"
            )
        for name, m in (model.get("value_metrics_json") or {}).items():
            lines.append(
                f"  value {name:<24} Spearman {m['spearman']:.3f}  MAE {m['mae']:.1f}  "
                f"top-decile revenue share {m['top_decile_share']:.3f}"
            )
    else:
        lines.append(str(model.get("backtest_note", "no back-test")))
    if scores:
        lines.append(
            f"scored persons {scores.get('scored_persons', 0):,}, mean churn probability "
            f"{scores.get('mean_churn_probability', 0):.3f}, risk bands {scores.get('risk_bands')}, "
            f"expected revenue next 12 months {scores.get('expected_revenue_total', 0):,.0f}"
        )
    return "\n".join(lines)


def sum_rows(gen_report: dict) -> int:
    """Total rows written by the generator, whatever nesting its report uses."""
    rows = gen_report.get("rows", gen_report)
    total = 0
    for value in rows.values():
        if isinstance(value, dict):
            total += sum_rows({"rows": value})
        elif isinstance(value, int):
            total += value
    return total


def outside_of(asset: str, upstream: bool = False) -> Callable[[Any], bool]:
    """Exclusion test keeping the assets downstream of `asset` (itself and syncs excluded), or
    with `upstream`, `asset` and everything it is built from."""
    import dagster as dg

    from orchestration.definitions import defs

    key = dg.AssetKey.from_user_string(asset)
    graph = defs.resolve_asset_graph()
    if not graph.has(key):
        raise SystemExit(f"cdp bench: no asset {asset!r} (use the slash form, e.g. marts/rfm)")
    selected = dg.AssetSelection.assets(key)
    keys = (selected.upstream() if upstream else selected.downstream() - selected).resolve(graph)
    return lambda k: is_sync_asset(k) or k not in keys
