"""BG/NBD, Pareto/NBD and Gamma-Gamma: published CDNOW estimates and recovery of known
parameters from synthetic histories."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml.btyd import BGNBD, GammaGamma, ParetoNBD
from tests.ml.btyd_synth import bgnbd_sample, pnbd_sample


def cdnow_dir() -> Path:
    """The datasets folder of the `lifetimes` package (a dev dependency), found without
    importing it (it pins old libraries at import time)."""
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.origin, "dev dependency lifetimes is not installed"
    return Path(spec.origin).parent / "datasets"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    # CDNOW cohort, 39-week calibration: x, t_x, T in weeks, zbar = mean repeat-purchase value
    return pd.read_csv(cdnow_dir() / "cdnow_customers_summary_with_transactions.csv")


def _xtT(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return frame["x"].to_numpy(), frame["t_x"].to_numpy(), frame["T"].to_numpy()


def test_bgnbd_matches_fader_hardie_lee_2005_on_cdnow(cdnow):
    fit = BGNBD.fit(*_xtT(cdnow))
    np.testing.assert_allclose(
        [fit.r, fit.alpha, fit.a, fit.b], [0.243, 4.414, 0.793, 2.426], atol=2e-3
    )
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    # FHL (2005) worked example: x=2, t_x=30.43, T=38.86 -> E[Y(39)] = 1.226
    ey = fit.expected_purchases(39, [2], [30.43], [38.86])
    assert ey[0] == pytest.approx(1.226, abs=1e-3)


def test_pareto_nbd_matches_fader_hardie_2005_on_cdnow(cdnow):
    fit = ParetoNBD.fit(*_xtT(cdnow))
    np.testing.assert_allclose(
        [fit.r, fit.alpha, fit.s, fit.beta], [0.553, 10.578, 0.606, 11.669], rtol=5e-3
    )
    assert fit.log_likelihood == pytest.approx(-9595.0, abs=0.1)


def test_gamma_gamma_matches_fader_hardie_2013_on_cdnow(cdnow):
    fit = GammaGamma.fit(cdnow["x"], cdnow["zbar"])
    np.testing.assert_allclose([fit.p, fit.q, fit.gamma], [6.25, 3.74, 15.44], atol=1e-2)
    spend = fit.expected_spend([0, 1, 10], [0.0, 50.0, 50.0])
    # no repeat purchase: the population mean p * gamma / (q - 1); more purchases -> own mean
    assert spend[0] == pytest.approx(fit.p * fit.gamma / (fit.q - 1))
    assert spend[0] < spend[1] < spend[2] < 50.0


BG_TRUE = (0.6, 8.0, 0.8, 3.0)
PNBD_TRUE = (0.8, 6.0, 0.7, 12.0)


@pytest.fixture(scope="module")
def bg_sample():
    return bgnbd_sample(BG_TRUE, 8000, seed=3)


@pytest.fixture(scope="module")
def pnbd_sample_frame():
    return pnbd_sample(PNBD_TRUE, 8000, seed=4)


def test_bgnbd_recovers_generating_parameters(bg_sample):
    fit = BGNBD.fit(*_xtT(bg_sample))
    np.testing.assert_allclose([fit.r, fit.alpha, fit.a, fit.b], BG_TRUE, rtol=0.25)


def test_pareto_nbd_recovers_generating_parameters(pnbd_sample_frame):
    fit = ParetoNBD.fit(*_xtT(pnbd_sample_frame))
    np.testing.assert_allclose([fit.r, fit.alpha, fit.s, fit.beta], PNBD_TRUE, rtol=0.3)


@pytest.mark.parametrize("model", [BGNBD, ParetoNBD])
def test_holdout_predictions_match_what_the_process_did(model, bg_sample, pnbd_sample_frame):
    """Fitted on the calibration period only: the mean predicted number of holdout purchases
    and the mean P(no purchase in the holdout) match the simulated outcome."""
    frame = bg_sample if model is BGNBD else pnbd_sample_frame
    fit = model.fit(*_xtT(frame))
    ey = fit.expected_purchases(52.0, *_xtT(frame))
    p0 = fit.p_no_purchase(52.0, *_xtT(frame))
    observed = frame["holdout_purchases"].to_numpy()
    assert ey.mean() == pytest.approx(observed.mean(), rel=0.08)
    assert p0.mean() == pytest.approx((observed == 0).mean(), abs=0.02)
    # and per customer: quiet customers are predicted quiet
    assert np.corrcoef(p0, observed == 0)[0, 1] > 0.4


def test_p_no_purchase_limits():
    """Pareto/NBD with (almost) no dropout is the NBD; probabilities stay in [0, 1]."""
    x, t_x, T = np.array([0, 3, 10]), np.array([0.0, 20.0, 30.0]), np.array([40.0, 40.0, 40.0])
    immortal = ParetoNBD(r=0.5, alpha=5.0, s=1e-3, beta=1e6)
    nbd = ((5.0 + T) / (5.0 + T + 26.0)) ** (0.5 + x)
    np.testing.assert_allclose(immortal.p_no_purchase(26.0, x, t_x, T), nbd, atol=1e-4)
    bg = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    for m in (bg, ParetoNBD(r=0.553, alpha=10.578, s=0.606, beta=11.669)):
        p = m.p_no_purchase(26.0, x, t_x, T)
        assert np.all((p >= 0) & (p <= 1))
        # same frequency, an older last purchase: less likely alive, more likely quiet
        stale, fresh = m.p_alive([3, 3], [5.0, 35.0], [40.0, 40.0])
        assert stale < fresh
        quiet_stale, quiet_fresh = m.p_no_purchase(26.0, [3, 3], [5.0, 35.0], [40.0, 40.0])
        assert quiet_stale > quiet_fresh


def _closed_form_log_dead(params, x, t_x, T):
    """Reference: s/(r+s+x) * A0 of Fader & Hardie (2005, eq. 19-20) with scipy's hyp2f1."""
    from scipy.special import hyp2f1

    r, alpha, s, beta = params
    rsx = r + s + x
    big, b2 = (alpha, s + 1) if alpha >= beta else (beta, r + x)
    gap = abs(alpha - beta)
    first = hyp2f1(rsx, b2, rsx + 1, gap / (big + t_x)) / (big + t_x) ** rsx
    second = hyp2f1(rsx, b2, rsx + 1, gap / (big + T)) / (big + T) ** rsx
    return np.log(s / rsx * (first - second))


