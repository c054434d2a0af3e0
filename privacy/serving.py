"""The serving snapshot after an erasure (cdp/serving.py).

Every snapshot published before the erasure holds the person: a fresh one is published from
the warehouse (every served schema, with the app's tables: app.snapshot.BUILDERS) and every
older snapshot file is deleted. A reader that has an old file open keeps reading it until it
closes it (the file is only unlinked); nobody can open it again.
"""

from __future__ import annotations

from cdp.settings import Settings


def republish(settings: Settings) -> int:
    """Publish a full snapshot and delete the older ones; returns how many were deleted
    (0 when nothing has been published yet)."""
    from app.snapshot import BUILDERS
    from cdp.serving import current_snapshot, publish, serving_dir
    from cdp.warehouse_lock import warehouse_lock

    if current_snapshot(settings) is None:
        return 0
    with warehouse_lock(settings.warehouse):
        new = publish(settings, builders=BUILDERS)
        old = [p for p in (serving_dir(settings) / "snapshots").glob("*.duckdb") if p != new]
        for path in old:
            path.unlink(missing_ok=True)
    return len(old)
