"""`cdp churn backtest`: train and score on a plain orders file, as of a cutoff date."""

from __future__ import annotations

import argparse
import sys
from datetime import date


def register(subparsers: argparse._SubParsersAction) -> None:
    churn = subparsers.add_parser("churn", help="churn prediction: backtest on an orders file")
    churn_sub = churn.add_subparsers(dest="churn_command", required=True, metavar="SUBCOMMAND")
    bt = churn_sub.add_parser(
        "backtest",
        help="train on the history up to --cutoff, score every customer, compare with the outcome",
        description=(
            "Trains the churn model on labelled cutoffs inside the history up to --cutoff "
            "(nothing after the cutoff is read for training or features), writes "
            "customer_id,churn_probability for every customer with an order on or before the "
            "cutoff, and prints metrics against the real outcome when the file reaches "
            "cutoff + horizon."
        ),
    )
    bt.add_argument("--orders", required=True, help="CSV: customer_id,order_id,ordered_at,amount")
    bt.add_argument("--cutoff", required=True, type=_parse_date, help="YYYY-MM-DD")
    bt.add_argument("--horizon-days", type=int, default=None, help="label horizon (days)")
    bt.add_argument("--out", required=True, help="output CSV of scores")
    bt.add_argument("--config", default=None, help="churn.yaml (default: config dir)")
    bt.set_defaults(func=_backtest)


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from exc


def _fail(message: str, code: int = 2) -> int:
    print(f"cdp churn backtest: error: {message}", file=sys.stderr)
    return code


def _backtest(args: argparse.Namespace) -> int:
    from datetime import timedelta
    from pathlib import Path

    import duckdb

    from ml.config import ChurnConfig, ChurnConfigError, load_churn_config
    from ml.features import ChurnData
    from ml.io import OrdersFileError, read_orders_csv
    from ml.model import (
        InsufficientHistoryError,
        calibration_markdown,
        evaluate_frame,
        metrics_markdown,
        train,
    )

    try:
        cfg = load_churn_config(args.config)
        if args.horizon_days is not None:
            cfg = ChurnConfig.model_validate(
                {**cfg.model_dump(), "horizon_days": args.horizon_days}
            )
    except (ChurnConfigError, ValueError) as exc:
        return _fail(str(exc))

    out = Path(args.out)
    con = duckdb.connect()
    try:
        parsed = read_orders_csv(args.orders, con)
    except OrdersFileError as exc:
        return _fail(str(exc))
    print(
        f"read {parsed.rows_read} rows from {args.orders}: {parsed.orders} orders, "
        f"{parsed.rejected} rejected"
    )
    if parsed.rejected:
        rejected_path = out.with_name(out.stem + ".rejected.csv")
        out.parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY {parsed.table}_rejected TO '{_sql_str(rejected_path)}' (HEADER, DELIMITER ',')"
        )
        sample = con.execute(
            f"SELECT line_number, reason FROM {parsed.table}_rejected LIMIT 3"
        ).fetchall()
        print(
            f"warning: {parsed.rejected} row(s) rejected, listed in {rejected_path} "
            f"(e.g. {', '.join(f'line {n}: {r}' for n, r in sample)})"
        )

    cutoff = args.cutoff
    history = ChurnData.from_connection(con, orders=parsed.table, until=cutoff, ns="hist")
    first, _last = history.date_range()
    if first is None:
        return _fail(f"no purchase on or before the cutoff {cutoff} in {args.orders}")
    try:
        trained = train(history, cutoff, cfg)
    except InsufficientHistoryError as exc:
        return _fail(f"{args.orders}: {exc}; nothing written")
    print(
        f"trained on {trained.n_training_rows} rows from cutoffs "
        f"{', '.join(str(c) for c in trained.training_cutoffs)} "
        f"(horizon {cfg.horizon_days} days, calibration: {cfg.calibration} on "
        f"{trained.calibration_cutoff or 'cross-fitted folds of the only cutoff'})"
    )
    features = history.features_at(cutoff)
    scores = features[["customer_id"]].assign(churn_probability=trained.predict(features))
    out.parent.mkdir(parents=True, exist_ok=True)
    con.register("_scores", scores)
    con.execute(f"COPY (SELECT * FROM _scores ORDER BY customer_id) TO '{_sql_str(out)}' (HEADER)")
    print(f"wrote {len(scores)} scores to {out}")

    full_last = con.execute(
        f"SELECT max(ordered_at)::DATE FROM {parsed.table} WHERE amount >= 0"
    ).fetchone()[0]
    if full_last is None or full_last < cutoff + timedelta(days=cfg.horizon_days):
        print(
            f"outcome not observable: the file ends {full_last}, before cutoff + horizon "
            f"({cutoff + timedelta(days=cfg.horizon_days)}); no metrics"
        )
        return 0
    full = ChurnData.from_connection(con, orders=parsed.table, ns="outcome")
    labels = full.labels_at(cutoff, cfg.horizon_days)
    frame = features.merge(labels, on="customer_id", how="left", validate="one_to_one")
    evaluation = evaluate_frame(trained, frame, cutoff)
    print(f"\nbacktest at {cutoff}, outcome = no purchase within {cfg.horizon_days} days:")
    print(metrics_markdown(evaluation))
    print("\ncalibration by decile of predicted probability:")
    print(calibration_markdown(evaluation))
    return 0


def _sql_str(path: object) -> str:
    return str(path).replace("'", "''")
