"""Paths and runtime settings, read from the environment with safe local defaults.

Every part of the platform (CLI, Dagster resources, dbt profile, tests) resolves its paths
here so that one environment variable moves the whole installation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cdp.private_files import private_files

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_TELEMETRY_OFF = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
}


def disable_telemetry() -> None:
    """Switch off dbt, dlt and Dagster usage reporting for this process and its children."""
    for key, value in _TELEMETRY_OFF.items():
        os.environ.setdefault(key, value)


def secret_from_env(variable: str, min_length: int, error: type[Exception], use: str) -> str:
    """The secret held in `variable`, else `error` naming the variable: secrets come from the
    environment only, never from a file or a default, and a short one is refused."""
    value = os.environ.get(variable, "")
    if len(value) < min_length:
        raise error(
            f"{variable} must be set to a random secret of at least {min_length} characters ({use})"
        )
    return value


def _path(variable: str, default: Path | None = None, *, under_data_dir: str = "") -> Any:
    """A path read from `variable`; unset: `default`, or `<data_dir>/<under_data_dir>`."""
    if under_data_dir:
        return Field(
            default_factory=lambda data: data["data_dir"] / under_data_dir,
            alias=variable,
            validate_default=True,
        )
    return Field(default, alias=variable, validate_default=True)


class Settings(BaseSettings):
    """Resolved locations of everything the platform reads and writes.

    Each field is read from the environment variable of its alias (an invalid value fails with
    a pydantic error naming that variable); unset, it defaults under `CDP_DATA_DIR`
    (`<project>/data`). Every path is made absolute.
    """

    model_config = SettingsConfigDict(frozen=True, case_sensitive=True)

    data_dir: Path = _path("CDP_DATA_DIR", PROJECT_ROOT / "data")
    landing_dir: Path = _path("CDP_LANDING_DIR", under_data_dir="landing")
    ground_truth_dir: Path = _path("CDP_GROUND_TRUTH_DIR", under_data_dir="ground_truth")
    warehouse: Path = _path("CDP_WAREHOUSE", under_data_dir="warehouse.duckdb")
    config_dir: Path = _path("CDP_CONFIG_DIR", PROJECT_ROOT / "config")
    models_dir: Path = _path("CDP_MODELS_DIR", under_data_dir="models")
    dagster_home: Path = _path("DAGSTER_HOME", under_data_dir="dagster_home")
    # DuckDB's own default is 80% of RAM and every core, which leaves nothing to the Dagster
    # process, pandas (identity, ML) and the other connections beside it: at 1.4M customers the
    # marts were OOM-killed at 18.8 GB on a 24 GB machine. Above the limit DuckDB spills to disk.
    duckdb_memory_limit: str = Field(
        default_factory=lambda: machine_memory_limit(),
        alias="CDP_DUCKDB_MEMORY_LIMIT",
        pattern=r"^\d+(\.\d+)?\s*([KMGT]i?B|B)$",
    )
    duckdb_threads: int = Field(
        default_factory=lambda: machine_cores(), alias="CDP_DUCKDB_THREADS", ge=1
    )

    @field_validator("*", mode="after")
    @classmethod
    def _absolute(cls, value: Any) -> Any:
        return value.resolve() if isinstance(value, Path) else value

    @classmethod
    def from_env(cls) -> Settings:
        return cls()


DUCKDB_MEMORY_SHARE = 3  # DuckDB gets a third of the machine's memory by default


def machine_memory_bytes() -> int:
    """Memory this process may use: the cgroup limit when there is one, else physical RAM."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        limit = "max"
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return min(int(limit), physical) if limit.isdigit() else physical


def machine_cores() -> int:
    """Cores this process may run on (its CPU affinity, which containers restrict)."""
    return max(1, len(os.sched_getaffinity(0)))


def machine_memory_limit() -> str:
    """DuckDB `memory_limit` for this machine: a third of its memory, in whole MiB."""
    return f"{machine_memory_bytes() // DUCKDB_MEMORY_SHARE // 2**20}MiB"


INSTANCE_TEMPLATE = PROJECT_ROOT / "orchestration" / "dagster.yaml"
_OLD_INSTANCE_CONFIG = "telemetry:\n  enabled: false\n"  # what installs wrote before the template


def ensure_dagster_home(settings: Settings) -> Path:
    """Create DAGSTER_HOME with the project's instance config (run queue, run monitoring,
    telemetry off) unless the operator wrote their own, and export it for Dagster."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() == _OLD_INSTANCE_CONFIG:
        config.write_text(INSTANCE_TEMPLATE.read_text())
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def get_settings() -> Settings:
    """Settings for the current environment (re-read each call so tests can monkeypatch)."""
    disable_telemetry()
    private_files()  # data/ files 0600 in 0700 folders (cdp/private_files.py)
    return Settings.from_env()


disable_telemetry()
