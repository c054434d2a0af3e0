"""Build and run the dlt pipelines that load each source into the DuckDB warehouse.

Shared by the `cdp ingest` command and the Dagster ingestion assets: one pipeline per source
(`cdp_<source>`), destination `dlt.destinations.duckdb(<CDP_WAREHOUSE>)`, dataset
`raw_<source>`, pipeline working folders under `<CDP_DATA_DIR>/dlt`.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdp.settings import Settings, get_settings
from ingestion.append_guard import appended_tables, drop_unfinished, exactly_once
from ingestion.config import SourceConfig, SourcesConfig, load_sources_config
from privacy import ingest_filter as suppression

logger = logging.getLogger("ingestion")

# dlt adds `_dlt_load_id` to Arrow tables only when asked; the contract wants it. `_dlt_id` is
# added by the sources themselves (`_row_ids.py`: dlt's would rewrite every extracted file).
_DLT_ENV = {
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "true",
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID": "false",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    # the job files (Parquet with plain e-mails) go once loaded; see prune_loaded_packages
    "LOAD__DELETE_COMPLETED_JOBS": "true",
}
#: retention of dlt load packages once loaded: "delete" (default) or "keep" (debugging)
PACKAGE_RETENTION_ENV = "CDP_DLT_LOADED_PACKAGES"


class SourceUnavailable(RuntimeError):
    """The configured location of a source does not exist."""


class SourceLoadFailed(RuntimeError):
    """A source's load failed; its packages were aborted so the next run starts clean."""


# dlt names its own job files in errors (`.../load/normalized/<load id>/started_jobs/
# customers.164aba7dec.0.parquet`); an operator needs the source files instead.
_JOB_FILE = re.compile(r"\S*/(?:load|normalize)/\S*?/(\w+?)\.[0-9a-f]{10}\.\d+\.\w+")
_RESOURCE = re.compile(r"resource `(\w+)`")
# Values quoted by DuckDB or dlt in their errors may be personal data (a name with a bad byte).
_QUOTED_VALUE = re.compile(r"""(value |convert )(["'])[^"']*\2""")


def explain_failure(source: str, exc: BaseException, files: dict[str, list[str]]) -> str:
    """The error of a failed load with dlt's job files replaced by the source files read."""
    text = str(exc)
    tables = set(_JOB_FILE.findall(text)) | set(_RESOURCE.findall(text))

    def named(match: re.Match[str]) -> str:
        return f"<batch of {match.group(1)}>"

    text = _QUOTED_VALUE.sub(r"\1<value hidden>", _JOB_FILE.sub(named, text))
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("<class")]
    cause = " ".join(lines)[:600]
    read = [f for t in sorted(tables) for f in files.get(t, [])]
    if not read and tables:
        read = [f"{source} table {t}" for t in sorted(tables)]
    where = f" (source files: {', '.join(dict.fromkeys(read))})" if read else ""
    return f"source {source}: load failed{where}: {cause}"


def abort_pending(pipeline: Any, source: str, warehouse: Path) -> None:
    """Drop the packages of a failed load and restore the state from before it.

    The files of that load are then read again on the next run (after they are fixed, or
    with the fix in the reader); without this every later run retries the same package. What
    the aborted package had already appended is deleted (`append_guard`).
    """
    try:
        pipeline.abort_packages()
        drop_unfinished(warehouse, pipeline.dataset_name, appended_tables(source))
    except Exception as exc:  # the abort itself failing must not hide the original error
        logger.error("aborting the pending packages of %s failed: %s", pipeline.pipeline_name, exc)


def configure_dlt() -> None:
    for key, value in _DLT_ENV.items():
        os.environ.setdefault(key, value)


def dataset_name(source: str) -> str:
    return f"raw_{source}"


def pipelines_dir(settings: Settings) -> Path:
    return settings.data_dir / "dlt"


def make_pipeline(source: str, settings: Settings | None = None) -> Any:
    """The dlt pipeline of one source, writing to the warehouse of `settings`."""
    import dlt

    configure_dlt()
    settings = settings or get_settings()
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    folder = pipelines_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=f"cdp_{source}",
        destination=dlt.destinations.duckdb(credentials=str(settings.warehouse)),
        dataset_name=dataset_name(source),
        pipelines_dir=str(folder),
        dev_mode=False,
    )


def make_source(
    source: str,
    settings: Settings | None = None,
    config: SourcesConfig | None = None,
    check_location: bool = False,
) -> Any:
    """The dlt source of one source system, configured from `config/sources.yaml`."""
    configure_dlt()
    settings = settings or get_settings()
    config = config or load_sources_config(settings.config_dir / "sources.yaml")
    source_cfg = config.sources[source]
    location = source_cfg.path(settings)
    if check_location and not location.exists():
        raise SourceUnavailable(f"source {source}: {location} does not exist")
    module = importlib.import_module(f"ingestion.sources.{source}")
    factory = getattr(module, source)
    if source_cfg.format == "sqlite":
        return factory(database=location, tables=source_cfg.active_tables())
    return factory(base_dir=location, tables=source_cfg.active_tables())


@dataclass
class SourceRun:
    """What one pipeline run did."""

    source: str
    rows: dict[str, int] = field(default_factory=dict)
    load_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


