"""The models' inputs read as views over the warehouse are the rows the churn model copies, and
a population graded, scored and drift-checked range by range gives the figures of the whole
frame; the BG/NBD fit reads only its sample, the same rows as a sample of the whole summary."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ml import features
from ml import propensity as clf
from ml import propensity_features as pf
from ml.behaviour import BehaviourData
from ml.drift import bin_counts, build_reference, drift_report
from ml.features import ChurnData
from ml.inputs import CHURN_INPUTS, load_inputs, scratch_inputs, sources
from ml.prediction_config import PropensityConfig
from ml.purchase import _sample, fit_rows_at, summary_at
from tests.ml.behaviour_synth import synth_behaviour
from tests.ml.churn_synth import synth_orders
from tests.ml.test_churn_inputs import _warehouse

AS_OF = date(2025, 6, 30)


def _copied(con) -> ChurnData:
    """The churn inputs copied into the process and standardised from frames (the reference)."""
    con.execute("SET TimeZone = 'UTC'")
    frames = {n: con.sql(sql).to_arrow_table() for n, sql in sources(con, CHURN_INPUTS).items()}
    return ChurnData.from_frames(frames.pop("orders"), **frames)


def test_views_give_the_features_of_the_copied_marts():
    for timeline in (True, False):
        con = _warehouse(with_timeline=timeline)
        copied = _copied(con)
        viewed = load_inputs(con, CHURN_INPUTS).base
        assert viewed.extras == copied.extras and viewed.data_hash() == copied.data_hash()
        cutoff = date(2025, 3, 10)
        pd.testing.assert_frame_equal(viewed.features_at(cutoff), copied.features_at(cutoff))
        # nothing of the event tables was copied: the inputs are views
        kinds = con.execute(
            "SELECT DISTINCT table_type FROM information_schema.tables "
            "WHERE table_catalog = 'ml_inputs'"
        ).fetchall()
        assert kinds == [("VIEW",)]
        # or written once into a scratch DuckDB file, deleted with its directory on exit
        with scratch_inputs(con, CHURN_INPUTS) as scratch:
            pd.testing.assert_frame_equal(
                scratch.base.features_at(cutoff), copied.features_at(cutoff)
            )
            path = con.execute(
                "SELECT path FROM duckdb_databases() WHERE database_name = 'ml_scratch'"
            ).fetchone()[0]
            assert Path(path).exists()
        assert not Path(path).parent.exists()


def test_churn_features_of_a_whole_population_range_by_range(monkeypatch):
    """Scoring and grading compute every buyer's churn features `CHUNK_PERSONS` at a time:
    the frames put end to end are the frame computed at once, labelled or not."""
    orders, tickets = synth_orders(400, seed=3, with_tickets=True)
    data = ChurnData.from_frames(orders, tickets=tickets)
    _first, last = data.date_range()
    cutoff = last - pd.Timedelta(days=200)
    whole = data.features_at(last)
    labelled = data.features_at(cutoff, horizon_days=180)
    monkeypatch.setattr(features, "CHUNK_PERSONS", 37)
    assert len(features.person_ranges(data.con, data.eligible_sql(last), 37)) > 5
    pd.testing.assert_frame_equal(data.features_at(last), whole)
    pd.testing.assert_frame_equal(data.features_at(cutoff, horizon_days=180), labelled)


def test_ranges_of_persons_give_the_whole_population(monkeypatch):
    data = BehaviourData.from_frames(**synth_behaviour(500, 200, seed=5))
    cfg = PropensityConfig(n_training_cutoffs=4, candidates=[{"max_iter": 30}])
    trained = clf.train(data, clf.PROPENSITY, AS_OF, cfg, seed=1, threads=1)
    whole_frame = pf.features_at(data, clf.PROPENSITY, AS_OF, 30)
    whole = clf.evaluate(trained, data, AS_OF)
    monkeypatch.setattr(pf, "CHUNK_PERSONS", 37)
    for task in (clf.PROPENSITY, clf.LEADS):
        ranges = pf.id_ranges(data, task, AS_OF)
        assert len(ranges) > 2
        parts = [pf.features_at(data, task, AS_OF, 30, where=w) for w in ranges]
        pd.testing.assert_frame_equal(
            pd.concat(parts, ignore_index=True), pf.features_at(data, task, AS_OF, 30)
        )
    assert clf.evaluate(trained, data, AS_OF) == whole
    # drift from the bin counts of the ranges = drift of the whole frame
    reference = build_reference(whole_frame.iloc[::3], trained.feature_names, 10)
    counts = None
    for w in pf.id_ranges(data, clf.PROPENSITY, AS_OF):
        counts = bin_counts(
            reference, pf.features_at(data, clf.PROPENSITY, AS_OF, 30, where=w), counts
        )
    pd.testing.assert_frame_equal(
        drift_report(reference, counts, 0.2), drift_report(reference, whole_frame, 0.2)
    )


def test_the_fit_sample_is_read_alone_with_the_rows_of_a_whole_sample():
    data = BehaviourData.from_frames(**synth_behaviour(500, 200, seed=5)).base
    summary = summary_at(data, AS_OF)
    for seed in (0, 3):
        rows, n = fit_rows_at(data, AS_OF, 60, seed)
        assert n == len(summary)
        pd.testing.assert_frame_equal(
            rows.reset_index(drop=True), _sample(summary, 60, seed).reset_index(drop=True)
        )
    rows, n = fit_rows_at(data, AS_OF, 10_000, 0)  # fewer buyers than the cap: all of them
    pd.testing.assert_frame_equal(rows, summary)
    assert np.isfinite(rows["x"]).all()
