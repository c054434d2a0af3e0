"""Purchase propensity and recommendations back-tested on public data that ships in PyPI packages.

    .venv/bin/python scripts/public_predictions.py propensity
    pip download --no-deps -d /tmp/recbole recbole==1.2.1
    .venv/bin/python scripts/public_predictions.py recommendations \
        --wheel /tmp/recbole/recbole-1.2.1-py3-none-any.whl

`propensity`: the CDNOW purchase log (inside `lifetimes`, a dev dependency; read as in
`scripts/cdnow_orders.py`). At each back-test cutoff `E` the model is trained as of `E` by
`ml.propensity.train` (labelled cutoffs and the choice of scorer inside the history before
`E`) and graded on the purchases of `(E, E + 30 days]` next to the recency-frequency baseline.
CDNOW has orders only: the web, cart and e-mail features are absent, the purchase-history and
BG/NBD features remain.

`recommendations`: MovieLens 100k (943 users, 1,682 films, 100,000 dated ratings, Sept. 1997 -
Apr. 1998) as shipped in the `recbole` wheel (`recbole/dataset_example/ml-100k/ml-100k.inter`;
read from the wheel file, the package is not installed). A rating is an order line. The
recommender is trained as of `E = T - test_days` by `ml.recommend.train` (candidate chosen on
the `test_days` before `E`) and graded on the ratings of `(E, T]` with hit rate@5 and recall@10
next to popularity; every candidate is also graded on `(E, T]` for information (the choice is
not revisited). A film is rated once, so everything a user rated before `E` is excluded
(`exclude_bought_days` = the whole history), as the scoring filter does for recent purchases.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
import zipfile
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cdnow_orders import read_orders

from ml import propensity as clf
from ml import recommend as rec
from ml.behaviour import BehaviourData
from ml.prediction_config import load_predictions_config

MOVIELENS = "recbole/dataset_example/ml-100k/ml-100k.inter"
MOVIELENS_ITEMS = "recbole/dataset_example/ml-100k/ml-100k.item"
CDNOW_CUTOFFS = ("1997-09-30", "1997-12-31", "1998-03-31", "1998-05-31")


def _row(name: str, m: dict) -> str:
    return (
        f"  {name:<28} PR AUC {m['pr_auc']:.4f}  ROC AUC {m['roc_auc']:.4f}  "
        f"Brier {m['brier']:.4f}  lift@10% {m['lift_top_decile']:.2f}"
    )


def propensity(args: argparse.Namespace) -> dict:
    cfg = load_predictions_config(args.config)
    data = BehaviourData.from_frames(read_orders())
    print(f"CDNOW: {data.con.execute('SELECT count(*) FROM churn.orders').fetchone()[0]:,} orders")
    out = {}
    for cutoff in args.cutoffs:
        started = time.perf_counter()
        e = date.fromisoformat(cutoff)
        trained = clf.train(data, clf.PROPENSITY, e, cfg.propensity, cfg.seed, cfg.threads)
        result = clf.evaluate(trained, data, e)
        result["chosen"] = trained.chosen
        result["validation"] = trained.validation
        out[cutoff] = result
        m = result["metrics"]
        print(
            f"cutoff {cutoff}: {m['model']['n']:,} buyers, {m['model']['churn_rate']:.1%} bought "
            f"within {cfg.propensity.horizon_days} days; chosen {result['chosen']} "
            f"({time.perf_counter() - started:.0f} s)"
        )
        print(_row("model", m["model"]))
        print(_row(clf.BASELINE, m[clf.BASELINE]))
    return out


def movielens(wheel: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ratings as order lines, and the films' genres as categories (`sku, item_group`)."""
    with zipfile.ZipFile(wheel) as zf:
        raw = pd.read_csv(io.BytesIO(zf.read(MOVIELENS)), sep="\t")
        films = pd.read_csv(io.BytesIO(zf.read(MOVIELENS_ITEMS)), sep="\t", quoting=csv.QUOTE_NONE)
    raw.columns = ["user", "item", "rating", "ts"]
    lines = pd.DataFrame(
        {
            "customer_id": raw["user"].astype(str),
            "ordered_at": pd.to_datetime(raw["ts"], unit="s"),
            "sku": "M" + raw["item"].astype(str),
            "quantity": 1.0,
        }
    )
    genres = pd.DataFrame(
        {"sku": "M" + films.iloc[:, 0].astype(str), "item_group": films.iloc[:, -1].str.split()}
    ).explode("item_group")
    return lines, genres


def _fit(data, cutoff, cand, rcfg, cfg):
    return rec._fit(data, cutoff, cand, rcfg, cfg.seed, cfg.threads)


def recommendations(args: argparse.Namespace) -> dict:
    cfg = load_predictions_config(args.config)
    rcfg = cfg.recommendations.model_copy(update={"exclude_bought_days": 3650})
    lines, genres = movielens(args.wheel)
    orders = lines.assign(order_id=lambda d: d["customer_id"] + "-" + d["sku"], amount=1.0)
    data = BehaviourData.from_frames(
        orders[["customer_id", "order_id", "ordered_at", "amount"]], order_lines=lines
    ).with_item_groups(genres)
    _first, last = data.base.date_range()
    print(f"MovieLens 100k: {len(lines):,} ratings until {last}")
    out = {}
    for test_days in args.test_days:
        started = time.perf_counter()
        tcfg = rcfg.model_copy(update={"test_days": test_days})
        e = last - timedelta(days=test_days)
        result = rec.backtest(data, e, last, tcfg, cfg.seed, cfg.threads)
        # every candidate on the test window, for information only: the choice above was
        # made on the window before it and is not revisited
        result["each_candidate_on_test"] = {}
        for i, cand in enumerate(tcfg.candidates, start=1):
            fitted = _fit(data, e, cand, tcfg, cfg)  # MovieLens has categories: none skipped
            for a in tcfg.blend_weights:
                result["each_candidate_on_test"][f"{cand.kind}_{i}@{a:g}"] = rec.grade(
                    replace(fitted, blend=a), data, e, last, tcfg
                )
        out[str(test_days)] = result
        m = result["metrics"]["model"]
        print(
            f"test {e} -> {last} ({test_days} days): {m['n']:,} users rated, "
            f"{m['with_history']:,} with history; chosen {result['chosen']} "
            f"({time.perf_counter() - started:.0f} s)"
        )
        for name, m in [*result["metrics"].items(), *result["each_candidate_on_test"].items()]:
            print(
                f"  {name:<24} hit rate@5 {m['hit_rate_at_5']:.4f}  recall@10 {m['recall_at_10']:.4f}"
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None, help="predictions.yaml (default: config dir)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    sub = parser.add_subparsers(required=True)
    p = sub.add_parser("propensity", help="30-day purchase propensity on CDNOW")
    p.add_argument("--cutoffs", nargs="+", default=list(CDNOW_CUTOFFS))
    p.set_defaults(func=propensity)
    r = sub.add_parser("recommendations", help="recommendations on MovieLens 100k")
    r.add_argument("--wheel", type=Path, required=True, help="the downloaded recbole wheel")
    r.add_argument("--test-days", type=int, nargs="+", default=[30, 90])
    r.set_defaults(func=recommendations)
    args = parser.parse_args()
    result = args.func(args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
