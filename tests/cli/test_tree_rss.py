"""The memory of a run counts its child processes (dbt runs as one), read through the
process tree's own `children` files as by a scan of every process."""

from __future__ import annotations

import os
import subprocess
import sys

from cli.runner import _all_rss_bytes, _tree_rss_bytes

HOLD = 200 * 2**20  # bytes a child keeps resident


def test_tree_rss_counts_a_child_as_the_full_scan_does():
    child = subprocess.Popen(
        [sys.executable, "-c", f"b = bytearray({HOLD}); print('ready', flush=True); input()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        alone = _all_rss_bytes(child.pid)
        assert alone >= HOLD
        tree, scan = _tree_rss_bytes(os.getpid()), _all_rss_bytes(os.getpid())
        assert tree >= alone
        assert abs(tree - scan) < 50 * 2**20  # the same processes (rss moves a little)
    finally:
        child.kill()
        child.wait()
