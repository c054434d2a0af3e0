"""YAML configuration of segments (`config/segments.yaml`) and syncs (`config/syncs.yaml`).

Both files are validated with pydantic models that forbid unknown keys; errors name the file
and the offending entry.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cdp.config import ConfigError, load_yaml_model

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
FIELD_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MODES = ("upsert", "update_only", "insert_only", "mirror")
CHANNELS = ("email", "sms", "phone", "ads")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Named(_Strict):
    """An entry whose `name` is lower_snake_case; errors call it by its class (segment, sync)."""

    name: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(f"{cls.__name__.lower()} names are lower_snake_case")
        return value


class Segment(_Named):
    description: str
    condition: str = Field(min_length=1)


class _NamedEntries(_Strict):
    """A file of one list, `<KIND>s`, whose entries' names must be unique."""

    KIND: ClassVar[str]

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names = [entry.name for entry in getattr(self, f"{self.KIND}s")]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate {self.KIND} names: {', '.join(dupes)}")
        return self


class SegmentsFile(_NamedEntries):
    KIND: ClassVar[str] = "segment"
    segments: list[Segment]


class Source(_Strict):
    """Either a segment (members joined to customer_360) or a SQL query over the marts."""

    segment: str | None = None
    sql: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Source:
        if (self.segment is None) == (self.sql is None):
            raise ValueError("source needs exactly one of `segment` or `sql`")
        return self


class Destination(_Strict):
    type: Literal["hubspot", "klaviyo", "webhook", "sftp", "sql_table", "audience_file"]
    options: dict[str, Any] = Field(default_factory=dict)


class Sync(_Named):
    description: str = ""
    source: Source
    destination: Destination
    mode: Literal["upsert", "update_only", "insert_only", "mirror"] = "upsert"
    key: str = Field(min_length=1, description="SQL expression over the source giving the key")
    fields: dict[str, str] = Field(
        default_factory=dict, description="destination field -> SQL expression over the source"
    )
    schedule: str | None = Field(default=None, description="cron expression")
    enabled: bool = True

    @field_validator("fields")
    @classmethod
    def _field_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if not FIELD_RE.match(k) or k.startswith("_")]
        if bad:
            raise ValueError(f"field names must be identifiers not starting with _: {bad}")
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_cron(value):
            raise ValueError(f"invalid cron expression {value!r}")
        return value


def is_valid_cron(value: str) -> bool:
    """A five-field cron expression that can fire (what Dagster's `on_cron` accepts): no
    seconds field, not only on February 30 or 31."""
    from croniter import croniter

    if not croniter.is_valid(value):
        return False
    fields, *_ = croniter.expand(value)
    if len(fields) != 5:
        return False
    _minutes, _hours, days, months, _weekdays = fields
    return not (months == [2] and len(days) == 1 and days[0] in (30, 31))


class SyncsFile(_NamedEntries):
    KIND: ClassVar[str] = "sync"
    syncs: list[Sync]


def load_segments(path: Path) -> SegmentsFile:
    return load_yaml_model(path, SegmentsFile, named_lists=("segments",))


def load_syncs(path: Path, segments: SegmentsFile | None = None) -> SyncsFile:
    """`syncs.yaml` validated, then each sync's mode and options checked by its destination."""
    parsed = load_yaml_model(path, SyncsFile, named_lists=("syncs",))
    from activation.destinations import destination_class

    known = {s.name for s in segments.segments} if segments is not None else None
    for sync in parsed.syncs:
        cls = destination_class(sync.destination.type)
        if sync.mode not in cls.supported_modes:
            raise ConfigError(
                f"{path}: syncs[{sync.name!r}].mode: destination {sync.destination.type} "
                f"supports {', '.join(sorted(cls.supported_modes))}, not {sync.mode}"
            )
        try:
            cls.validate_options(sync.destination.options)
        except ValueError as exc:
            raise ConfigError(f"{path}: syncs[{sync.name!r}].destination.options: {exc}") from None
        if known is not None and sync.source.segment and sync.source.segment not in known:
            raise ConfigError(
                f"{path}: syncs[{sync.name!r}].source.segment: unknown segment "
                f"{sync.source.segment!r}"
            )
    return parsed


def segments_path(config_dir: Path) -> Path:
    return Path(config_dir) / "segments.yaml"


def syncs_path(config_dir: Path) -> Path:
    return Path(config_dir) / "syncs.yaml"