def loaded_rows(pipeline: Any) -> dict[str, int]:
    """Rows per data table in the last run of `pipeline` (dlt system tables left out)."""
    trace = pipeline.last_trace
    info = trace.last_normalize_info if trace else None
    if not info:
        return {}
    return {t: n for t, n in info.row_counts.items() if not t.startswith("_dlt")}


def run_source(
    source: str, settings: Settings | None = None, config: SourcesConfig | None = None
) -> SourceRun:
    """Extract, normalise and load one source; never raises for a missing location."""
    settings = settings or get_settings()
    config = config or load_sources_config(settings.config_dir / "sources.yaml")
    result = SourceRun(source)
    started = time.perf_counter()
    try:
        dlt_source = make_source(source, settings, config, check_location=True)
    except SourceUnavailable as exc:
        logger.warning("%s; skipped", exc)
        result.error = f"skipped: {exc}"
        return result
    from ingestion.sources._common import FILES_READ

    suppression.load(settings.warehouse)  # before dlt opens the warehouse
    pipeline = make_pipeline(source, settings)
    FILES_READ[source] = {}
    try:
        with exactly_once(pipeline, source, settings.warehouse):
            info = pipeline.run(dlt_source)
            info.raise_on_failed_jobs()
    except Exception as exc:
        abort_pending(pipeline, source, settings.warehouse)
        raise SourceLoadFailed(explain_failure(source, exc, FILES_READ.get(source, {}))) from exc
    result.seconds = time.perf_counter() - started
    result.rows = loaded_rows(pipeline)
    result.load_ids = list(info.loads_ids)
    prune_loaded_packages(pipeline, result.load_ids)
    return result


def prune_loaded_packages(pipeline: Any, load_ids: list[str] | None = None) -> int:
    """Delete the packages of a successful load (copies of the personal data already in the
    warehouse), unless CDP_DLT_LOADED_PACKAGES=keep; returns how many were deleted.
    `load_ids` default: those of the pipeline's last load."""
    if load_ids is None:
        trace = pipeline.last_trace
        info = trace.last_load_info if trace else None
        load_ids = list(info.loads_ids) if info else []
    retention = os.environ.get(PACKAGE_RETENTION_ENV, "delete").strip().lower()
    if retention == "keep":
        return 0
    if retention != "delete":
        raise ValueError(f"{PACKAGE_RETENTION_ENV} must be delete or keep, not {retention!r}")
    loaded = Path(pipeline.working_dir) / "load" / "loaded"
    deleted = 0
    for load_id in load_ids:
        folder = loaded / load_id
        if folder.is_dir():
            shutil.rmtree(folder)
            deleted += 1
    return deleted


def selected_sources(config: SourcesConfig, names: list[str] | None = None) -> list[str]:
    if names:
        unknown = sorted(set(names) - set(config.sources))
        if unknown:
            raise ValueError(f"unknown source(s) {unknown}; known: {sorted(config.sources)}")
        return [n for n in config.sources if n in names]
    return list(config.enabled_sources())


def run_all(settings: Settings | None = None, sources: list[str] | None = None) -> dict[str, Any]:
    """Run every enabled source (or `sources`) one after the other.

    Returns `{"rows": {"raw_shop.customers": n, ...}, "seconds": {"shop": s, ...},
    "load_ids": {"shop": [...]}, "errors": {"pos": "..."}}`; a failing source is reported in
    `errors` and does not stop the others.
    """
    settings = settings or get_settings()
    config = load_sources_config(settings.config_dir / "sources.yaml")
    report: dict[str, Any] = {"rows": {}, "seconds": {}, "load_ids": {}, "errors": {}}
    for name in selected_sources(config, sources):
        try:
            run = run_source(name, settings, config)
        except Exception as exc:
            logger.error("source %s failed: %s", name, exc)
            report["errors"][name] = f"{type(exc).__name__}: {exc}"
            continue
        if run.error:
            report["errors"][name] = run.error
            continue
        report["seconds"][name] = run.seconds
        report["load_ids"][name] = run.load_ids
        for table, count in run.rows.items():
            report["rows"][f"{dataset_name(name)}.{table}"] = count
    return report


def source_config(name: str, settings: Settings | None = None) -> SourceConfig:
    settings = settings or get_settings()
    return load_sources_config(settings.config_dir / "sources.yaml").sources[name]


def source_fingerprints(
    settings: Settings | None = None, config: SourcesConfig | None = None
) -> dict[str, str]:
    """One digest per enabled source over the names, sizes and mtimes of its input files.

    A source whose digest changes has new or changed files (the Dagster sensor's cursor).
    Sources whose location does not exist are left out.
    """
    import hashlib

    from ingestion.sources._common import fingerprint, list_files

    settings = settings or get_settings()
    config = config or load_sources_config(settings.config_dir / "sources.yaml")
    digests: dict[str, str] = {}
    for name, cfg in config.enabled_sources().items():
        location = cfg.path(settings)
        if not location.exists():
            continue
        if cfg.format == "sqlite":
            stamps = [f"{location.name}={fingerprint(location)}"]
        else:
            files = [fs for table in cfg.active_tables().values() for fs in table.files]
            stamps = [
                f"{path.relative_to(location).as_posix()}={fingerprint(path)}"
                for path, _ in list_files(location, files)
            ]
        if stamps:
            digests[name] = hashlib.sha1("\n".join(sorted(stamps)).encode()).hexdigest()
    return digests
