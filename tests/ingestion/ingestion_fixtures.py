"""Tiny hand-written landing files following docs/data_contract.md, for fast unit tests.

Exact row counts are known here, so the tests can check every table precisely. The integration
tests run on the real generator instead (tests/ingestion/test_generated.py).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from cdp_demo.generator.sources.spreadsheets import SHEET_HEADER

from ingestion.sources.specs import table_spec


def _jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def _csv(path: Path, source: str, table: str, *rows: str) -> None:
    """A UTF-8 CSV file of `rows` under the header `source`.`table` declares."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ",".join(table_spec(source, table).schema.names)
    path.write_text("".join(f"{line}\n" for line in (header, *rows)), encoding="utf-8")


def customer(entity_id: int, updated_at: str = "2025-01-05T10:00:00Z", **extra) -> dict:
    record = {
        "entity_id": entity_id,
        "email": f"c{entity_id}@example.com",
        "firstname": "Marie",
        "lastname": "Dupont",
        "dob": "1985-03-12",
        "gender": 2,
        "created_at": "2025-01-01T09:00:00Z",
        "updated_at": updated_at,
        "group_id": 1,
        "store_id": 1,
        "website_id": 1,
        "addresses": [
            {
                "id": entity_id * 10,
                "street": ["12 rue de la Paix", "Apt 3"],
                "postcode": "75002",
                "city": "Paris",
                "country_id": "FR",
                "telephone": "06 12 34 56 78",
                "firstname": "Marie",
                "lastname": "Dupont",
                "default_billing": True,
                "default_shipping": True,
            }
        ],
        "extension_attributes": {"loyalty_card_id": f"LC{entity_id:08d}", "is_subscribed": True},
    }
    record.update(extra)
    return record


def order(entity_id: int, customer_id: int | None, n_items: int = 2, **extra) -> dict:
    record = {
        "entity_id": entity_id,
        "increment_id": str(100000000 + entity_id),
        "customer_id": customer_id,
        "customer_is_guest": customer_id is None,
        "customer_email": "x@example.com",
        "customer_firstname": "Marie",
        "customer_lastname": "Dupont",
        "created_at": "2025-01-05T10:00:00Z",
        "updated_at": "2025-01-05T10:00:00Z",
        "status": "complete",
        "order_currency_code": "EUR",
        "subtotal": 120.00,
        "discount_amount": -12.00,
        "shipping_amount": 5.90,
        "tax_amount": 19.00,
        "grand_total": 113.90,
        "total_refunded": 0.00,
        "billing_address": {
            "street": ["1 rue A", "Bât B"],
            "postcode": "75001",
            "city": "Paris",
            "country_id": "FR",
            "telephone": "0600000000",
            "firstname": "Marie",
            "lastname": "Dupont",
        },
        "payment": {"method": "card"},
        "items": [
            {
                "item_id": entity_id * 100 + i,
                "sku": f"HZ-BAG-{i:04d}",
                "name": "Bag",
                "qty_ordered": 1,
                "qty_refunded": 0,
                "price": 60.00,
                "discount_amount": 6.00,
                "row_total": 60.00,
            }
            for i in range(n_items)
        ],
    }
    record.update(extra)
    return record


def cart(entity_id: int) -> dict:
    return {
        "entity_id": entity_id,
        "customer_id": 1,
        "customer_email": "c1@example.com",
        "created_at": "2025-01-05T10:00:00Z",
        "updated_at": "2025-01-05T11:00:00Z",
        "is_active": True,
        "converted_order_id": None,
        "grand_total": 240.00,
        "items": [{"item_id": entity_id * 10, "sku": "HZ-SHO-0001", "qty": 1, "price": 240.00}],
    }


CLIENT_HEADER = (
    "client_id,store_id,advisor_id,civility,first_name,last_name,email,mobile,birth_date,"
    "address_line,postcode,city,country,preferred_category,size_top,size_shoe,opt_in_email,"
    "opt_in_sms,loyalty_card_id,notes,created_at,updated_at"
)


def client_line(n: int, updated_at: str = "2025-01-05T10:00:00Z", first: str = "Jean") -> str:
    return (
        f"CL-{n:07d},S001,A01,M.,{first},Martin,j{n}@example.com,0611111111,01/02/1980,"
        f'"3 rue B, bis",75003,Paris,FR,bags,M,42,Y,N,,"note, with comma",'
        f"2025-01-01T00:00:00Z,{updated_at}"
    )


# the header the sign-up sheets carry, read from config/sources.yaml by the generator
SIGNUP_HEADER = SHEET_HEADER


