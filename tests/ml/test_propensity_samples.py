"""The training samples of every cutoff drawn once and the tables restricted to their persons
(`ml.propensity.training_samples`) give the very frames computed on the whole data."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from ml import propensity as clf
from ml import propensity_features as pf
from ml.behaviour import BehaviourData
from ml.prediction_config import LeadsConfig, PropensityConfig
from tests.ml.behaviour_synth import synth_behaviour

AS_OF = date(2025, 6, 30)


@pytest.mark.parametrize(
    ("task", "cfg"),
    [
        (clf.PROPENSITY, PropensityConfig(max_rows_per_cutoff=150)),
        (clf.LEADS, LeadsConfig(max_rows_per_cutoff=100)),
    ],
)
def test_frames_from_the_restricted_tables_equal_those_from_the_whole_data(task, cfg):
    data = BehaviourData.from_frames(**synth_behaviour(900, 400, seed=11))
    first, _ = data.base.date_range()
    cutoffs = clf.training_cutoffs(AS_OF, first, cfg)
    assert len(cutoffs) >= 3
    whole = [
        pf.labelled_at(data, task, c, cfg.horizon_days, cfg.max_rows_per_cutoff, 5) for c in cutoffs
    ]
    fresh = BehaviourData.from_frames(**synth_behaviour(900, 400, seed=11))
    with pf.training_samples(fresh, task, cutoffs, cfg, 5) as samples:
        assert samples is not None and set(samples.populations) == set(cutoffs)
        persons = fresh.con.execute(
            f"SELECT count(DISTINCT customer_id) FROM {samples.data.ns}.orders"
        ).fetchone()[0]
        everyone = fresh.con.execute(
            f"SELECT count(DISTINCT customer_id) FROM {fresh.ns}.orders"
        ).fetchone()[0]
        assert persons < everyone  # the restriction holds fewer persons than the data
        restricted = [
            pf.labelled_at(
                fresh, task, c, cfg.horizon_days, cfg.max_rows_per_cutoff, 5, None, samples
            )
            for c in cutoffs
        ]
    for a, b in zip(whole, restricted, strict=True):
        assert len(a) > 0 and a["bought"].sum() > 0
        pd.testing.assert_frame_equal(a, b)
    # the restricted schema is gone afterwards
    schemas = fresh.con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()
    assert f"{fresh.ns}_sample" not in {s[0] for s in schemas}
