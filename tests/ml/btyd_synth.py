"""Customer histories drawn from the BG/NBD and Pareto/NBD generative processes (numpy, seeded).

Each customer makes a first purchase at time 0 (weeks), is observed until `T` (calibration) and
then for `holdout` more weeks. Returns per-customer `x, t_x, T` of the calibration period and
the number of purchases in the holdout, the quantities the models predict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _summary(times: list[np.ndarray], T: np.ndarray, holdout: float) -> pd.DataFrame:
    x = np.array([np.sum(t <= c) for t, c in zip(times, T, strict=True)])
    t_x = np.array([t[t <= c].max(initial=0.0) for t, c in zip(times, T, strict=True)])
    future = np.array([np.sum((t > c) & (t <= c + holdout)) for t, c in zip(times, T, strict=True)])
    return pd.DataFrame({"x": x, "t_x": t_x, "T": T, "holdout_purchases": future})


def _observation(rng: np.random.Generator, n: int, calibration: float) -> np.ndarray:
    """Calibration length per customer: first purchases spread over the first quarter."""
    return calibration - rng.uniform(0, calibration / 4, n)


def bgnbd_sample(params, n: int, *, seed: int = 0, calibration=52.0, holdout=52.0):
    """BG/NBD: rate ~ Gamma(r, alpha); after each repeat purchase, drop out with p ~ Beta(a, b)."""
    r, alpha, a, b = params
    rng = np.random.default_rng(seed)
    T = _observation(rng, n, calibration)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    times = []
    for i in range(n):
        t, out = 0.0, []
        while True:
            t += rng.exponential(1.0 / lam[i])
            if t > T[i] + holdout:
                break
            out.append(t)
            if rng.uniform() < p[i]:
                break
        times.append(np.array(out))
    return _summary(times, T, holdout)


def pnbd_sample(params, n: int, *, seed: int = 0, calibration=52.0, holdout=52.0):
    """Pareto/NBD: rate ~ Gamma(r, alpha) during an Exp(mu) lifetime, mu ~ Gamma(s, beta)."""
    r, alpha, s, beta = params
    rng = np.random.default_rng(seed)
    T = _observation(rng, n, calibration)
    lam = rng.gamma(r, 1.0 / alpha, n)
    death = rng.exponential(1.0 / rng.gamma(s, 1.0 / beta, n))
    end = np.minimum(death, T + holdout)
    counts = rng.poisson(lam * end)
    times = [np.sort(rng.uniform(0, e, k)) for e, k in zip(end, counts, strict=True)]
    return _summary(times, T, holdout)
