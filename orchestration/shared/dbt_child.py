"""`cdp-dbt`: run dbt as a child that dies with the process that started it.

dagster-dbt starts `dbt build` with a plain `subprocess.Popen`. When only that parent dies (an
operator's `kill -9` of `cdp run` or of a run worker, the OOM killer picking the Python
process), the dbt child was reparented and kept running: it held DuckDB's lock on the warehouse,
so the rerun failed with "Could not set lock on file" until someone found and killed it. This
launcher asks the kernel to send the child SIGKILL when its parent dies
(`prctl(PR_SET_PDEATHSIG)`, Linux), then replaces itself with dbt (`execv` keeps the setting).
A dbt that was killed this way wrote nothing half-done that a rerun does not rebuild (the crash
tests in tests/orchestration/test_kill_and_rerun.py kill the parent alone, too).

The parent-death signal fires when the *thread* that forked the child ends: dagster-dbt forks
from the step's thread, which waits for dbt, so it outlives the child.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Have the kernel send `sig` to this process when its parent dies; False off Linux.

    Raises SystemExit when the parent is already gone (it died before the request took hold).
    """
    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # reparented between the two calls: the parent is dead
        raise SystemExit(128 + sig)
    return True


def exec_dying_with_parent(argv: Sequence[str]) -> None:
    """Replace this process with `argv`, which will die with this process's parent."""
    die_with_parent()
    os.execv(argv[0], list(argv))


def plain_dbt() -> str:
    """The `dbt` installed next to this interpreter, so it works without an activated venv."""
    sibling = Path(sys.executable).parent / "dbt"
    return str(sibling) if sibling.exists() else shutil.which("dbt") or "dbt"


def main() -> None:
    """Entry point of `cdp-dbt`: `cdp-dbt ARGS` runs `dbt ARGS`."""
    dbt = plain_dbt()
    exec_dying_with_parent([shutil.which(dbt) or dbt, *sys.argv[1:]])


if __name__ == "__main__":
    main()