def write_landing(landing: Path) -> dict[str, int]:
    """Write one small, valid extract per source; returns expected rows per raw table."""
    import datetime as dt

    from openpyxl import Workbook

    _jsonl(
        landing / "shop/customers/customers_2025-01.jsonl",
        [customer(1), customer(2, addresses=[]), customer(3)],
    )
    _jsonl(
        landing / "shop/orders/orders_2025-01.jsonl",
        [order(10, 1), order(11, None, n_items=1)],
    )
    _jsonl(landing / "shop/carts/carts_2025-01.jsonl", [cart(700), cart(701)])

    pos = landing / "pos/pos.sqlite"
    pos.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(pos)
    db.executescript(
        """
        CREATE TABLE stores(store_id TEXT PRIMARY KEY, name TEXT, kind TEXT, street TEXT,
          postcode TEXT, city TEXT, country TEXT, opened_on TEXT, generic_email TEXT,
          updated_at TEXT);
        CREATE TABLE loyalty_cards(card_id TEXT PRIMARY KEY, store_id TEXT, issued_at TEXT,
          first_name TEXT, last_name TEXT, email TEXT, phone TEXT, birth_date TEXT, street TEXT,
          postcode TEXT, city TEXT, country TEXT, status TEXT, updated_at TEXT);
        CREATE TABLE receipts(receipt_id TEXT PRIMARY KEY, store_id TEXT, register_id TEXT,
          staff_id TEXT, card_id TEXT, sold_at TEXT, total_amount REAL, currency TEXT,
          payment_method TEXT, is_return INTEGER, original_receipt_id TEXT, updated_at TEXT);
        CREATE TABLE receipt_lines(receipt_id TEXT, line_no INTEGER, sku TEXT, quantity INTEGER,
          unit_price REAL, discount REAL, line_amount REAL, updated_at TEXT,
          PRIMARY KEY (receipt_id, line_no));
        INSERT INTO stores VALUES ('S001','Paris Rivoli','boutique','1 rue de Rivoli','75001',
          'Paris','FR','2010-01-01','rivoli@maison.fr','2024-01-01T00:00:00Z');
        INSERT INTO loyalty_cards VALUES ('LC00000001','S001','2024-02-01T10:00:00Z','Marie',
          'Dupont','m@example.com','0612345678','1985-03-12','12 rue de la Paix','75002',
          'Paris','FR','active','2024-02-01T10:00:00Z');
        INSERT INTO receipts VALUES ('R-S001-0000001','S001','REG1','ST1','LC00000001',
          '2025-01-05T10:00:00Z',120.0,'EUR','card',0,NULL,'2025-01-05T10:00:00Z');
        INSERT INTO receipts VALUES ('R-S001-0000002','S001','REG1','ST1',NULL,
          '2025-01-06T10:00:00Z',-60.0,'EUR','card',1,'R-S001-0000001','2025-01-06T10:00:00Z');
        INSERT INTO receipt_lines VALUES ('R-S001-0000001',1,'HZ-BAG-0001',1,60.0,0,60.0,
          '2025-01-05T10:00:00Z');
        INSERT INTO receipt_lines VALUES ('R-S001-0000001',2,'HZ-BAG-0002',1,60.0,0,60.0,
          '2025-01-05T10:00:00Z');
        INSERT INTO receipt_lines VALUES ('R-S001-0000002',1,'HZ-BAG-0001',-1,60.0,0,-60.0,
          '2025-01-06T10:00:00Z');
        """
    )
    db.commit()
    db.close()

    clienteling = landing / "clienteling/clients_2025-01.csv"
    clienteling.parent.mkdir(parents=True, exist_ok=True)
    clienteling.write_text(
        "\n".join([CLIENT_HEADER, client_line(1), client_line(2)]) + "\n", encoding="utf-8"
    )

    esp = landing / "esp"
    (esp / "events").mkdir(parents=True, exist_ok=True)
    (esp / "contacts.csv").write_text(
        "contact_id,email,first_name,last_name,cellphone,subscribed_email,subscribed_sms,"
        "created_at,updated_at,origin\n"
        "SP-00000001,a@example.com,Ann,Lee,0600000001,1,0,2024-01-01T00:00:00Z,"
        "2024-01-01T00:00:00Z,shop\n"
        "SP-00000002,b@example.com,Bob,Ray,,0,1,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z,store\n",
        encoding="utf-8",
    )
    (esp / "campaigns.csv").write_text(
        "campaign_id,name,channel,category,subject,sent_at\n"
        "CMP-0001,Soldes,email,promo,Les soldes,2025-01-05T08:00:00Z\n",
        encoding="utf-8",
    )
    _jsonl(
        esp / "events/events_2025-01.jsonl",
        [
            {
                "event_id": f"E{i}",
                "campaign_id": "CMP-0001",
                "contact_id": "SP-00000001",
                "email": "a@example.com",
                "event_type": kind,
                "occurred_at": "2025-01-05T08:01:00Z",
                "url": None,
                "bounce_type": None,
            }
            for i, kind in enumerate(["sent", "delivered", "open"])
        ],
    )

    web = landing / "web"
    web.mkdir(parents=True, exist_ok=True)
    pq.write_table(web_events(4), web / "events_2025-01.parquet")

    _csv(
        landing / "service/tickets_2025-01.csv",
        "service",
        "tickets",
        "T-000001,2025-01-05T10:00:00Z,email,DUPONT Marie,m@example.com,,delivery,Late,"
        "100000010,solved,4,2025-01-06T10:00:00Z",
        "T-000002,2025-01-07T10:00:00Z,phone,Jean Martin,,0611111111,other,Hello,,open,,",
    )

    sheets = landing / "spreadsheets"
    sheets.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.append(["Soirée VIP — inscriptions"])
    ws.merge_cells("A1:I1")
    ws.append(SIGNUP_HEADER)
    ws.append(
        [
            "Dupont",
            "Marie",
            "m@example.com",
            612345678,
            dt.datetime(1985, 3, 12),
            "75002",
            "Paris",
            "Soirée VIP",
            "14/03/2025",
        ]
    )
    ws.append(["Martin", "Jean", "j@example.com", "0611111111", "01/02/1980", 75003, "Paris"])
    wb.save(sheets / "soiree_vip_2025.xlsx")
    (sheets / "salon_2025.csv").write_bytes(
        (
            ";".join(SIGNUP_HEADER)
            + "\r\nLéger;Hélène;h@example.com;0622222222;05/06/1990;69001;Lyon;Salon;01/04/2025\r\n"
        ).encode("latin-1")
    )

    consent = landing / "consent"
    _jsonl(
        consent / "consent_events_2025-01.jsonl",
        [
            {
                "event_id": "CE1",
                "occurred_at": "2025-01-05T10:00:00Z",
                "email": "m@example.com",
                "phone": None,
                "shop_customer_id": 1,
                "channel": "email",
                "purpose": "marketing",
                "status": "granted",
                "source": "shop_checkout",
            }
        ],
    )

    _csv(
        landing / "catalog/products.csv",
        "catalog",
        "products",
        "HZ-BAG-0001,Sac,bags,tote,SS25,120.00,40.00,EUR,12,true,2025-01-01,2025-01-01T00:00:00Z",
        "HZ-BAG-0002,Sac 2,bags,tote,SS25,60.50,20.00,EUR,0,false,2025-01-01,2025-01-01T00:00:00Z",
    )
    return {
        "raw_shop.customers": 3,
        "raw_shop.customers__addresses": 2,
        "raw_shop.orders": 2,
        "raw_shop.orders__items": 3,
        "raw_shop.carts": 2,
        "raw_shop.carts__items": 2,
        "raw_pos.stores": 1,
        "raw_pos.loyalty_cards": 1,
        "raw_pos.receipts": 2,
        "raw_pos.receipt_lines": 3,
        "raw_clienteling.clients": 2,
        "raw_esp.contacts": 2,
        "raw_esp.campaigns": 1,
        "raw_esp.events": 3,
        "raw_web.events": 4,
        "raw_service.tickets": 2,
        "raw_spreadsheets.event_signups": 3,
        "raw_consent.consent_events": 1,
        "raw_catalog.products": 2,
    }