@pytest.mark.parametrize("params", [(0.553, 10.578, 0.606, 11.669), (0.8, 12.0, 0.7, 6.0)])
def test_pareto_dead_term_matches_the_closed_form(params, cdnow):
    x, t_x, T = _xtT(cdnow)
    keep = t_x < T  # the closed form is log(0) when the last purchase is at T
    got = ParetoNBD._log_dead(params, x[keep], t_x[keep], T[keep])
    np.testing.assert_allclose(
        got, _closed_form_log_dead(params, x[keep], t_x[keep], T[keep]), rtol=1e-9, atol=1e-9
    )


def test_many_purchases_stay_finite():
    """Heavy buyers (hundreds of purchase days) give finite likelihoods and probabilities."""
    x = np.array([0, 400, 800])
    t_x = np.array([0.0, 50.0, 51.9])
    T = np.array([52.0, 52.0, 52.0])
    for params in [(0.5, 10.0, 0.6, 12.0), (0.5, 12.0, 0.6, 10.0)]:
        assert np.all(np.isfinite(ParetoNBD.log_likelihood_terms(params, x, t_x, T)))
        m = ParetoNBD(*params)
        assert np.all(np.isfinite(m.p_alive(x, t_x, T)))
        assert np.all(np.isfinite(m.expected_purchases(52.0, x, t_x, T)))
    assert np.all(np.isfinite(BGNBD.log_likelihood_terms((0.24, 4.4, 0.79, 2.4), x, t_x, T)))


@pytest.mark.parametrize(
    ("model", "params"),
    [(BGNBD, (0.243, 4.414, 0.793, 2.426)), (ParetoNBD, (0.553, 10.578, 0.606, 11.669))],
)
def test_analytic_gradient_matches_finite_differences(cdnow, model, params):
    # the fits use these derivatives instead of finite differences: they must be the same
    # (central differences of the per-row log-likelihood, on CDNOW rows incl. t_x = T and x = 0)
    x, t_x, T = _xtT(cdnow)
    ll, grad = model.log_likelihood_gradient(np.array(params), x, t_x, T)
    np.testing.assert_allclose(ll, model.log_likelihood_terms(np.array(params), x, t_x, T))
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6 * params[i]
        up = model.log_likelihood_terms(np.array(params) + step, x, t_x, T)
        down = model.log_likelihood_terms(np.array(params) - step, x, t_x, T)
        numeric = (up - down) / (2 * step[i])
        np.testing.assert_allclose(grad[:, i], numeric, rtol=1e-4, atol=1e-6)
