"""The recommender's choice: the simplest option unless a more complex one is better by a
margin the validation detects (paired per-buyer differences), and the same choice, validation
table and lists when the same data is read again in another row order."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ml import recommend as rec
from ml.behaviour import BehaviourData
from ml.prediction_config import RecommendationCandidate, RecommendationsConfig
from ml.recommend_choice import MARGIN_SE, POPULARITY, choose, paired_gain
from tests.ml.behaviour_synth import synth_behaviour

CUTOFF = date(2025, 6, 30)
OPTIONS = {
    POPULARITY: (POPULARITY, 0, 0.0),
    "category_1@0.5": ("category", 1, 0.5),
    "category_1@1": ("category", 1, 1.0),
    "item_cooccurrence_2@0.5": ("item_cooccurrence", 2, 0.5),
    "als_3@0.5": ("als", 3, 0.5),
}


def _values(gains: dict[str, float], n: int = 4000, noise: float = 0.3) -> dict[str, np.ndarray]:
    """Per-buyer criteria: popularity's plus, per option, its mean gain and its own noise."""
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 1, n)
    return {
        name: (base + gains.get(name, 0.0) + rng.normal(0, noise, n)).astype(np.float32)
        if name != POPULARITY
        else base.astype(np.float32)
        for name in OPTIONS
    }


def test_a_gain_within_the_noise_keeps_the_simpler_option():
    # ALS has the highest mean but by less than two standard errors over category
    values = _values({"category_1@0.5": 0.05, "category_1@1": 0.04, "als_3@0.5": 0.052})
    chosen, steps = choose(OPTIONS, values)
    assert max(values, key=lambda n: values[n].mean()) == "als_3@0.5"
    assert chosen == "category_1@0.5"
    als = next(s for s in steps if s["option"] == "als_3@0.5")
    assert als["versus"] == "category_1@0.5" and not als["chosen"]
    assert als["gain"] < MARGIN_SE * als["standard_error"]


def test_a_detectable_gain_wins_and_options_are_visited_simplest_first():
    values = _values({"category_1@0.5": 0.05, "item_cooccurrence_2@0.5": 0.10})
    chosen, steps = choose(OPTIONS, values)
    assert chosen == "item_cooccurrence_2@0.5"
    assert [s["option"] for s in steps] == [
        "category_1@0.5",
        "item_cooccurrence_2@0.5",
        "als_3@0.5",
    ]
    assert [s["chosen"] for s in steps] == [True, True, False]


def test_nothing_detectably_better_than_popularity_keeps_popularity():
    values = _values({}, noise=0.3)
    assert choose(OPTIONS, values)[0] == POPULARITY


def test_paired_gain_is_the_mean_difference_and_its_standard_error():
    new, old = np.array([1.0, 0.5, 0.0, 1.0]), np.array([0.5, 0.5, 0.0, 0.0])
    gain, se = paired_gain(new, old)
    d = new - old
    assert gain == d.mean()
    assert se == d.std(ddof=1) / 2


def _data(frames: dict) -> BehaviourData:
    groups = pd.DataFrame({"sku": [f"SKU{i:03d}" for i in range(40)]})
    groups["item_group"] = "G" + (groups.index % 5).astype(str)
    return BehaviourData.from_frames(**frames).with_item_groups(groups)


def test_the_same_data_in_another_row_order_gives_the_same_choice_and_lists():
    frames = synth_behaviour(500, 100, seed=7)
    cfg = RecommendationsConfig(
        candidates=(
            RecommendationCandidate(kind="category"),
            RecommendationCandidate(kind="item_cooccurrence", neighbours=50),
            RecommendationCandidate(kind="als", factors=4),
        ),
        blend_weights=(0.25, 1.0),
    )
    shuffled = {
        name: frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
        for name, frame in frames.items()
    }
    runs = [rec.train(_data(f), CUTOFF, cfg, 1, 1) for f in (frames, shuffled, frames)]
    first = runs[0]
    assert len(first.validation["comparisons"]) == 3
    for other in runs[1:]:
        assert other.validation == first.validation
        persons = first.interactions.users[:100]
        pd.testing.assert_frame_equal(other.recommend(persons, 10), first.recommend(persons, 10))


def test_release_drops_only_the_earlier_cutoffs():
    data = BehaviourData.from_frames(**synth_behaviour(300, 50, seed=2))
    cfg = RecommendationsConfig(candidates=(RecommendationCandidate(kind="item_cosine"),))
    first = rec.backtest(data, CUTOFF, date(2025, 9, 30), cfg, 1, 1)
    cutoffs = {k[1] for k in data.cache if k[0].startswith("recommend")}
    assert min(cutoffs) < CUTOFF
    rec.release(data, CUTOFF)
    assert {k[1] for k in data.cache if k[0].startswith("recommend")} == {
        c for c in cutoffs if c >= CUTOFF
    }
    again = rec.backtest(data, CUTOFF, date(2025, 9, 30), cfg, 1, 1)
    assert again == first
