"""The one YAML loader: every problem is a ConfigError naming the file and the field path."""

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from cdp.config import ConfigError, load_yaml_model, validate_model


class _Destination(BaseModel):
    model_config = ConfigDict(extra="forbid")
    port: int


class _Sync(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    destination: _Destination


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    syncs: list[_Sync]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "syncs.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_loads(tmp_path):
    path = _write(tmp_path, "syncs:\n  - {name: a, destination: {port: 1}}\n")
    assert load_yaml_model(path, _File).syncs[0].destination.port == 1


def test_error_names_file_and_field_path(tmp_path):
    path = _write(
        tmp_path,
        "syncs:\n  - {name: a, destination: {port: 1}}\n  - {name: b, destination: {port: x}}\n",
    )
    with pytest.raises(ConfigError, match=r"syncs\.yaml: syncs\.1\.destination\.port: "):
        load_yaml_model(path, _File)
    with pytest.raises(ConfigError, match=r"syncs\.yaml: syncs\['b'\]\.destination\.port: "):
        load_yaml_model(path, _File, named_lists=("syncs",))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("syncs: [unclosed\n", "not valid YAML"),
        ("- a\n", "top level must be a mapping, got list"),
        ("syncs: []\ncolour: red\n", "colour: Extra inputs are not permitted"),
        ("", "syncs: Field required"),
    ],
)
def test_bad_files(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_yaml_model(path, _File)
    assert str(path) in str(err.value) and message in str(err.value)


def test_missing_file_and_prefixed_data(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_yaml_model(tmp_path / "absent.yaml", _File)
    with pytest.raises(ConfigError, match=r"p\.yaml: profile_a\.syncs: Field required"):
        validate_model({}, _File, "p.yaml", prefix="profile_a")
