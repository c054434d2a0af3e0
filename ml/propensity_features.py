"""Populations and features of the propensity and lead models as of a cutoff.

Purchase propensity: every person who bought before the cutoff (history, activity and BG/NBD
features); leads: identified persons who never bought (activity). A population is the whole
one (scored or graded range by range: `id_ranges`) or a hash sample stratified by the label
(training); the samples of several training cutoffs are drawn once and the tables restricted
to their persons (`training_samples`), so a cutoff costs its sample and not the whole data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import pandas as pd

from ml.behaviour import BehaviourData
from ml.features import CHUNK_PERSONS, hash_cut_sql, person_ranges, stratified_sql
from ml.prediction_config import ClassifierConfig
from ml.purchase import (
    PURCHASE_FEATURES,
    fit_purchase_models,
    fit_rows_at,
    purchase_features,
    summary_at,
)

PROPENSITY = "propensity"
LEADS = "leads"
BGNBD_FIT_ROWS = 20_000  # population parameters: a deterministic sample is enough
# CHUNK_PERSONS (ml.features): persons whose features are in memory at once when a whole
# population is scored or graded (about 60 float64 features: ~200 MB a range, about three
# times that while its parts are merged); each range scans the input tables once (about 10 s
# at 1.4 million customers), so ranges of 400,000 score the 1.2 million buyers in three scans


def population_sql(
    data: BehaviourData,
    task: str,
    cutoff: date,
    max_rows: int | None = None,
    seed: int = 0,
    horizon_days: int | None = None,
) -> str:
    """The task's population at `cutoff`; with `max_rows`, cut by a deterministic hash of the
    customer id and `seed` (the same persons whatever the row order) before any feature is
    computed, so a training cutoff costs its sample, not the base; with `horizon_days` too,
    the cut is stratified by the label (`ml.features.stratified_sql`: the buyers within the
    horizon keep their share)."""
    if task == PROPENSITY:
        sql = data.buyer_population_sql(cutoff)
    else:
        sql = data.lead_population_sql(cutoff)
    if max_rows is None:
        return sql
    if horizon_days is not None:
        positives = data.base.bought_within_sql(cutoff, horizon_days)
        return stratified_sql(sql, positives, max_rows, seed)
    return hash_cut_sql(sql, max_rows, seed)


@dataclass
class Samples:
    """The training samples of several cutoffs drawn once (`training_samples`): each cutoff's
    persons (SQL) and `data`, the tables restricted to all of them."""

    data: BehaviourData
    populations: dict[date, str]


def _sampled(samples: Samples | None, cutoff: date) -> Samples | None:
    """`samples` when it holds `cutoff`'s sample, else None (the whole data is read)."""
    return samples if samples is not None and cutoff in samples.populations else None


@contextmanager
def training_samples(
    data: BehaviourData, task: str, cutoffs: list[date], cfg: ClassifierConfig, seed: int
) -> Iterator[Samples | None]:
    """The hash samples of the training cutoffs not computed yet (`data.cache`), drawn on the
    whole data and written down, and the tables restricted to their persons
    (`BehaviourData.restricted`): at a million persons each cutoff's feature queries then
    scan the rows of its sample instead of every table. None for fewer than two cutoffs (the
    restriction costs a scan itself)."""
    todo = [
        c
        for c in cutoffs
        if _key(task, c, cfg.horizon_days, cfg.max_rows_per_cutoff, seed) not in data.cache
    ]
    if len(todo) < 2:
        yield None
        return
    ns = f"{data.work_ns}_sample"
    data.con.execute(f"CREATE SCHEMA IF NOT EXISTS {ns}")
    try:
        populations = {}
        for c in todo:
            table = f"{ns}.pop_{c:%Y%m%d}"
            pop = population_sql(data, task, c, cfg.max_rows_per_cutoff, seed, cfg.horizon_days)
            data.con.execute(f"CREATE OR REPLACE TABLE {table} AS {pop}")
            populations[c] = f"SELECT customer_id FROM {table}"
        yield Samples(data.restricted(" UNION ".join(populations.values()), ns), populations)
    finally:
        data.con.execute(f"DROP SCHEMA IF EXISTS {ns} CASCADE")


