"""Settings from the environment (pydantic-settings): variable names, defaults, errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cdp.settings import PROJECT_ROOT, Settings, get_settings

VARIABLES = (
    "CDP_DATA_DIR",
    "CDP_LANDING_DIR",
    "CDP_GROUND_TRUTH_DIR",
    "CDP_WAREHOUSE",
    "CDP_CONFIG_DIR",
    "CDP_MODELS_DIR",
    "DAGSTER_HOME",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_sit_under_the_project_data_dir(clean_env) -> None:
    settings = get_settings()
    data = (PROJECT_ROOT / "data").resolve()
    assert settings.data_dir == data
    assert settings.landing_dir == data / "landing"
    assert settings.ground_truth_dir == data / "ground_truth"
    assert settings.warehouse == data / "warehouse.duckdb"
    assert settings.models_dir == data / "models"
    assert settings.dagster_home == data / "dagster_home"
    assert settings.config_dir == (PROJECT_ROOT / "config").resolve()


def test_data_dir_moves_every_default_and_each_variable_overrides(clean_env, tmp_path) -> None:
    clean_env.setenv("CDP_DATA_DIR", str(tmp_path / "d"))
    clean_env.setenv("CDP_WAREHOUSE", str(tmp_path / "elsewhere" / "w.duckdb"))
    clean_env.chdir(tmp_path)
    clean_env.setenv("CDP_CONFIG_DIR", "conf")  # relative: made absolute
    settings = get_settings()
    assert settings.landing_dir == tmp_path / "d" / "landing"
    assert settings.models_dir == tmp_path / "d" / "models"
    assert settings.warehouse == tmp_path / "elsewhere" / "w.duckdb"
    assert settings.config_dir == tmp_path / "conf"


def test_only_the_documented_variable_names_are_read(clean_env, tmp_path) -> None:
    clean_env.setenv("warehouse", str(tmp_path / "w.duckdb"))  # the field name, not a variable
    clean_env.setenv("cdp_warehouse", str(tmp_path / "w.duckdb"))  # names are case-sensitive
    assert get_settings().warehouse == (PROJECT_ROOT / "data" / "warehouse.duckdb").resolve()


def test_an_invalid_value_names_its_variable(clean_env) -> None:
    with pytest.raises(ValidationError, match="CDP_MODELS_DIR"):
        Settings(CDP_MODELS_DIR=12)


def test_settings_are_frozen_and_copied_with_changes(clean_env, tmp_path) -> None:
    settings = get_settings()
    with pytest.raises(ValidationError):
        settings.warehouse = tmp_path / "w.duckdb"
    moved = settings.model_copy(update={"warehouse": tmp_path / "w.duckdb"})
    assert moved.warehouse == tmp_path / "w.duckdb" and moved.data_dir == settings.data_dir


def test_every_connection_gets_the_memory_limit_and_threads(clean_env, tmp_path) -> None:
    """`cdp.warehouse.connect`, for a file or in memory, sets DuckDB's limit and threads from
    the settings (DuckDB's own default would be 80 % of the machine)."""
    from cdp.warehouse import connect

    clean_env.setenv("CDP_DUCKDB_MEMORY_LIMIT", "300MB")
    clean_env.setenv("CDP_DUCKDB_THREADS", "1")
    for con in (connect(), connect(tmp_path / "w.duckdb")):
        with con:
            limit, threads = con.execute(
                "SELECT current_setting('memory_limit'), current_setting('threads')"
            ).fetchone()
            assert (limit, threads) == ("286.1 MiB", 1)
