"""Run the whole asset graph in-process and report what each step did.

`cdp demo` and `cdp bench` share this: one Dagster run of every asset (and its checks) with the
persisted instance under DAGSTER_HOME, so the runs also show in the UI, plus per-step wall time,
row counts from materialisation metadata and peak memory of the process tree (dbt runs as a
child process, so the sampler follows children too).
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROW_COUNT_KEYS = ("dagster/row_count", "row_count", "rows")


def _children(pid: int) -> list[int] | None:
    """The child processes of `pid` from /proc/<pid>/task/*/children (None where the kernel
    does not provide those files)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []  # the process is gone
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as handle:
                found += [int(p) for p in handle.read().split()]
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{task}/children"):
                return None
        except OSError:
            continue
    return found


def _rss(pid: int, page: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * page
    except (OSError, IndexError, ValueError):
        return 0


def _tree_rss_bytes(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, read from /proc: the tree is
    walked through each process's `children` files, so a sample costs the size of the tree,
    not of every process on the machine (which `_all_rss_bytes` reads where those files are
    missing)."""
    page = os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        children = _children(pid)
        if children is None:
            return _all_rss_bytes(root_pid)
        total += _rss(pid, page)
        stack.extend(children)
    return total


def _all_rss_bytes(root_pid: int) -> int:
    """`_tree_rss_bytes` by reading the parent of every process in /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(stat[1]), []).append(pid)
        rss[pid] = int(stat[21]) * page
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, ()))
    return total


class MemorySampler:
    """Samples the RSS of this process tree in a background thread."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self.cpu_seconds = 0.0  # this thread's own CPU: a walk of /proc every interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        pid = os.getpid()
        while not self._stop.is_set():
            self.samples.append((time.time(), _tree_rss_bytes(pid)))
            self.cpu_seconds = time.thread_time()
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak_between(self, start: float, end: float) -> int:
        inside = [rss for ts, rss in self.samples if start <= ts <= end]
        return max(inside, default=0)

    @property
    def peak(self) -> int:
        return max((rss for _, rss in self.samples), default=0)


@dataclass
class StepReport:
    step: str
    seconds: float
    peak_rss: int
    status: str
    rows: int = 0
    error: str = ""
    label: str = ""  # what the step built, for people (step keys are Dagster's op names)
    cpu_seconds: float = 0.0  # CPU of this process over the step, the memory sampler left out


@dataclass
class CheckReport:
    asset: str
    name: str
    passed: bool
    severity: str
    metadata: dict[str, Any]
    blocking: bool = False


@dataclass
class RunReport:
    log_path: Path
    run_id: str
    success: bool
    seconds: float
    peak_rss: int
    steps: list[StepReport] = field(default_factory=list)
    materializations: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: list[CheckReport] = field(default_factory=list)
    skipped_steps: list[str] = field(default_factory=list)


def metadata_values(metadata: dict[str, Any]) -> dict[str, Any]:
    """Unwrap Dagster MetadataValue objects into plain Python values."""
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


def row_count(metadata: dict[str, Any]) -> int:
    for key in ROW_COUNT_KEYS:
        value = metadata.get(key)
        if isinstance(value, int | float):
            return int(value)
    return 0


def is_sync_asset(key: Any) -> bool:
    """Reverse-ETL sync assets push to real destinations: the demo and bench leave them out."""
    return len(key.path) == 2 and key.path[0] == "activation" and key.path[1].startswith("sync_")


def is_raw_asset(key: Any) -> bool:
    """Raw tables loaded by ingestion (one dlt multi-asset per source)."""
    return key.path[0].startswith("raw_")


StepCallback = Callable[[StepReport], None]


def run_all_assets(
    exclude: Callable[[Any], bool] = is_sync_asset,
    log_level: str = "WARNING",
    checks: Callable[[Any], bool] | None = None,
) -> RunReport:
    """Materialise every asset of the code location (minus the excluded keys) in one run.

    With `checks`, only the asset checks it keeps run (dbt tests are checks too); otherwise
    every check of the selected assets.
    """
    from orchestration.definitions import defs

    selection = [spec.key for spec in defs.resolve_all_asset_specs() if not exclude(spec.key)]
    return run_assets(selection, log_level=log_level, checks=checks)


def run_pipeline(
    selection: list[Any], on_step: StepCallback | None = None, tags: dict[str, str] | None = None
) -> RunReport:
    """The selected assets in two runs: ingestion, then everything derived from the raw layer.

    In one run, a source whose ingestion fails would skip every dbt step downstream of it (dbt
    is one multi-asset), so the marts would stay stale. Loading first and building second lets
    the other sources' new data through: the failed source's tables keep their last good load.
    """
    raw = [key for key in selection if is_raw_asset(key)]
    derived = [key for key in selection if not is_raw_asset(key)]
    reports = [
        run_assets(keys, on_step=on_step, tags={"cdp/phase": phase, **(tags or {})})
        for phase, keys in (("ingestion", raw), ("derived", derived))
        if keys
    ]
    return merge_reports(reports)


def merge_reports(reports: list[RunReport]) -> RunReport:
    """One report for consecutive runs (their ids joined; success only if all succeeded)."""
    merged = RunReport(
        log_path=reports[-1].log_path if reports else Path(),
        run_id=", ".join(r.run_id for r in reports),
        success=all(r.success for r in reports),
        seconds=sum(r.seconds for r in reports),
        peak_rss=max((r.peak_rss for r in reports), default=0),
    )
    for report in reports:
        merged.steps += report.steps
        merged.materializations.update(report.materializations)
        merged.checks += report.checks
        merged.skipped_steps += report.skipped_steps
    return merged


def run_assets(
    selection: list[Any],
    log_level: str = "WARNING",
    on_step: StepCallback | None = None,
    tags: dict[str, str] | None = None,
    checks: Callable[[Any], bool] | None = None,
) -> RunReport:
    """Materialise the selected assets (and their checks) in one in-process Dagster run.

    With `checks`, only the asset checks it keeps run; otherwise every check of the selected
    assets. The console shows Dagster events from `log_level` up; what the steps print (dbt's
    own output) goes to `<data_dir>/logs/last_run.log`; the full event log is in the run
    history. `on_step` is called as each step ends. The run carries the process id (tags of
    orchestration.monitoring) so a killed run is later marked FAILED, not left STARTED.
    """
    import uuid

    import dagster as dg

    from cdp.settings import ensure_dagster_home, get_settings
    from orchestration.definitions import defs
    from orchestration.monitoring import process_tags

    ensure_dagster_home(get_settings())
    job = defs.resolve_implicit_global_asset_job_def()
    if checks is not None:
        graph = defs.resolve_asset_graph()
        kept = {k for k in graph.asset_check_keys if k.asset_key in selection and checks(k)}
        # a check computed in one op with its asset cannot be left out (quarantine_rows)
        for key in selection:
            kept |= {
                k
                for k in graph.get_execution_set_asset_and_check_keys(key)
                if isinstance(k, dg.AssetCheckKey)
            }
        job = job.get_subset(asset_selection=set(selection), asset_check_selection=kept)
    instance = dg.DagsterInstance.get()
    log_path = get_settings().data_dir / "logs" / "last_run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    run_id = str(uuid.uuid4())
    console = sys.stdout  # steps are reported here while their own output goes to the log
    watcher = _StepWatcher(
        on_step and (lambda step: _to(console, on_step, step)),
    )
    instance.add_event_listener(run_id, watcher)
    started = time.time()
    with MemorySampler() as sampler, open(log_path, "w") as log, redirect_stdout(log):
        watcher.sampler = sampler
        result = job.execute_in_process(
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            instance=instance,
            asset_selection=None if checks is not None else selection,
            raise_on_error=False,
            run_id=run_id,
            tags={**process_tags(), **(tags or {})},
        )
    return RunReport(
        log_path=log_path,
        run_id=result.run_id,
        success=result.success,
        seconds=time.time() - started,
        peak_rss=sampler.peak,
        steps=watcher.steps,
        materializations=watcher.materializations,
        checks=watcher.checks,
        skipped_steps=watcher.skipped_steps,
    )


class _StepWatcher:
    """Event listener of one run: builds the step, materialisation and check reports as the
    events are stored, and hands each finished step to the callback at once."""

    def __init__(self, on_step: StepCallback | None) -> None:
        self.on_step = on_step
        self.sampler: MemorySampler | None = None
        self.steps: list[StepReport] = []
        self.materializations: dict[str, dict[str, Any]] = {}
        self.checks: list[CheckReport] = []
        self.skipped_steps: list[str] = []
        self._start: dict[str, float] = {}
        self._cpu: dict[str, float] = {}
        self._rows: dict[str, int] = {}
        self._assets: dict[str, list[str]] = {}

    def _step_cpu(self) -> float:
        """CPU seconds of this process so far, less the memory sampler's (which grow with
        the wall time and the number of processes on the machine, not with the step)."""
        return process_cpu_seconds() - (self.sampler.cpu_seconds if self.sampler else 0.0)

    def __call__(self, record: Any) -> None:
        event = record.dagster_event
        if event is None:
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self._start[event.step_key] = record.timestamp
            self._cpu[event.step_key] = self._step_cpu()
        elif kind == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            values = metadata_values(materialization.metadata)
            self.materializations[materialization.asset_key.to_user_string()] = values
            self._rows[event.step_key] = self._rows.get(event.step_key, 0) + row_count(values)
            self._assets.setdefault(event.step_key, []).append(
                materialization.asset_key.to_user_string()
            )
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            self.checks.append(
                CheckReport(
                    asset=evaluation.asset_key.to_user_string(),
                    name=evaluation.check_name,
                    passed=evaluation.passed,
                    severity=getattr(evaluation.severity, "value", str(evaluation.severity)),
                    metadata=metadata_values(evaluation.metadata),
                    blocking=bool(getattr(evaluation, "blocking", False)),
                )
            )
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            start = self._start.get(event.step_key, record.timestamp)
            error = (
                getattr(event.event_specific_data, "error", None)
                if kind == "STEP_FAILURE"
                else None
            )
            step = StepReport(
                step=event.step_key,
                seconds=record.timestamp - start,
                peak_rss=self.sampler.peak_between(start, record.timestamp) if self.sampler else 0,
                status="ok" if kind == "STEP_SUCCESS" else "FAILED",
                rows=self._rows.get(event.step_key, 0),
                label=step_label(event.step_key, self._assets.get(event.step_key, [])),
                error=_first_line(error.message) if error is not None else "",
                cpu_seconds=self._step_cpu() - self._cpu.get(event.step_key, self._step_cpu()),
            )
            self.steps.append(step)
            if self.on_step:
                self.on_step(step)
        elif kind == "STEP_SKIPPED":
            self.skipped_steps.append(event.step_key)


def process_cpu_seconds() -> float:
    """User + system CPU seconds of this process so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def step_label(step_key: str, assets: list[str]) -> str:
    """`ingest shop: 9 tables`, `dbt build: 31 tables (intermediate/…, marts/rfm)`,
    `identity/identity_graph`: the step's op name said as what it materialised."""
    if step_key.startswith("ingest_"):
        name = "ingest " + step_key.removeprefix("ingest_")
    elif step_key.startswith("dbt_models"):
        name = "dbt build"
    elif len(assets) == 1:
        return assets[0]
    else:
        return step_key.replace("__", "/")
    if not assets:
        return name
    span = assets[0] if len(assets) == 1 else f"{assets[0]} … {assets[-1]}"
    return f"{name}: {len(assets)} table{'s' if len(assets) > 1 else ''} ({span})"


def _to(stream: Any, callback: StepCallback, step: StepReport) -> None:
    with redirect_stdout(stream):
        callback(step)


def _first_line(message: str, limit: int = 240) -> str:
    line = next((part.strip() for part in message.splitlines() if part.strip()), "")
    return line[:limit]


def format_mib(num_bytes: int) -> str:
    return f"{num_bytes / 2**20:,.0f} MiB"


def format_steps(report: RunReport) -> str:
    lines = [
        f"{'step':<48} {'status':>6} {'seconds':>9} {'rows':>12} {'rows/s':>12} {'peak RSS':>10}"
    ]
    for step in report.steps:
        rate = f"{step.rows / step.seconds:,.0f}" if step.rows and step.seconds > 0 else ""
        lines.append(
            f"{(step.label or step.step)[:48]:<48} {step.status:>6} {step.seconds:>9.1f} "
            f"{step.rows:>12,} {rate:>12} {format_mib(step.peak_rss):>10}"
        )
    for step in report.skipped_steps:
        lines.append(f"{step[:48]:<48} {'skip':>6}")
    lines.append(
        f"{'total':<48} {'ok' if report.success else 'FAILED':>6} {report.seconds:>9.1f} "
        f"{'':>12} {'':>12} {format_mib(report.peak_rss):>10}"
    )
    return "\n".join(lines)


def format_checks(report: RunReport) -> str:
    failed = [check for check in report.checks if not check.passed]
    lines = [f"asset checks: {len(report.checks) - len(failed)} passed, {len(failed)} failed"]
    for check in failed:
        lines.append(f"  FAILED [{check.severity}] {check.asset} :: {check.name}")
    return "\n".join(lines)


def data_dir_files(path: Path) -> int:
    return sum(1 for item in path.rglob("*") if item.is_file())
