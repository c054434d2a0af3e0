"""Buy-till-you-die purchase models (BG/NBD, Pareto/NBD) and the Gamma-Gamma spend model.

Maximum-likelihood fits with scipy on per-customer summaries, vectorised in log space. Inputs
follow Fader & Hardie: `x` = repeat purchases (purchase periods after the first), `t_x` = time
of the last purchase since the first, `T` = time from the first purchase to the end of the
observation window, all in one time unit (the callers use weeks). No maintained Python
implementation fits the stack (lifetimes is unmaintained since 2020), hence this module.

References: Fader, Hardie & Lee (2005) "Counting your customers the easy way" (BG/NBD);
Fader & Hardie (2005) "A note on deriving the Pareto/NBD model and related expressions";
Fader & Hardie (2013) "The Gamma-Gamma model of monetary value".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln, hyp2f1, roots_legendre

LOG_BOUND = 12.0  # log-parameters are searched in [-LOG_BOUND, LOG_BOUND]
_NODES, _WEIGHTS = roots_legendre(48)  # Gauss-Legendre rule for the Pareto/NBD window integral


def _arrays(*values) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(v, dtype="float64") for v in values)


def _logsumexp_columns(a: np.ndarray) -> np.ndarray:
    """log(sum(exp(a), axis=0)) for finite or -inf entries: the work of the Pareto/NBD fit,
    several times faster than scipy's general `logsumexp` (no weights, no masks)."""
    top = a.max(axis=0)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return top + np.log(np.exp(a - top).sum(axis=0))


def _collapse(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Unique rows of the summary columns and their counts: one-time buyers of the same first
    day share one likelihood term, which often halves the work."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return tuple(unique[:, i] for i in range(unique.shape[1])), counts.astype("float64")


def _fit(
    terms, columns, x0: np.ndarray, penalizer: float, gradient=None
) -> tuple[np.ndarray, float, bool]:
    """Maximise the likelihood over log-parameters with L-BFGS-B; `terms(params, *columns)`
    gives per-row log-likelihoods and `gradient(params, *columns)` (optional) their
    derivatives by parameter (rows x parameters): with it each step costs about two
    likelihood evaluations instead of five (finite differences). A Nelder-Mead polish runs
    only when L-BFGS-B stops without converging (the surfaces are flat in places). Returns
    params, total log-likelihood, ok."""
    rows, weights = _collapse(*columns)
    total = weights.sum()

    def value_of(log_params: np.ndarray) -> float:
        with np.errstate(all="ignore"):  # extreme trial points give inf/nan: rejected below
            ll = float(np.dot(weights, terms(np.exp(log_params), *rows))) / total
        value = -ll + penalizer * float(np.sum(np.exp(2 * log_params)))
        return value if np.isfinite(value) else 1e300

    def value_and_gradient(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        with np.errstate(all="ignore"):
            ll, d_ll = gradient(params, *rows)
            value = -float(np.dot(weights, ll)) / total + penalizer * float(np.sum(params**2))
            # chain rule to log-parameters: d/d(log p) = p * d/dp
            grad = -(weights @ d_ll) / total * params + 2 * penalizer * params**2
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return 1e300, np.zeros_like(log_params)
        return value, grad

    objective, jac = (value_of, None) if gradient is None else (value_and_gradient, True)

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(x0)
    # ftol 1e-10 on the mean log-likelihood: when the data cannot tell s and beta apart
    # (Pareto/NBD with nearly constant death rates, e.g. the demo) the optimum is a ridge with
    # s / beta fixed; a tighter tolerance walked it for 6x the time and moved the total
    # log-likelihood by 0.24 and no prediction (CDNOW's fit is unchanged).
    best = minimize(
        objective,
        x0,
        jac=jac,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-10, "gtol": 1e-8},
    )
    if not best.success:
        polish = minimize(
            value_of,
            best.x,
            method="Nelder-Mead",
            bounds=bounds,
            options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 4000},
        )
        best = polish if polish.fun <= best.fun else best
    params = np.exp(best.x)
    ll = float(np.dot(weights, terms(params, *rows)))
    return params, ll, bool(best.success)


