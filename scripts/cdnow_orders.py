"""Write the CDNOW purchase log (shipped in the `lifetimes` package, a dev dependency) as an
orders CSV for `cdp predict backtest`.

CDNOW: 23,570 customers who first bought in Q1 1997, every purchase until 1998-06-30
(customer, day, number of CDs, dollar value). Usage:

    .venv/bin/python scripts/cdnow_orders.py --out /tmp/cdnow_orders.csv
    .venv/bin/cdp predict backtest --orders /tmp/cdnow_orders.csv --cutoff 1997-09-30 \
        --horizon-days 273 --value-days 273 --out /tmp/cdnow_scores.csv
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pandas as pd


def cdnow_master() -> Path:
    """CDNOW_master.txt inside the installed lifetimes package, found without importing it."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.origin:
        raise SystemExit("the dev dependency `lifetimes` is not installed (uv sync --dev)")
    return Path(spec.origin).parent / "datasets" / "CDNOW_master.txt"


def read_orders() -> pd.DataFrame:
    """`customer_id, order_id, ordered_at (YYYY-MM-DD), amount`: one row per CDNOW purchase."""
    raw = pd.read_csv(
        cdnow_master(),
        sep=r"\s+",
        header=0,
        names=["customer_id", "date", "cds", "amount"],
        dtype={"customer_id": str, "date": str},
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "order_id": "L" + pd.Series(range(1, len(raw) + 1)).astype(str),
            "ordered_at": pd.to_datetime(raw["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d"),
            "amount": raw["amount"],
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    orders = read_orders()
    orders.to_csv(args.out, index=False)
    print(
        f"wrote {len(orders)} orders of {orders['customer_id'].nunique()} customers to {args.out}"
    )


if __name__ == "__main__":
    main()
