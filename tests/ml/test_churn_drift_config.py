"""PSI drift and the churn configuration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdp.config import ConfigError
from ml.config import ChurnConfig, load_churn_config
from ml.drift import build_reference, drift_report, psi, reference_bins


def test_psi_is_zero_for_identical_and_large_for_shifted_distributions():
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 1, 20000)
    bins = reference_bins(ref)
    assert psi(bins, ref) == pytest.approx(0.0, abs=1e-12)
    same_law = rng.normal(0, 1, 20000)
    assert psi(bins, same_law) < 0.01
    shifted = rng.normal(1.0, 1, 20000)
    assert psi(bins, shifted) > 0.25


def test_psi_handles_missing_values_and_discrete_features():
    ref = np.r_[np.zeros(500), np.ones(300), np.full(200, np.nan)]
    bins = reference_bins(ref)
    assert psi(bins, ref) == pytest.approx(0.0, abs=1e-12)
    # the missing share grows from 20 % to 60 %: drift
    cur = np.r_[np.zeros(200), np.ones(200), np.full(600, np.nan)]
    assert psi(bins, cur) > 0.2


def test_drift_report_flags_only_columns_past_the_threshold():
    rng = np.random.default_rng(1)
    train = pd.DataFrame({"a": rng.normal(size=5000), "b": rng.exponential(size=5000)})
    ref = build_reference(train, ["a", "b"])
    current = pd.DataFrame({"a": rng.normal(size=5000), "b": rng.exponential(3.0, size=5000)})
    report = drift_report(ref, current, threshold=0.2).set_index("column")
    assert not report.loc["a", "drifted"]
    assert report.loc["b", "drifted"]


def test_default_config_file_is_valid():
    cfg = load_churn_config()
    assert cfg.horizon_days == 180
    assert cfg.risk_bands.medium < cfg.risk_bands.high


def test_unknown_key_is_rejected_with_file_and_field(tmp_path):
    path = tmp_path / "churn.yaml"
    path.write_text("horizon_days: 90\nrisk_bands:\n  medium: 0.3\n  hihg: 0.8\n")
    with pytest.raises(ConfigError) as err:
        load_churn_config(path)
    assert str(path) in str(err.value)
    assert "risk_bands.hihg" in str(err.value)


def test_inconsistent_bands_and_bad_types_are_rejected(tmp_path):
    path = tmp_path / "churn.yaml"
    path.write_text("risk_bands:\n  medium: 0.8\n  high: 0.5\n")
    with pytest.raises(ConfigError, match="risk_bands"):
        load_churn_config(path)
    path.write_text("horizon_days: soon\n")
    with pytest.raises(ConfigError, match="horizon_days"):
        load_churn_config(path)
    with pytest.raises(ConfigError, match="not found"):
        load_churn_config(tmp_path / "absent.yaml")


def test_config_dir_from_environment(tmp_path, monkeypatch):
    (tmp_path / "churn.yaml").write_text("horizon_days: 90\ncalibration: sigmoid\n")
    monkeypatch.setenv("CDP_CONFIG_DIR", str(tmp_path))
    cfg = load_churn_config()
    assert (cfg.horizon_days, cfg.calibration) == (90, "sigmoid")
    assert cfg.model == ChurnConfig().model


def test_zero_inflated_and_discrete_features_of_the_same_law_do_not_drift():
    rng = np.random.default_rng(3)

    def draw(n):
        counts = rng.poisson(0.4, n).astype("float64")  # ~67 % zeros, a few 1, 2, 3
        counts[rng.uniform(size=n) < 0.1] = np.nan  # undefined (no event yet)
        return counts

    bins = reference_bins(draw(20000))
    # ties merge the deciles: one bin per distinct value range, zeros in a bin of their own
    assert len(bins["edges"]) < 9 and 0.0 in bins["edges"]
    assert psi(bins, draw(5000)) < 0.02
    # more zeros is drift
    shifted = draw(5000)
    shifted[rng.uniform(size=5000) < 0.5] = 0.0
    assert psi(bins, shifted) > 0.1


def test_excluded_columns_are_reported_but_never_alarm():
    rng = np.random.default_rng(4)
    train = pd.DataFrame({"tenure_days": rng.uniform(0, 700, 5000), "x": rng.normal(size=5000)})
    ref = build_reference(train, ["tenure_days", "x"])
    current = pd.DataFrame({"tenure_days": rng.uniform(180, 880, 5000), "x": rng.normal(size=5000)})
    report = drift_report(ref, current, 0.2, exclude=["tenure_days"]).set_index("column")
    assert report.loc["tenure_days", "psi"] > 0.2
    assert not report.loc["tenure_days", "alarm"] and not report.loc["tenure_days", "drifted"]
    assert not report["drifted"].any()
    assert ChurnConfig().drift.exclude == ("tenure_days",)