def web_events(n: int, start: int = 0, **extra_columns: pa.Array) -> pa.Table:
    import datetime as dt

    base = dt.datetime(2025, 1, 5, tzinfo=dt.UTC)
    columns = {
        "event_id": [f"W{start + i:06d}" for i in range(n)],
        "occurred_at": pa.array(
            [base + dt.timedelta(minutes=i) for i in range(n)], pa.timestamp("us", tz="UTC")
        ),
        "session_id": ["S1"] * n,
        "anonymous_id": ["A1"] * n,
        "user_id": [None] * (n - 1) + ["1"],
        "event_type": ["page_view"] * (n - 1) + ["login"],
        "page_url": ["/"] * n,
        "product_sku": [None] * n,
        "order_increment_id": [None] * n,
        "device": ["mobile"] * n,
        "utm_source": [None] * n,
        "utm_medium": [None] * n,
        "utm_campaign": [None] * n,
        "country": ["FR"] * n,
    }
    table = pa.table(
        {k: v if isinstance(v, pa.Array) else pa.array(v, pa.string()) for k, v in columns.items()}
    )
    for name, values in extra_columns.items():
        table = table.append_column(name, values)
    return table


def query(settings: Any, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def count(settings: Any, table: str) -> int:
    return query(settings, f"select count(*) from {table}")[0][0]


def columns(settings: Any, schema: str, table: str) -> list[str]:
    rows = query(
        settings,
        "select column_name from information_schema.columns "
        f"where table_schema = '{schema}' and table_name = '{table}' order by ordinal_position",
    )
    return [r[0] for r in rows]
