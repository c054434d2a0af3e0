"""config/quality.yaml validation: unknown keys and bad values are named with the file."""

from __future__ import annotations

import pytest

from cdp.config import ConfigError
from data_quality.config import load_config
from data_quality.suites import all_suites


def test_repository_config_is_valid_and_matches_the_suites():
    config = load_config()
    suites = {s.name: s for s in all_suites()}
    assert config.is_blocking("marts.customer_360") and config.is_blocking("marts.customer_consent")
    for asset, table in config.tables.items():
        assert asset in suites, f"config names {asset}, which has no suite"
        ids = {c.id for c in suites[asset].checks}
        unknown = set(table.checks) - ids
        assert not unknown, f"{asset}: config overrides unknown checks {unknown}"
    for asset in config.blocking_assets:
        assert asset in suites


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("defaults:\n  volume_tolerance: 0.2\n  colour: red\n", "defaults.colour"),
        ("defaults:\n  severity:\n    format: fatal\n", "defaults.severity.format"),
        ("tables:\n  customers:\n    min_rows: 1\n", "not '<schema>.<table>'"),
        (
            "quarantine:\n  raw_shop.orders:\n    - {rule: Bad-Name, where: 'x', reason: r}\n",
            "quarantine.raw_shop.orders.0.rule",
        ),
        ("- a\n- b\n", "top level must be a mapping"),
        ("defaults: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_config_names_file_and_field(tmp_path, text, expected):
    path = tmp_path / "quality.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
