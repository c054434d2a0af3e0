"""Label-free purchase and spend models as of a cutoff: summaries, fits, features and CLV.

A customer's summary as of cutoff `c` reads only purchase days on or before `c` (returns are
not purchases): `x` = purchase days after the first, `t_x` = weeks from the first to the last
purchase day, `T` = weeks from the first purchase day to `c`, `m` = mean value of the repeat
purchase days. BG/NBD, Pareto/NBD (`ml/btyd.py`) and Gamma-Gamma are fitted on that summary,
so nothing after the cutoff reaches a parameter, a feature or a score.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from ml.btyd import BGNBD, GammaGamma, ParetoNBD
from ml.features import ChurnData, _ts

WEEK_DAYS = 7.0
BGNBD_NAME = "bgnbd"
PNBD_NAME = "pnbd"
LABEL_FREE = (BGNBD_NAME, PNBD_NAME)
# Features the gradient-boosting model receives from the BG/NBD fit at each cutoff.
PURCHASE_FEATURES = ("bgnbd_p_alive", "bgnbd_p_churn", "bgnbd_orders_in_label_horizon")


def summary_at(data: ChurnData, cutoff: date, population: str | None = None) -> pd.DataFrame:
    """`customer_id, x, t_x, T, m, revenue_365d` for every customer with a purchase on or
    before `cutoff` (with `population`, SQL giving customer ids: only those), sorted by
    customer_id (times in weeks, m NaN without a repeat day).
    Money is rounded to 1e-6: parallel float sums differ in the last bits from run to run, and
    the optimiser would carry that noise into the parameters."""
    c = _ts(cutoff)
    only = f" AND customer_id IN ({population})" if population else ""
    frame = data.con.execute(
        f"""
        WITH d AS (
            SELECT customer_id, CAST(ordered_at AS DATE) AS day, round(sum(amount), 6) AS value
            FROM {data.ns}.orders WHERE NOT is_return AND ordered_at < {c}{only}
            GROUP BY customer_id, CAST(ordered_at AS DATE)),
        f AS (SELECT customer_id, min(day) AS first_day FROM d GROUP BY customer_id)
        SELECT customer_id,
               count(*) - 1 AS x,
               date_diff('day', min(day), max(day)) / {WEEK_DAYS} AS t_x,
               date_diff('day', min(day), CAST({c} AS DATE) - 1) / {WEEK_DAYS} AS T,
               round(avg(value) FILTER (WHERE day > first_day), 6) AS m,
               round(coalesce(sum(value) FILTER (WHERE day > CAST({c} AS DATE) - 366), 0), 6)
                   AS revenue_365d
        FROM d JOIN f USING (customer_id)
        GROUP BY customer_id ORDER BY customer_id
        """
    ).df()
    for col in ("x", "t_x", "T", "m", "revenue_365d"):
        frame[col] = frame[col].astype("float64")
    return frame


def fit_rows_at(
    data: ChurnData, cutoff: date, max_rows: int, seed: int
) -> tuple[pd.DataFrame, int]:
    """`_sample(summary_at(data, cutoff), max_rows, seed)` and the number of customers in the
    summary, reading only the sampled customers' rows: the positions are drawn as
    `DataFrame.sample` draws them (NumPy `RandomState(seed).choice` of the row count), so the
    fit sees the same rows in the same order without the whole base in memory."""
    buyers = f"""SELECT DISTINCT customer_id FROM {data.ns}.orders
        WHERE NOT is_return AND ordered_at < {_ts(cutoff)}"""
    n = data.con.execute(f"SELECT count(*) FROM ({buyers})").fetchone()[0]
    if n <= max_rows:
        return summary_at(data, cutoff), n
    drawn = np.random.RandomState(seed).choice(n, size=max_rows, replace=False)
    with data.con.cursor() as cur:  # its own registration: the connection may be shared
        cur.register("_fit_draw", pa.table({"pos": drawn.astype(np.int64)}))
        rows = summary_at(
            replace(data, con=cur),
            cutoff,
            f"""SELECT customer_id FROM (
                SELECT customer_id, row_number() OVER (ORDER BY customer_id) - 1 AS pos
                FROM ({buyers})) JOIN _fit_draw USING (pos)""",
        )
    # row i of `rows` (sorted by customer_id) is the customer at the i-th smallest position
    return rows.iloc[np.searchsorted(np.sort(drawn), drawn)], n


def _sample(summary: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """Deterministic sample for fitting: population parameters need no more rows."""
    if len(summary) <= max_rows:
        return summary
    return summary.sample(n=max_rows, random_state=seed)


def _cols(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return frame["x"].to_numpy(), frame["t_x"].to_numpy(), frame["T"].to_numpy()


@dataclass(frozen=True)
class PurchaseFit:
    """BG/NBD, Pareto/NBD (optional) and Gamma-Gamma (optional) fitted as of one cutoff."""

    cutoff: date
    n_customers: int
    bgnbd: BGNBD
    pnbd: ParetoNBD | None = None
    spend: GammaGamma | None = None

    def model(self, name: str) -> BGNBD | ParetoNBD:
        chosen = self.pnbd if name == PNBD_NAME else self.bgnbd
        if chosen is None:
            raise ValueError(f"purchase model {name} was not fitted at {self.cutoff}")
        return chosen

    def p_churn(self, name: str, summary: pd.DataFrame, horizon_days: float) -> np.ndarray:
        """P(no purchase within `horizon_days` after the cutoff) under model `name`."""
        return self.model(name).p_no_purchase(horizon_days / WEEK_DAYS, *_cols(summary))

    def expected_orders(self, name: str, summary: pd.DataFrame, days: float) -> np.ndarray:
        """Expected purchase days within `days` after the cutoff (repeat purchases)."""
        return self.model(name).expected_purchases(days / WEEK_DAYS, *_cols(summary))

    def expected_revenue(self, name: str, summary: pd.DataFrame, days: float) -> np.ndarray:
        """Expected orders times the Gamma-Gamma expected value of a purchase day (the
        customer's own mean shrunk towards the population mean)."""
        orders = self.expected_orders(name, summary, days)
        if self.spend is None:
            mean = summary["m"].where(summary["x"] > 0).mean()
            return orders * (0.0 if np.isnan(mean) else mean)
        return orders * self.spend.expected_spend(summary["x"], summary["m"])

    def card(self) -> dict:
        """Parameters and log-likelihoods for the model card."""
        out = {"cutoff": self.cutoff.isoformat(), "customers": self.n_customers}
        for name, fitted in (("bgnbd", self.bgnbd), ("pnbd", self.pnbd), ("spend", self.spend)):
            if fitted is not None:
                out[name] = {
                    "params": {k: float(v) for k, v in fitted.params.items()},
                    "log_likelihood": float(fitted.log_likelihood),
                    "converged": fitted.converged,
                }
        return out


def fit_purchase_models(
    summary: pd.DataFrame,
    cutoff: date,
    *,
    max_rows: int,
    seed: int,
    penalizer: float = 0.0,
    pareto: bool = True,
    spend: bool = True,
    start: PurchaseFit | None = None,
    n_customers: int | None = None,
) -> PurchaseFit:
    """Fit the label-free models on (a deterministic sample of) the summary at `cutoff`,
    starting from the parameters of `start` (a fit at a nearby cutoff) when given;
    `n_customers`: the size of the base when `summary` is already a sample of it."""
    if summary.empty:
        raise ValueError(f"no customer with a purchase on or before {cutoff}")
    fit_rows = _sample(summary, max_rows, seed)
    cols = _cols(fit_rows)
    bg_start = list(start.bgnbd.params.values()) if start else None
    pn_start = list(start.pnbd.params.values()) if start and start.pnbd else None
    bg = BGNBD.fit(*cols, penalizer=penalizer, start=bg_start)
    pn = ParetoNBD.fit(*cols, penalizer=penalizer, start=pn_start) if pareto else None
    gg = None
    if spend:
        repeat = fit_rows[(fit_rows["x"] > 0) & (fit_rows["m"] > 0)]
        if len(repeat) >= 10:
            gg = GammaGamma.fit(repeat["x"], repeat["m"], penalizer=penalizer)
    n = len(summary) if n_customers is None else n_customers
    return PurchaseFit(cutoff=cutoff, n_customers=n, bgnbd=bg, pnbd=pn, spend=gg)


def purchase_features(fit: PurchaseFit, summary: pd.DataFrame, horizon_days: float) -> pd.DataFrame:
    """BG/NBD outputs as gradient-boosting features: P(alive), P(no purchase within the label
    horizon), expected purchases within it."""
    cols = _cols(summary)
    t = horizon_days / WEEK_DAYS
    return pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "bgnbd_p_alive": fit.bgnbd.p_alive(*cols),
            "bgnbd_p_churn": fit.bgnbd.p_no_purchase(t, *cols),
            "bgnbd_orders_in_label_horizon": fit.bgnbd.expected_purchases(t, *cols),
        }
    )
