"""The whole code location loads, with every domain present and one executor."""

import dagster as dg

from orchestration.definitions import defs


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)


def test_asset_keys_follow_schema_table_convention():
    keys = [spec.key for spec in defs.resolve_all_asset_specs()]
    assert all(len(key.path) == 2 for key in keys), [k for k in keys if len(k.path) != 2]


def test_the_serving_snapshot_waits_for_every_served_table():
    """serving/snapshot is downstream of every asset that writes a table readers are served
    (so a run publishes it last, and a failed step or blocking check upstream skips it:
    readers keep the last good snapshot), and the automation only publishes it when all its
    dependencies' blocking checks passed."""
    from cdp.serving import SERVED_SCHEMAS
    from orchestration.serving.assets import SNAPSHOT_KEY

    graph = defs.resolve_asset_graph()
    served = {
        key
        for key in graph.get_all_asset_keys()
        if key.path[0] in SERVED_SCHEMAS or ".".join(key.path) in SERVED_SCHEMAS
    }
    for entry in SERVED_SCHEMAS:  # each served schema or table has its assets
        assert any(entry in (k.path[0], ".".join(k.path)) for k in served), entry
    for key in ("activation/segment_membership", "ml/churn_scores", "marts/customer_360"):
        assert dg.AssetKey.from_user_string(key) in served, key
    snapshot = graph.get(SNAPSHOT_KEY)
    assert served <= set(snapshot.parent_keys), served - set(snapshot.parent_keys)
    assert "all_deps_blocking_checks_passed" in str(snapshot.automation_condition)
