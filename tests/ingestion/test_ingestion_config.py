"""config/sources.yaml validation: the shipped file loads, mistakes name the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdp.config import ConfigError
from cdp.settings import PROJECT_ROOT
from ingestion.config import KNOWN_TABLES, load_sources_config, normalise_header

SHIPPED = PROJECT_ROOT / "config" / "sources.yaml"


def test_shipped_config_covers_every_source_and_table():
    config = load_sources_config(SHIPPED)
    assert set(config.sources) == set(KNOWN_TABLES)
    for name, source in config.sources.items():
        assert set(source.tables) == set(KNOWN_TABLES[name])
    assert config.sources["pos"].format == "sqlite"
    signups = config.sources["spreadsheets"].tables["event_signups"]
    assert {f.format for f in signups.files} == {"xlsx", "csv"}
    csv = next(f for f in signups.files if f.format == "csv")
    assert (csv.encoding, csv.delimiter) == ("latin-1", ";")
    assert signups.column_mapping["Prénom"] == "first_name"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_key_is_rejected_with_file_and_field(tmp_path):
    path = _write(
        tmp_path,
        "sources:\n  catalog:\n    location: catalog\n    tables:\n      products:\n"
        "        files: [{glob: '*.csv', format: csv, delimter: ';'}]\n"
        "        primary_key: [sku]\n",
    )
    with pytest.raises(ConfigError) as err:
        load_sources_config(path)
    message = str(err.value)
    assert str(path) in message
    assert "sources.catalog.tables.products.files.0.delimter" in message


def test_bad_format_and_encoding_are_rejected(tmp_path):
    path = _write(
        tmp_path,
        "sources:\n  catalog:\n    location: catalog\n    tables:\n      products:\n"
        "        files: [{glob: '*.csv', format: tsv, encoding: klingon}]\n"
        "        primary_key: [sku]\n",
    )
    with pytest.raises(ConfigError) as err:
        load_sources_config(path)
    assert "files.0.format" in str(err.value)
    assert "klingon" in str(err.value)


def test_unknown_table_and_missing_primary_key(tmp_path):
    path = _write(
        tmp_path,
        "sources:\n  shop:\n    location: shop\n    tables:\n      invoices:\n"
        "        files: [{glob: '*.jsonl', format: jsonl}]\n        primary_key: [id]\n",
    )
    with pytest.raises(ConfigError, match="unknown table"):
        load_sources_config(path)
    path = _write(
        tmp_path,
        "sources:\n  shop:\n    location: shop\n    tables:\n      orders:\n"
        "        files: [{glob: '*.jsonl', format: jsonl}]\n",
    )
    with pytest.raises(ConfigError, match=r"sources\.shop\.tables\.orders\.primary_key"):
        load_sources_config(path)


def test_location_resolves_against_landing_dir(settings, tmp_path):
    config = load_sources_config(SHIPPED)
    assert config.sources["shop"].path(settings) == settings.landing_dir / "shop"
    path = _write(
        tmp_path,
        f"sources:\n  web:\n    location: {tmp_path / 'extracts'}\n    tables:\n      events:\n"
        "        files: [{glob: '*.parquet', format: parquet}]\n        primary_key: [event_id]\n",
    )
    assert load_sources_config(path).sources["web"].path(settings) == tmp_path / "extracts"


def test_header_normalisation_ignores_case_accents_punctuation():
    assert normalise_header("Date de l'événement") == normalise_header("DATE DE L EVENEMENT")
    assert normalise_header(" E-mail ") == "e mail"
