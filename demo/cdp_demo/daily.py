"""A generated day of changes landed on top of the demo retailer's files.

`cdp bench --incremental` and the incremental dbt test need what a source system sends the day
after the last load: new orders, web and e-mail events, consent statements, store receipts and
new customer accounts, plus changed records (an order refunded or closed, a customer who edits
the e-mail of the account, a receipt corrected). Each change is made from a record the sources
already hold, copied under a new key or edited in place, and dated the day after the newest
record, so it has every field the source's schema has and the ingestion reads it as usual:
new files (`<monthly file>-dayN.jsonl|parquet`) for the file sources, new and updated rows
(receipts, loyalty cards) for the till's SQLite database. The CSV exports (clienteling, ESP
contacts, service) are left as they are.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

NEW_ID_OFFSET = 1_000_000_000  # integer keys of new records: far above the generator's
TIME_FIELDS = ("created_at", "updated_at", "occurred_at")


@dataclass
class DayReport:
    day: dt.date
    new: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.new.values()) + sum(self.changed.values())


@dataclass(frozen=True)
class JsonlTable:
    """A JSON-lines file set: its folder glob, key, and the child lists keyed inside a record."""

    name: str
    glob: str
    key: str
    children: tuple[tuple[str, str], ...] = ()  # (list field, key of its elements)
    edit: tuple[str, str] | None = None  # (field, prefix) changed in place on a changed record


JSONL_TABLES = (
    JsonlTable(
        "shop.orders",
        "shop/orders/orders_*.jsonl",
        "entity_id",
        (("items", "item_id"),),
        ("status", ""),
    ),
    JsonlTable(
        "shop.customers",
        "shop/customers/customers_*.jsonl",
        "entity_id",
        (("addresses", "id"),),
        ("email", "new."),
    ),
    JsonlTable("shop.carts", "shop/carts/carts_*.jsonl", "entity_id", (("items", "item_id"),)),
    JsonlTable("esp.events", "esp/events/events_*.jsonl", "event_id"),
    JsonlTable("consent.consent_events", "consent/consent_events_*.jsonl", "event_id"),
)
CHANGED_STATUS = "closed"  # an order refunded in full after delivery


class Draw(NamedTuple):
    """What every source's landing of day `n` shares: the day, its share of a month's records,
    the random draws and the report they add to."""

    n: int
    share: float
    day: dt.date
    rng: random.Random
    report: DayReport


def land_day(landing: Path, n: int = 1, share: float = 1 / 30, seed: int = 1) -> DayReport:
    """Land day `n` of changes: about `share` of the newest monthly file as new records and a
    tenth of that as changed ones, in every JSON-lines and Parquet file set and in the till."""
    day = _next_day(landing) + dt.timedelta(days=n - 1)
    draw = Draw(n, share, day, random.Random(seed * 1000 + n), DayReport(day))
    for table in JSONL_TABLES:
        _land_jsonl(landing, table, draw)
    _land_web_events(landing, draw)
    _land_till(landing / "pos" / "pos.sqlite", draw)
    return draw.report


def _latest(landing: Path, glob: str) -> Path | None:
    files = sorted(p for p in landing.glob(glob) if "-day" not in p.name)
    return files[-1] if files else None


def _next_day(landing: Path) -> dt.date:
    """The day after the newest web event: the first day the sources have not sent yet."""
    latest = _latest(landing, "web/events_*.parquet")
    if latest is None:
        raise FileNotFoundError(f"no web events in {landing}: generate the retailer first")
    newest = pc.max(pq.read_table(latest, columns=["occurred_at"])["occurred_at"]).as_py()
    return newest.date() + dt.timedelta(days=1)


def _stamp(day: dt.date, rng: random.Random) -> str:
    moment = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=rng.randrange(86_400))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_key(value: Any, n: int, i: int) -> Any:
    if isinstance(value, int):
        return NEW_ID_OFFSET * n + i
    return f"{value}-D{n}-{i}"


def _land_jsonl(landing: Path, table: JsonlTable, draw: Draw) -> None:
    n, share, day, rng, report = draw
    latest = _latest(landing, table.glob)
    if latest is None:
        return
    records = [json.loads(line) for line in latest.read_text().splitlines() if line.strip()]
    count = max(1, round(len(records) * share))
    out = []
    child_serial = 0
    for i, record in enumerate(rng.sample(records, min(count, len(records)))):
        copy = json.loads(json.dumps(record))
        copy[table.key] = _new_key(record[table.key], n, i)
        if "increment_id" in copy:
            copy["increment_id"] = f"D{n}{i:08d}"
        for list_field, child_key in table.children:
            for child in copy.get(list_field) or []:
                child_serial += 1
                child[child_key] = _new_key(child[child_key], n, child_serial)
        for name in TIME_FIELDS:
            if copy.get(name):
                copy[name] = _stamp(day, rng)
        out.append(copy)
    report.new[table.name] = len(out)
    if table.edit:  # records edited in place: same key, newer updated_at, one field changed
        name, prefix = table.edit
        edited = rng.sample(records, min(max(1, count // 10), len(records)))
        for record in edited:
            record["updated_at"] = _stamp(day, rng)
            record[name] = CHANGED_STATUS if not prefix else f"{prefix}{record[name] or ''}"
        out += edited
        report.changed[table.name] = len(edited)
    target = latest.with_name(f"{latest.stem}-day{n}{latest.suffix}")
    target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out))


def _land_web_events(landing: Path, draw: Draw) -> None:
    n, share, day, rng, report = draw
    latest = _latest(landing, "web/events_*.parquet")
    if latest is None:
        return
    events = pq.read_table(latest)
    count = max(1, round(events.num_rows * share))
    picked = events.take(sorted(rng.sample(range(events.num_rows), count)))
    ids = pa.array([f"{e}-D{n}" for e in picked["event_id"].to_pylist()], pa.string())
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    times = pa.array(
        [start + dt.timedelta(seconds=rng.randrange(86_400)) for _ in range(count)],
        events.schema.field("occurred_at").type,
    )
    picked = picked.set_column(picked.schema.get_field_index("event_id"), "event_id", ids)
    picked = picked.set_column(picked.schema.get_field_index("occurred_at"), "occurred_at", times)
    pq.write_table(picked, latest.with_name(f"{latest.stem}-day{n}.parquet"))
    report.new["web.events"] = count


def _land_till(database: Path, draw: Draw) -> None:
    """New receipts with their lines, and receipts corrected (updated_at moves on)."""
    n, share, day, rng, report = draw
    if not database.exists():
        return
    with sqlite3.connect(database) as con:
        month = con.execute("select max(substr(sold_at, 1, 7)) from receipts").fetchone()[0]
        ids = [
            r[0]
            for r in con.execute(
                "select receipt_id from receipts where sold_at like ?", [f"{month}%"]
            )
        ]
        count = max(1, round(len(ids) * share))
        picked = rng.sample(ids, min(count, len(ids)))
        for i, receipt in enumerate(picked):
            new_id, stamp = f"{receipt}-D{n}-{i}", _stamp(day, rng)
            con.execute(
                "insert into receipts select ?, store_id, register_id, staff_id, card_id, ?, "
                "total_amount, currency, payment_method, is_return, original_receipt_id, ? "
                "from receipts where receipt_id = ?",
                [new_id, stamp, stamp, receipt],
            )
            con.execute(
                "insert into receipt_lines select ?, line_no, sku, quantity, unit_price, "
                "discount, line_amount, ? from receipt_lines where receipt_id = ?",
                [new_id, stamp, receipt],
            )
        corrected = rng.sample(ids, min(max(1, count // 10), len(ids)))
        for receipt in corrected:
            con.execute(
                "update receipts set payment_method = 'card', updated_at = ? where receipt_id = ?",
                [_stamp(day, rng), receipt],
            )
        _land_cards(con, draw)
    report.new["pos.receipts"] = len(picked)
    report.changed["pos.receipts"] = len(corrected)


def _land_cards(con: sqlite3.Connection, draw: Draw) -> None:
    """New loyalty cards (copies of cards under a new number) and cards whose holder gave a
    new e-mail. Cards are issued over the three years, so a day brings `share` of a month's."""
    n, share, day, rng, report = draw
    columns = [row[1] for row in con.execute("pragma table_info(loyalty_cards)")]
    cards = [row[0] for row in con.execute("select card_id from loyalty_cards order by card_id")]
    count = max(1, round(len(cards) * share / 36))
    picked = rng.sample(cards, min(count, len(cards)))
    for i, card in enumerate(picked):
        stamp = _stamp(day, rng)
        values = {"card_id": f"LC9{n % 100:02d}{i:05d}", "issued_at": stamp, "updated_at": stamp}
        select = ", ".join("?" if name in values else name for name in columns)
        con.execute(
            f"insert into loyalty_cards select {select} from loyalty_cards where card_id = ?",
            [*(values[name] for name in columns if name in values), card],
        )
    edited = rng.sample(cards, min(max(1, count // 10), len(cards)))
    for card in edited:
        con.execute(
            "update loyalty_cards set email = 'new.' || coalesce(email, ''), updated_at = ? "
            "where card_id = ?",
            [_stamp(day, rng), card],
        )
    report.new["pos.loyalty_cards"] = len(picked)
    report.changed["pos.loyalty_cards"] = len(edited)
