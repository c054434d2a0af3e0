"""Run each linker as a child process on the same records file; time, memory and score it."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from cdp_demo.linkbench.datasets import SOURCE, Dataset
from cdp_demo.linkbench.scoring import PairwiseScore, score_clusters, score_pairs
from cdp_demo.linkbench.worker import read_records

# FEBRL-schema column -> `cdp resolve` option; a column the data set lacks is not passed
CDP_OPTIONS = (
    ("given_name", "--first-name"),
    ("surname", "--last-name"),
    ("date_of_birth", "--birth-date"),
    ("street_number", "--address"),
    ("address_1", "--address"),
    ("address_2", "--address"),
    ("postcode", "--postcode"),
    ("suburb", "--city"),
    # the personal number: an exact key (trusted like any identifier) and, when mistyped,
    # evidence of the probabilistic model (Splink's example compares it as a field too)
    ("soc_sec_id", "--key"),
    ("soc_sec_id", "--personal-id"),
)
PERSONAL_NUMBER_OPTIONS = ("--key", "--personal-id")
CHILD_ENV = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
}


class LinkerUnavailable(RuntimeError):
    """A linker's package is not installed."""


@dataclass(frozen=True)
class Invocation:
    argv: list[str]
    mode: str  # how the linker was called, for the report


@dataclass(frozen=True)
class Linker:
    name: str
    module: str  # what must be importable
    distribution: str  # PyPI distribution whose version is reported
    output: Literal["clusters", "pairs"]  # (rec_id, cluster) or (left, right)
    invocation: Callable[[Dataset, Path, Path], Invocation]

    def version(self) -> str:
        return importlib.metadata.version(self.distribution)


def cdp_command() -> list[str]:
    """``cdp`` as installed next to this interpreter (the console script), else ``-m cli.main``."""
    script = Path(sys.executable).with_name("cdp")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]


def cdp_invocation(dataset: Dataset, records: Path, out: Path, with_key: bool) -> Invocation:
    """``cdp resolve`` with every mapped column; without the personal number (``soc_sec_id``,
    compared as evidence like Splink's example does) it must link on names, address and date."""
    argv = [*cdp_command(), "resolve", str(records), "--out", str(out), "--id", "rec_id"]
    for column, option in CDP_OPTIONS:
        if column in dataset.columns and (with_key or option not in PERSONAL_NUMBER_OPTIONS):
            argv += [option, column]
    if not dataset.link:
        return Invocation(argv, "dedupe")
    return Invocation([*argv, "--link-column", SOURCE], f"--link-column {SOURCE}")


def worker_invocation(name: str) -> Callable[[Dataset, Path, Path], Invocation]:
    def build(dataset: Dataset, records: Path, out: Path) -> Invocation:
        argv = [sys.executable, "-m", "cdp_demo.linkbench.worker", name, str(records), str(out)]
        return Invocation(argv, "link_only" if dataset.link else "dedupe")

    return build


LINKERS: dict[str, Linker] = {
    "cdp": Linker("cdp", "cdp", "open-cdp", "clusters", partial(cdp_invocation, with_key=True)),
    "cdp-no-key": Linker(
        "cdp-no-key", "cdp", "open-cdp", "clusters", partial(cdp_invocation, with_key=False)
    ),
    "splink": Linker("splink", "splink", "splink", "pairs", worker_invocation("splink")),
    "recordlinkage": Linker(
        "recordlinkage",
        "recordlinkage",
        "recordlinkage",
        "pairs",
        worker_invocation("recordlinkage"),
    ),
}


def check_available(linker: Linker) -> None:
    if importlib.util.find_spec(linker.module) is None:
        raise LinkerUnavailable(
            f"linker {linker.name!r} needs the package {linker.distribution!r}, which is not "
            "installed: uv sync --group bench"
        )


@dataclass(frozen=True)
class Measured:
    wall_s: float
    cpu_s: float  # user + system: comparable across linkers when other work shares the cores
    peak_rss_mib: float
    exit_code: int


def measure(argv: list[str], log: Path) -> Measured:
    """Run ``argv`` to completion; wall time, the child's own CPU time and peak resident memory."""
    env = {**os.environ, **CHILD_ENV}
    with log.open("wb") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(wall, cpu, usage.ru_maxrss / 1024, proc.returncode)  # ru_maxrss: KiB


def score_output(linker: Linker, out: Path, dataset: Dataset) -> PairwiseScore:
    predicted = read_records(out)
    if linker.output == "clusters":
        clusters = predicted.rename(columns={"record_id": "rec_id", "person_id": "cluster"})
        return score_clusters(clusters, dataset.truth)
    return score_pairs(predicted, dataset.truth)


def run_one(linker: Linker, dataset: Dataset, workdir: Path) -> dict:
    """Run ``linker`` on ``workdir/records.csv``, time it and score its output."""
    records = workdir / "records.csv"
    out = workdir / f"{linker.name}.out.csv"
    invocation = linker.invocation(dataset, records, out)
    measured = measure(invocation.argv, workdir / f"{linker.name}.log")
    row: dict = {
        "dataset": dataset.name,
        "records": len(dataset.records),
        "linker": linker.name,
        "version": linker.version(),
        "mode": invocation.mode,
        "command": [Path(a).name if a.startswith("/") else a for a in invocation.argv],
        "wall_s": round(measured.wall_s, 2),
        "cpu_s": round(measured.cpu_s, 2),
        "peak_rss_mib": round(measured.peak_rss_mib, 1),
        "exit_code": measured.exit_code,
    }
    if measured.exit_code != 0:
        return {**row, "error": f"exit {measured.exit_code}, see {workdir / linker.name}.log"}
    return {**row, **score_output(linker, out, dataset).as_dict()}


def write_records(dataset: Dataset, workdir: Path) -> Path:
    """The one records file every linker reads (no true id in it)."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "records.csv"
    dataset.records.to_csv(path, index=False)
    return path


def run(datasets: list[Dataset], linkers: list[Linker], workdir: Path) -> list[dict]:
    rows = []
    for dataset in datasets:
        folder = workdir / dataset.name
        write_records(dataset, folder)
        for linker in linkers:
            print(f"{dataset.name}: {linker.name} ...", file=sys.stderr, flush=True)
            rows.append(run_one(linker, dataset, folder))
    return rows
