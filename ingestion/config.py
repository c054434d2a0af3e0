"""`config/sources.yaml`: where each source system's extracts are and how to read them.

The YAML is validated with pydantic models that forbid unknown keys; every error names the
file and the offending field (`config/sources.yaml: sources.shop.tables.orders.files.0.format:
Input should be 'jsonl', 'csv', 'xlsx' or 'parquet'`).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cdp.config import load_yaml_model
from cdp.settings import Settings, get_settings

SOURCE_NAMES = (
    "shop",
    "pos",
    "clienteling",
    "esp",
    "web",
    "service",
    "spreadsheets",
    "consent",
    "catalog",
)

# The raw tables each source package can produce (child tables follow their parent).
KNOWN_TABLES: dict[str, tuple[str, ...]] = {
    "shop": ("customers", "orders", "carts"),
    "pos": ("stores", "loyalty_cards", "receipts", "receipt_lines"),
    "clienteling": ("clients",),
    "esp": ("contacts", "campaigns", "events"),
    "web": ("events",),
    "service": ("tickets",),
    "spreadsheets": ("event_signups",),
    "consent": ("consent_events",),
    "catalog": ("products",),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileSet(_Model):
    """A group of files of one format feeding one table."""

    glob: str = Field(min_length=1, description="glob relative to the source location")
    format: Literal["jsonl", "csv", "xlsx", "parquet"]
    encoding: str = Field(
        default="utf-8",
        description="expected encoding; each file is still detected (BOM, UTF-8, cp1252, Latin-1)",
    )
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    sheets: list[str] = Field(
        default_factory=list,
        description="xlsx sheets to read; empty = every sheet that has a header row",
    )
    merged_cells: Literal["expand", "reject"] = Field(
        default="expand",
        description="xlsx data cells merged over several rows of one column: copy the value "
        "to every row (expand) or reject the rows (reject); merges across columns are rejected",
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value


class TableConfig(_Model):
    """One raw table: its files (file sources), merge key and column renames."""

    enabled: bool = True
    files: list[FileSet] = Field(default_factory=list)
    primary_key: list[str] = Field(min_length=1)
    column_mapping: dict[str, str] = Field(default_factory=dict)
    cursor: str | None = Field(default=None, description="incremental column (sqlite)")
    lookback_hours: float = Field(
        default=168.0,
        ge=0,
        description="sqlite: rows whose cursor is up to this much older than the newest one "
        "seen are read again (merged on the key), so a late upload is not lost",
    )
    null_tokens: list[str] | None = Field(
        default=None, description="texts read as NULL; default the source's null_tokens"
    )


class SourceConfig(_Model):
    """One source system."""

    enabled: bool = True
    location: str = Field(min_length=1)
    format: Literal["files", "sqlite"] = "files"
    null_tokens: list[str] = Field(
        default_factory=lambda: [""],
        description="texts read as NULL in every text column (after trimming); never implicit, "
        "so a country code `NA` stays `NA` unless listed",
    )
    tables: dict[str, TableConfig]

    @model_validator(mode="after")
    def _files_or_cursor(self) -> SourceConfig:
        for name, table in self.tables.items():
            if self.format == "files" and not table.files:
                raise ValueError(f"table {name!r}: a file source needs at least one entry in files")
            if self.format == "sqlite" and table.files:
                raise ValueError(f"table {name!r}: a sqlite source takes no files")
        return self

    def path(self, settings: Settings) -> Path:
        """The location resolved against the landing folder."""
        location = Path(self.location).expanduser()
        return location if location.is_absolute() else settings.landing_dir / location

    def active_tables(self) -> dict[str, TableConfig]:
        """Enabled tables, each with its null tokens resolved (table's own, else the source's)."""
        return {
            name: table
            if table.null_tokens is not None
            else table.model_copy(update={"null_tokens": list(self.null_tokens)})
            for name, table in self.tables.items()
            if table.enabled
        }


class SourcesConfig(_Model):
    """The whole `sources.yaml`."""

    sources: dict[str, SourceConfig]

    @model_validator(mode="after")
    def _known_names(self) -> SourcesConfig:
        for source, cfg in self.sources.items():
            if source not in KNOWN_TABLES:
                raise ValueError(f"unknown source {source!r}; known: {', '.join(SOURCE_NAMES)}")
            unknown = sorted(set(cfg.tables) - set(KNOWN_TABLES[source]))
            if unknown:
                raise ValueError(
                    f"source {source!r}: unknown table(s) {unknown}; "
                    f"known: {list(KNOWN_TABLES[source])}"
                )
        return self

    def enabled_sources(self) -> dict[str, SourceConfig]:
        return {name: cfg for name, cfg in self.sources.items() if cfg.enabled}


def config_path(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return settings.config_dir / "sources.yaml"


def load_sources_config(path: Path | None = None) -> SourcesConfig:
    """Read and validate `sources.yaml` (default: `<CDP_CONFIG_DIR>/sources.yaml`)."""
    path = Path(path) if path else config_path()
    return load_yaml_model(path, SourcesConfig)


def normalise_header(text: object) -> str:
    """Header comparison key: accents stripped, case folded, punctuation collapsed."""
    value = unicodedata.normalize("NFKD", str(text))
    value = "".join(ch for ch in value if not unicodedata.combining(ch)).casefold()
    return re.sub(r"[^0-9a-z]+", " ", value).strip()
