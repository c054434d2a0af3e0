"""The benchmark's record of a run: where it ran, what it measured, as JSON and Markdown."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def git_commit() -> str:
    """The commit of the code measured (``+dirty`` when the work tree has changes)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def machine() -> dict[str, str | int | float]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count() or 0,
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "load_average_1m": round(os.getloadavg()[0], 2),  # other work on the machine skews times
    }


def metadata(command: list[str]) -> dict:
    return {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "commit": git_commit(),
        "command": " ".join(command),
        "machine": machine(),
    }


def _fmt(value: object, digits: int = 3) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def markdown_table(rows: list[dict]) -> str:
    """One line per data set and linker."""
    head = (
        "| data set | records | true pairs | linker | precision | recall | F1 "
        "| predicted pairs | wall s | CPU s | peak MiB |"
    )
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for r in rows:
        if "error" in r:
            scores = ["error", "", "", ""]
            true_pairs = ""
        else:  # precision of no predicted pair is vacuous: shown n/a
            precision = _fmt(r["precision"]) if r["predicted_pairs"] else "n/a"
            scores = [precision, _fmt(r["recall"]), _fmt(r["f1"])]
            scores.append(_fmt(r["predicted_pairs"]))
            true_pairs = _fmt(r["true_pairs"])
        linker = r["linker"] + (
            f" ({r['mode']})" if r["mode"] not in ("dedupe", "link_only") else ""
        )
        cells = [r["dataset"], _fmt(r["records"]), true_pairs, linker, *scores]
        cpu = _fmt(r["cpu_s"], 1) if "cpu_s" in r else ""  # runs recorded before it was kept
        cells += [_fmt(r["wall_s"], 1), cpu, _fmt(r["peak_rss_mib"], 0)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
