"""Files under the data folder are readable by their owner only (0600 in 0700 folders).

The warehouse, dlt load packages, model artifacts, GE stores and audience files all hold
personal data. Rather than chmod each writer (dlt, DuckDB, joblib, GE, dbt write their own
files), every process that reads the settings sets the umask 077, which the subprocesses
(dbt, Dagster run workers) inherit. `harden` fixes a tree written before that.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700


def private_files() -> None:
    """New files 0600 and folders 0700 in this process and its children."""
    os.umask(PRIVATE_UMASK)


def harden(root: Path) -> int:
    """Make every file 0600 and every folder 0700 under `root`; returns how many changed."""
    changed = 0
    if not root.exists():
        return 0
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = DIR_MODE if path.is_dir() else FILE_MODE
        if stat.S_IMODE(path.stat().st_mode) != mode:
            path.chmod(mode)
            changed += 1
    return changed