def features_at(
    data: BehaviourData,
    task: str,
    cutoff: date,
    horizon_days: int,
    seed: int = 0,
    max_rows: int | None = None,
    where: str | None = None,
    samples: Samples | None = None,
) -> pd.DataFrame:
    """`customer_id, cutoff` + the task's features for its population at `cutoff` (with
    `max_rows`, a sample of it stratified by the label of `horizon_days`: `population_sql`,
    read off `samples` when it holds the cutoff; with `where`, a condition on `customer_id`,
    those of them only: `id_ranges`). Buyers also get the BG/NBD outputs for the label
    horizon (`purchase_model_at`)."""
    src = data
    if sampled := _sampled(samples, cutoff):
        pop, src = sampled.populations[cutoff], sampled.data
    else:
        pop = population_sql(data, task, cutoff, max_rows, seed, horizon_days)
    if where is not None:
        pop = f"SELECT customer_id FROM ({pop}) WHERE {where}"
    if task == PROPENSITY:
        # the whole population is every buyer: no filter on the customers then
        whole = max_rows is None and where is None
        base = src.base.features_at(cutoff, population=None if whole else pop)
        activity = src.activity_at(cutoff, pop, skip=set(base.columns))
        frame = base.merge(activity, on="customer_id", how="left")
        bgnbd = purchase_model_at(data, cutoff, horizon_days, pop, src)
        return frame.merge(bgnbd, on="customer_id", how="left")
    activity = src.activity_at(cutoff, pop)
    activity.insert(1, "cutoff", pd.Timestamp(cutoff))
    return activity


def id_ranges(
    data: BehaviourData,
    task: str,
    cutoff: date,
    size: int | None = None,
    population: str | None = None,
) -> list[str | None]:
    """The task's population at `cutoff` (or the persons of `population`, SQL) cut into
    ranges of at most `size` customer ids (a condition on `customer_id` per range, None for
    everyone), in id order: frames computed range by range (`features_at(..., where=)`) and
    put end to end are the frame of the whole population, sorted by id, without all of it in
    memory at once (`size`: `CHUNK_PERSONS`)."""
    size = size or CHUNK_PERSONS
    population = population or population_sql(data, task, cutoff)
    return person_ranges(data.con, population, size)


def purchase_model_at(
    data: BehaviourData,
    cutoff: date,
    horizon_days: int,
    population: str,
    source: BehaviourData | None = None,
) -> pd.DataFrame:
    """BG/NBD fitted on the purchase summaries as of `cutoff` (nothing after it) and its
    P(alive), P(no purchase within the horizon) and expected purchases within it for the
    customers of `population` (SQL): a rate estimate that weighs frequency by the customer's
    age, which recency and counts alone do not. The fit (on a fixed sample of every buyer's
    summary, read alone: `fit_rows_at`) is kept in `data.cache`: scoring, both trainings and
    the back-test share cutoffs. The summaries are read from `source` (default `data`: a
    restriction of it to the population, `BehaviourData.restricted`)."""
    key = ("bgnbd", cutoff)
    if key not in data.cache:
        rows, n = fit_rows_at(data.base, cutoff, BGNBD_FIT_ROWS, seed=0)
        fit = None
        if n:
            fit = fit_purchase_models(
                rows,
                cutoff,
                max_rows=BGNBD_FIT_ROWS,
                seed=0,
                pareto=False,
                spend=False,
                n_customers=n,
            )
        data.cache[key] = fit
    fit = data.cache[key]
    if fit is None:
        return pd.DataFrame(columns=["customer_id", *PURCHASE_FEATURES])
    summary = summary_at((source or data).base, cutoff, population)
    return purchase_features(fit, summary, horizon_days)


def feature_names(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in ("customer_id", "cutoff", "bought")]


def labelled_at(
    data: BehaviourData,
    task: str,
    cutoff: date,
    horizon_days: int,
    max_rows: int | None = None,
    seed: int = 0,
    where: str | None = None,
    samples: Samples | None = None,
) -> pd.DataFrame:
    """Features and `bought` at `cutoff` (with `max_rows`, for a hash sample of the
    population, read off `samples` when given; with `where`, for a range of it: `id_ranges`);
    a sample is kept in `data.cache`, since the back-test and the final training share all but
    one of their cutoffs (a whole population is not: it is graded once, range by range)."""
    key = _key(task, cutoff, horizon_days, max_rows, seed)
    if max_rows is not None and key in data.cache:
        return data.cache[key].copy()
    frame = features_at(data, task, cutoff, horizon_days, seed, max_rows, where, samples)
    src = sampled.data if (sampled := _sampled(samples, cutoff)) else data
    buyers = src.bought_within(cutoff, horizon_days)["customer_id"]
    frame["bought"] = frame["customer_id"].isin(buyers).astype("int8")
    if max_rows is None or where is not None:
        return frame
    data.cache[key] = frame
    return frame.copy()


def _key(task: str, cutoff: date, horizon_days: int, max_rows: int | None, seed: int) -> tuple:
    return (task, cutoff, horizon_days, max_rows, seed)