# ---------------------------------------------------------------------- both models
@dataclass(frozen=True)
class _Fitted:
    """Fit and parameter view shared by the two models: their own (positional) fields are
    the model's parameters, in the order the likelihood takes them."""

    log_likelihood: float = field(default=float("nan"), kw_only=True)
    converged: bool = field(default=True, kw_only=True)

    log_likelihood_terms: ClassVar[Callable[..., np.ndarray]]
    log_likelihood_gradient: ClassVar[Callable[..., tuple[np.ndarray, np.ndarray]]]

    @classmethod
    def _fitted(cls, rows: tuple[np.ndarray, ...], x0: np.ndarray, penalizer: float) -> Any:
        params, ll, ok = _fit(
            cls.log_likelihood_terms, rows, x0, penalizer, cls.log_likelihood_gradient
        )
        return cls(*params, log_likelihood=ll, converged=ok)

    @property
    def params(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.kw_only}


# ---------------------------------------------------------------------- BG/NBD
@dataclass(frozen=True)
class BGNBD(_Fitted):
    """BG/NBD (Fader, Hardie & Lee 2005): Poisson purchases at rate lambda ~ Gamma(r, alpha),
    after each purchase the customer drops out with probability p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    @staticmethod
    def _parts(params, x, t_x, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The likelihood's head (a1 + a2) and its two exponential terms in log (a3, a4)."""
        r, alpha, a, b = params
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        a3 = -(r + x) * np.log(alpha + T)
        with np.errstate(divide="ignore", invalid="ignore"):
            a4 = np.where(
                x > 0,
                np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
                -np.inf,
            )
        return a1 + a2, a3, a4

    @classmethod
    def log_likelihood_terms(cls, params, x, t_x, T) -> np.ndarray:
        head, a3, a4 = cls._parts(params, *_arrays(x, t_x, T))
        return head + np.logaddexp(a3, a4)

    @classmethod
    def log_likelihood_gradient(cls, params, x, t_x, T) -> tuple[np.ndarray, np.ndarray]:
        """Per-row log-likelihoods and their derivatives by (r, alpha, a, b)."""
        r, alpha, a, b = params
        x, t_x, T = _arrays(x, t_x, T)
        head, a3, a4 = cls._parts(params, x, t_x, T)
        tail = np.logaddexp(a3, a4)
        w3 = np.exp(a3 - tail)  # share of the "still alive" term; the rest is a4's
        w4 = np.where(x > 0, 1.0 - w3, 0.0)
        d_ab = digamma(a + b) - digamma(a + b + x)
        d_r = digamma(r + x) - digamma(r) + np.log(alpha)
        d_r = d_r - w3 * np.log(alpha + T) - w4 * np.log(alpha + t_x)
        d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + t_x))
        d_a = d_ab + w4 / a
        d_b = d_ab + digamma(b + x) - digamma(b) - w4 / np.maximum(b + x - 1, 1e-300)
        return head + tail, np.column_stack([d_r, d_alpha, d_a, d_b])

    @classmethod
    def fit(cls, x, t_x, T, *, penalizer: float = 0.0, start=None) -> BGNBD:
        """Maximum likelihood; `start` = parameters to start from (e.g. an earlier fit)."""
        x, t_x, T = _arrays(x, t_x, T)
        x0 = np.log(start or [0.5, max(float(np.mean(T)), 1e-3), 1.0, 1.0])
        return cls._fitted((x, t_x, T), x0, penalizer)

    def _log_odds_dead(self, x, t_x, T) -> np.ndarray:
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(
                x > 0,
                np.log(a)
                - np.log(np.maximum(b + x - 1, 1e-300))
                + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)),
                -np.inf,
            )

    def p_alive(self, x, t_x, T) -> np.ndarray:
        x, t_x, T = _arrays(x, t_x, T)
        return expit(-self._log_odds_dead(x, t_x, T))

    def p_no_purchase(self, t, x, t_x, T) -> np.ndarray:
        """P(no purchase in (T, T + t] | history): dead, or alive with a rate
        lambda ~ Gamma(r + x, alpha + T) that yields no event in t."""
        x, t_x, T = _arrays(x, t_x, T)
        quiet = np.exp((self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + T + t)))
        return 1.0 - self.p_alive(x, t_x, T) * (1.0 - quiet)

    def expected_purchases(self, t, x, t_x, T) -> np.ndarray:
        """E[Y(t) | x, t_x, T], FHL (2005) equation 10."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        x, t_x, T = _arrays(x, t_x, T)
        z = t / (alpha + T + t)
        log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + T + t))
        bracket = 1.0 - np.exp(log_ratio) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        return (a + b + x - 1) / (a - 1) * bracket * self.p_alive(x, t_x, T)


# ---------------------------------------------------------------------- Pareto/NBD
@dataclass(frozen=True)
class ParetoNBD(_Fitted):
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987): Poisson purchases at rate
    lambda ~ Gamma(r, alpha) during an exponential lifetime of rate mu ~ Gamma(s, beta)."""

    r: float
    alpha: float
    s: float
    beta: float

    @staticmethod
    def _dead_nodes(params, x, t_x, T) -> tuple[np.ndarray, np.ndarray]:
        """Nodes `w` (nodes x rows) and log integrand-times-weight of the integral in
        `_log_dead`. The integral is in w = log(alpha + u), where the integrand decays like
        exp(-(r+x-1) w); the range is cut where that factor falls below e^-40, so even heavy
        buyers get an accurate rule."""
        r, alpha, s, beta = params
        k = r + x - 1.0
        w0 = np.log(alpha + t_x)
        span = np.log(alpha + T) - w0
        span = np.where(k > 0, np.minimum(span, 40.0 / np.maximum(k, 1e-12)), span)
        w = w0[None, :] + 0.5 * span[None, :] * (_NODES[:, None] + 1.0)
        log_f = -k[None, :] * w - (s + 1) * np.log(beta - alpha + np.exp(w))
        with np.errstate(divide="ignore"):
            log_weights = np.log(0.5 * span)[None, :] + np.log(_WEIGHTS)[:, None]
        return w, log_f + log_weights

    @classmethod
    def _log_dead(cls, params, x, t_x, T) -> np.ndarray:
        """log( s * int_{t_x}^{T} (alpha+u)^-(r+x) (beta+u)^-(s+1) du ): the likelihood of
        dying between the last purchase and T (Fader & Hardie 2005, eq. 13 before its closed
        form), by Gauss-Legendre (`_dead_nodes`). Several times faster than the two Gauss
        hypergeometric functions of the closed form, with the same optimum on CDNOW."""
        _w, terms = cls._dead_nodes(params, x, t_x, T)
        return np.log(params[2]) + _logsumexp_columns(terms)

    @classmethod
    def _parts(cls, params, x, t_x, T) -> tuple[np.ndarray, np.ndarray]:
        r, alpha, s, beta = params
        head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        return head, alive

    @classmethod
    def log_likelihood_terms(cls, params, x, t_x, T) -> np.ndarray:
        x, t_x, T = _arrays(x, t_x, T)
        head, alive = cls._parts(params, x, t_x, T)
        return head + np.logaddexp(alive, cls._log_dead(params, x, t_x, T))

    @classmethod
    def log_likelihood_gradient(cls, params, x, t_x, T) -> tuple[np.ndarray, np.ndarray]:
        """Per-row log-likelihoods and their derivatives by (r, alpha, s, beta). The dead
        term's derivatives are integrals of the same integrand times d(log integrand), taken
        with the same nodes: averages of the derivative under the nodes' normalised weights."""
        r, alpha, s, beta = params
        x, t_x, T = _arrays(x, t_x, T)
        head, alive = cls._parts(params, x, t_x, T)
        w, terms = cls._dead_nodes(params, x, t_x, T)
        log_integral = _logsumexp_columns(terms)
        dead = np.log(s) + log_integral
        tail = np.logaddexp(alive, dead)
        with np.errstate(invalid="ignore"):  # t_x = T: no integral, no dead share
            share = np.nan_to_num(np.exp(terms - log_integral[None, :]))  # sum 1 per row
        beta_u = beta - alpha + np.exp(w)  # beta + u at the nodes
        w_alive = np.exp(alive - tail)
        w_dead = 1.0 - w_alive
        dead_r = -(share * w).sum(axis=0)
        dead_alpha = -(r + x) * (share * np.exp(-w)).sum(axis=0)
        dead_s = 1.0 / s - (share * np.log(beta_u)).sum(axis=0)
        dead_beta = -(s + 1) * (share / beta_u).sum(axis=0)
        d_r = digamma(r + x) - digamma(r) + np.log(alpha)
        d_r = d_r - w_alive * np.log(alpha + T) + w_dead * dead_r
        d_alpha = r / alpha - w_alive * (r + x) / (alpha + T) + w_dead * dead_alpha
        d_s = np.log(beta) - w_alive * np.log(beta + T) + w_dead * dead_s
        d_beta = s / beta - w_alive * s / (beta + T) + w_dead * dead_beta
        return head + tail, np.column_stack([d_r, d_alpha, d_s, d_beta])

    @classmethod
    def fit(cls, x, t_x, T, *, penalizer: float = 0.0, start=None) -> ParetoNBD:
        """Maximum likelihood; `start` = parameters to start from (e.g. an earlier fit)."""
        x, t_x, T = _arrays(x, t_x, T)
        m = max(float(np.mean(T)), 1e-3)
        x0 = np.log(start or [0.5, m, 0.5, m])
        return cls._fitted((x, t_x, T), x0, penalizer)

    def p_alive(self, x, t_x, T) -> np.ndarray:
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        x, t_x, T = _arrays(x, t_x, T)
        log_odds = (
            self._log_dead((r, alpha, s, beta), x, t_x, T)
            + (r + x) * np.log(alpha + T)
            + s * np.log(beta + T)
        )
        return expit(-log_odds)

    def p_no_purchase(self, t, x, t_x, T) -> np.ndarray:
        """P(no purchase in (T, T + t] | history). Given alive at T, lambda ~ Gamma(r + x,
        alpha + T) and mu ~ Gamma(s, beta + T); the first purchase falls in the window before
        death with probability int_0^t E[lambda e^-lambda u] E[e^-mu u] du (Gauss-Legendre)."""
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        x, t_x, T = _arrays(x, t_x, T)
        u = (0.5 * t * (_NODES + 1.0))[:, None]  # nodes x customers
        shape, rate, rate_mu = (r + x)[None, :], (alpha + T)[None, :], (beta + T)[None, :]
        log_density = (
            np.log(shape)
            + shape * np.log(rate)
            - (shape + 1) * np.log(rate + u)
            + s * (np.log(rate_mu) - np.log(rate_mu + u))
        )
        buy = 0.5 * t * (_WEIGHTS[:, None] * np.exp(log_density)).sum(axis=0)
        return 1.0 - self.p_alive(x, t_x, T) * np.clip(buy, 0.0, 1.0)

    def expected_purchases(self, t, x, t_x, T) -> np.ndarray:
        """E[Y(t) | x, t_x, T], Fader & Hardie (2005) eq. 22."""
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        x, t_x, T = _arrays(x, t_x, T)
        if abs(s - 1.0) < 1e-9:
            life = np.log((beta + T + t) / (beta + T))
        else:
            life = (1.0 - np.exp((s - 1) * (np.log(beta + T) - np.log(beta + T + t)))) / (s - 1)
        return (r + x) * (beta + T) / (alpha + T) * life * self.p_alive(x, t_x, T)


