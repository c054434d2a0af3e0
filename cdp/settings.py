"""Paths and runtime settings, read from the environment with safe local defaults.

Every part of the platform (CLI, Dagster resources, dbt profile, tests) resolves its paths
here so that one environment variable moves the whole installation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class Settings:
    """Resolved locations of everything the platform reads and writes."""

    data_dir: Path
    landing_dir: Path
    ground_truth_dir: Path
    warehouse: Path
    config_dir: Path
    models_dir: Path
    dagster_home: Path

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("CDP_DATA_DIR", PROJECT_ROOT / "data")).resolve()
        return cls(
            data_dir=data_dir,
            landing_dir=Path(os.environ.get("CDP_LANDING_DIR", data_dir / "landing")).resolve(),
            ground_truth_dir=Path(
                os.environ.get("CDP_GROUND_TRUTH_DIR", data_dir / "ground_truth")
            ).resolve(),
            warehouse=Path(
                os.environ.get("CDP_WAREHOUSE", data_dir / "warehouse.duckdb")
            ).resolve(),
            config_dir=Path(os.environ.get("CDP_CONFIG_DIR", PROJECT_ROOT / "config")).resolve(),
            models_dir=Path(os.environ.get("CDP_MODELS_DIR", data_dir / "models")).resolve(),
            dagster_home=Path(os.environ.get("DAGSTER_HOME", data_dir / "dagster_home")).resolve(),
        )


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
