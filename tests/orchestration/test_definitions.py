"""The whole code location loads, with every domain present and one executor."""

import dagster as dg

from orchestration.definitions import defs


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)


def test_asset_keys_follow_schema_table_convention():
    keys = [spec.key for spec in defs.resolve_all_asset_specs()]
    assert all(len(key.path) == 2 for key in keys), [k for k in keys if len(k.path) != 2]