# ---------------------------------------------------------------------- Gamma-Gamma
@dataclass(frozen=True)
class GammaGamma:
    """Gamma-Gamma spend model (Fader & Hardie 2013): each purchase's value is Gamma(p, nu),
    nu ~ Gamma(q, gamma) across customers; fitted on customers with x > 0 repeat purchases
    and their mean repeat-purchase value m."""

    p: float
    q: float
    gamma: float
    log_likelihood: float = float("nan")
    converged: bool = True

    @staticmethod
    def log_likelihood_terms(params, x, m) -> np.ndarray:
        p, q, g = params
        x, m = _arrays(x, m)
        px = p * x
        return (
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * np.log(g)
            + (px - 1) * np.log(m)
            + px * np.log(x)
            - (px + q) * np.log(x * m + g)
        )

    @classmethod
    def fit(cls, x, m, *, penalizer: float = 0.0) -> GammaGamma:
        x, m = _arrays(x, m)
        keep = (x > 0) & (m > 0)
        x, m = x[keep], m[keep]
        if len(x) == 0:
            raise ValueError("Gamma-Gamma: no customer with a repeat purchase of positive value")
        x0 = np.log([1.0, 2.0, max(float(np.mean(m)), 1e-3)])
        params, ll, ok = _fit(cls.log_likelihood_terms, (x, m), x0, penalizer)
        return cls(*params, log_likelihood=ll, converged=ok)

    @property
    def params(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    def expected_spend(self, x, m) -> np.ndarray:
        """E[value of a purchase | x, m]: a weighted mean of the population mean
        p * gamma / (q - 1) and the customer's own mean m (m ignored when x = 0)."""
        x, m = _arrays(x, m)
        m = np.where(x > 0, np.nan_to_num(m), 0.0)
        q1 = max(self.q - 1.0, 1e-6)
        return self.p * (self.gamma + x * m) / (self.p * x + q1)


PurchaseModel = BGNBD | ParetoNBD
