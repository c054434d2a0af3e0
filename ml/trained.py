"""What every trained scorer keeps besides its model: the churn model
(`ml.model.TrainedChurnModel`) and the purchase-propensity and lead classifiers
(`ml.propensity.TrainedClassifier`) are trained, versioned and scored apart, but record the
same facts about their training and build their drift reference the same way.

The records are pickled into the model artefacts (`ml/artifact.py`). Pickle stores an
instance's attributes, not its class's bases or field order, so an artefact written before
this base class existed loads as it is (checked: a churn model and a classifier dumped by the
code before it load, score and drift-check the same).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from ml.drift import build_reference


@dataclass(kw_only=True)
class TrainedScorer:
    """A scorer as of a date: its inputs, what validation chose, the training audit facts and
    the drift reference (bins of every input and of the score)."""

    as_of: date
    horizon_days: int
    feature_names: list[str]
    chosen: str
    threads: int = 1
    n_training_rows: int = 0
    validation: dict = field(default_factory=dict)
    reference: dict = field(default_factory=dict)
    reference_cutoff: date | None = None

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError

    def keep_drift_reference(
        self, latest: pd.DataFrame, cutoff: date, score: str, n_bins: int
    ) -> None:
        """The reference is the population closest in time to the one that will be scored (the
        latest training cutoff), so the ageing of the base is not reported as drift; `score`
        names the column of the scores in it."""
        frame = latest[self.feature_names].assign(**{score: self.predict(latest)})
        self.reference = build_reference(frame, [*self.feature_names, score], n_bins)
        self.reference_cutoff = cutoff
