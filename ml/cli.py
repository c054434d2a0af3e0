"""`cdp predict backtest` (alias `cdp churn backtest`): churn and customer value on a plain
orders file, trained on the history up to a cutoff and compared with the outcome after it."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from cdp.commands import add_command


def register(subparsers: argparse._SubParsersAction) -> None:
    for command, help_text in (
        ("predict", "churn and customer value: backtest on an orders file"),
        ("churn", "alias of `cdp predict`"),
    ):
        parser = add_command(subparsers, command, help=help_text)
        sub = parser.add_subparsers(dest="predict_command", required=True, metavar="SUBCOMMAND")
        bt = add_command(sub, "backtest", _backtest)
        bt.add_argument(
            "--orders", required=True, help="CSV: customer_id,order_id,ordered_at,amount"
        )
        bt.add_argument("--cutoff", required=True, type=_parse_date, help="YYYY-MM-DD")
        bt.add_argument("--horizon-days", type=int, default=None, help="churn horizon (days)")
        bt.add_argument(
            "--value-days", type=int, default=None, help="value horizon (days, default 365)"
        )
        bt.add_argument("--out", required=True, help="output CSV of scores")
        bt.add_argument("--config", default=None, help="churn.yaml (default: config dir)")
        bt.set_defaults(command_name=f"cdp {command} backtest")


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from exc


def _fail(args: argparse.Namespace, message: str, code: int = 2) -> int:
    print(f"{args.command_name}: error: {message}", file=sys.stderr)
    return code


def _backtest(args: argparse.Namespace) -> int:
    """train up to --cutoff, score every customer, compare with the outcome

    Trains on the history up to --cutoff (nothing after the cutoff is read for training,
    features or the purchase models), writes
    customer_id,churn_probability,expected_orders,expected_revenue for every customer with an
    order on or before the cutoff, and prints churn metrics when the file reaches cutoff +
    horizon and value metrics when it reaches cutoff + value horizon, next to the recency,
    RFM, BG/NBD and Pareto/NBD baselines.
    """
    from datetime import timedelta
    from pathlib import Path

    from cdp.config import ConfigError
    from cdp.warehouse import connect as duckdb_connect
    from ml.config import ChurnConfig, load_churn_config
    from ml.features import ChurnData
    from ml.io import OrdersFileError, read_orders_csv
    from ml.metrics import calibration_markdown, metrics_markdown, value_markdown
    from ml.model import InsufficientHistoryError, evaluate_frame, train, with_value_horizon

    try:
        cfg = load_churn_config(args.config)
        if args.horizon_days is not None:
            cfg = ChurnConfig.model_validate(
                {**cfg.model_dump(), "horizon_days": args.horizon_days}
            )
        if args.value_days is not None:
            cfg = with_value_horizon(cfg, args.value_days)
            ChurnConfig.model_validate(cfg.model_dump())
    except (ConfigError, ValueError) as exc:
        return _fail(args, str(exc))
    value_days = cfg.purchase_model.value_horizon_days

    out = Path(args.out)
    con = duckdb_connect()
    try:
        parsed = read_orders_csv(args.orders, con)
    except OrdersFileError as exc:
        return _fail(args, str(exc))
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
    try:
        trained = train(history, cutoff, cfg)
    except InsufficientHistoryError as exc:
        return _fail(args, f"{args.orders}: {exc}; nothing written")
    print(f"training plan: {trained.plan.describe(cfg.horizon_days)}")
    validation = trained.validation
    if "metrics" in validation:
        briers = ", ".join(f"{k} {v['brier']:.4f}" for k, v in validation["metrics"].items())
        print(f"validation at {validation['cutoff']} (Brier): {briers}")
        if validation.get("value_metrics"):
            rhos = ", ".join(
                f"{k} {v['spearman']:.4f}" for k, v in validation["value_metrics"].items()
            )
            print(f"value validation (Spearman over the label horizon): {rhos}")
    if validation.get("note"):
        print(f"note: {validation['note']}")
    print(
        f"chosen: {trained.chosen}; value: {trained.value_model} + Gamma-Gamma over "
        f"{value_days} days"
    )
    frame = trained.frame(history, cutoff, cfg)
    orders, revenue = trained.predict_value(frame)
    scores = frame[["customer_id"]].assign(
        churn_probability=trained.predict(frame), expected_orders=orders, expected_revenue=revenue
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    con.register("_scores", scores)
    con.execute(f"COPY (SELECT * FROM _scores ORDER BY customer_id) TO '{_sql_str(out)}' (HEADER)")
    print(f"wrote {len(scores)} scores to {out}")

    full_last = con.execute(
        f"SELECT max(ordered_at)::DATE FROM {parsed.table} WHERE amount >= 0"
    ).fetchone()[0]
    end = cutoff + timedelta(days=cfg.horizon_days)
    if full_last is None or full_last < end:
        print(
            f"outcome not observable: the file ends {full_last}, before cutoff + horizon "
            f"({end}); no metrics"
        )
        return 0
    full = ChurnData.from_connection(con, orders=parsed.table, ns="outcome")
    outcome = full.outcome_at(cutoff, cfg.horizon_days, value_days)
    frame = frame.merge(outcome, on="customer_id", how="left", validate="one_to_one")
    covered = full_last >= cutoff + timedelta(days=value_days)
    evaluation = evaluate_frame(
        trained, frame, cutoff, frame["revenue"].to_numpy() if covered else None
    )
    print(f"\nbacktest at {cutoff}, outcome = no purchase within {cfg.horizon_days} days:")
    print(metrics_markdown(evaluation.metrics))
    print("\ncalibration by decile of predicted probability:")
    print(calibration_markdown(evaluation.calibration))
    if evaluation.value_metrics is None:
        print(f"\nvalue not observable: the file ends before cutoff + {value_days} days")
    else:
        print(f"\nvalue: revenue within {value_days} days after the cutoff:")
        print(value_markdown(evaluation.value_metrics))
    return 0


def _sql_str(path: object) -> str:
    return str(path).replace("'", "''")
