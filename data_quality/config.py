"""`config/quality.yaml`: severities, thresholds, blocking assets and quarantine rules.

Every model forbids unknown keys; a bad file raises `cdp.config.ConfigError` naming the file and
the offending field, never a bare pydantic traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cdp.config import load_yaml_model, validate_model
from cdp.settings import get_settings

Severity = Literal["warn", "error"]
CheckKind = Literal[
    "schema",
    "primary_key",
    "not_null",
    "format",
    "domain",
    "range",
    "future_date",
    "referential_integrity",
    "volume",
    "freshness",
    "distribution",
]
CHECK_KINDS: tuple[str, ...] = get_args(CheckKind)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KindSeverities(_Strict):
    """Default severity of each kind of check."""

    schema_: Severity = Field("error", alias="schema")
    primary_key: Severity = "error"
    not_null: Severity = "error"
    format: Severity = "warn"
    domain: Severity = "warn"
    range: Severity = "error"
    future_date: Severity = "error"
    referential_integrity: Severity = "error"
    volume: Severity = "warn"
    freshness: Severity = "warn"
    distribution: Severity = "warn"

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def for_kind(self, kind: str) -> Severity:
        return getattr(self, "schema_" if kind == "schema" else kind)


class Defaults(_Strict):
    severity: KindSeverities = KindSeverities()
    volume_tolerance: float = Field(0.5, ge=0, description="allowed relative change of rows")
    min_rows: int = Field(1, ge=0, description="minimum rows when no previous run exists")
    load_freshness_hours: float = Field(36, gt=0)
    event_freshness_days: float = Field(60, gt=0)
    future_tolerance_hours: float = Field(24, ge=0)
    sample_rows: int = Field(5, ge=0, le=100)
    large_table_rows: int = Field(
        1_000_000, ge=0, description="above this, column checks run as DuckDB aggregates"
    )


class CheckOverride(_Strict):
    """Per-expectation override, keyed by the check id of a suite."""

    severity: Severity | None = None
    enabled: bool = True
    mostly: float | None = Field(None, gt=0, le=1)
    min_value: float | None = None
    max_value: float | None = None


class TableOverride(_Strict):
    volume_tolerance: float | None = Field(None, ge=0)
    min_rows: int | None = Field(None, ge=0)
    load_freshness_hours: float | None = Field(None, gt=0)
    event_freshness_days: float | None = Field(None, gt=0)
    large_table_rows: int | None = Field(None, ge=0)
    checks: dict[str, CheckOverride] = {}


class QuarantineRule(_Strict):
    rule: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    where: str = Field(min_length=1, description="DuckDB SQL predicate on the raw table")
    severity: Severity = "error"
    reason: str = Field(min_length=1)


class AmountOutlierSettings(_Strict):
    """Bounds of the absurd-amount threshold (data_quality/outliers.py).

    The threshold is estimated from the table: `factor` x the median positive amount, kept
    between `floor` (never flag an amount below it) and `ceiling` (always flag above it).
    """

    factor: float = Field(100.0, gt=1)
    floor: float = Field(10_000.0, gt=0)
    ceiling: float = Field(1_000_000.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> AmountOutlierSettings:
        if self.floor > self.ceiling:
            raise ValueError(f"floor {self.floor} is above ceiling {self.ceiling}")
        return self


def _check_asset_name(name: str) -> str:
    parts = name.split(".")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"{name!r} is not '<schema>.<table>'")
    return name


class QualityConfig(_Strict):
    defaults: Defaults = Defaults()
    blocking_assets: list[str] = []
    tables: dict[str, TableOverride] = {}
    quarantine: dict[str, list[QuarantineRule]] = {}
    amount_outliers: AmountOutlierSettings = AmountOutlierSettings()

    @field_validator("blocking_assets")
    @classmethod
    def _blocking_names(cls, value: list[str]) -> list[str]:
        return [_check_asset_name(v) for v in value]

    @field_validator("tables", "quarantine")
    @classmethod
    def _table_names(cls, value: dict) -> dict:
        for name in value:
            _check_asset_name(name)
        return value

    @field_validator("quarantine")
    @classmethod
    def _unique_rules(cls, value: dict[str, list[QuarantineRule]]) -> dict:
        for table, rules in value.items():
            names = [r.rule for r in rules]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{table}: rule names repeated: {', '.join(dupes)}")
        return value

    # -- resolution helpers -------------------------------------------------------------
    def table(self, asset: str) -> TableOverride:
        return self.tables.get(asset, TableOverride())

    def check_override(self, asset: str, check_id: str) -> CheckOverride:
        return self.table(asset).checks.get(check_id, CheckOverride())

    def severity(
        self, asset: str, check_id: str, kind: str, default: str | None = None
    ) -> Severity:
        override = self.check_override(asset, check_id).severity
        return override or default or self.defaults.severity.for_kind(kind)

    def setting(self, asset: str, name: str):
        value = getattr(self.table(asset), name, None)
        return getattr(self.defaults, name) if value is None else value

    def is_blocking(self, asset: str) -> bool:
        return asset in self.blocking_assets


def default_config_path() -> Path:
    return get_settings().config_dir / "quality.yaml"


def parse_config(data: object, path: Path | str = "<memory>") -> QualityConfig:
    """Validate already-read data (a bad value raises `cdp.config.ConfigError`)."""
    return validate_model(data, QualityConfig, path)


def load_config(path: Path | str | None = None) -> QualityConfig:
    """Load and validate `config/quality.yaml` (or `path`)."""
    path = Path(path) if path is not None else default_config_path()
    return load_yaml_model(path, QualityConfig)
