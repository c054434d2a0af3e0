"""Every source loads with the contract's tables, columns and row counts; re-runs are idempotent;
new files and changed records are picked up."""

from __future__ import annotations

import json
import os
import sqlite3
from decimal import Decimal

from ingestion.pipeline import run_all
from tests.ingestion.ingestion_fixtures import (
    CLIENT_HEADER,
    client_line,
    columns,
    count,
    customer,
    order,
    query,
)


def test_all_sources_load_then_rerun_loads_nothing(settings, landing):
    report = run_all(settings)
    assert report["errors"] == {}
    assert report["rows"] == landing
    for table, expected in landing.items():
        assert count(settings, table) == expected, table
    assert all(len(ids) == 1 for ids in report["load_ids"].values())

    # contract columns
    customers = columns(settings, "raw_shop", "customers")
    for col in (
        "entity_id",
        "extension_attributes__loyalty_card_id",
        "extension_attributes__is_subscribed",
        "_source_file",
        "_dlt_load_id",
        "_dlt_id",
    ):
        assert col in customers
    assert "addresses" not in customers
    assert {"customer_entity_id", "id", "street", "_source_file"} <= set(
        columns(settings, "raw_shop", "customers__addresses")
    )
    assert {"order_entity_id", "item_id", "sku"} <= set(
        columns(settings, "raw_shop", "orders__items")
    )
    assert {"cart_entity_id", "item_id"} <= set(columns(settings, "raw_shop", "carts__items"))
    assert {"billing_address__street", "billing_address__city", "payment__method"} <= set(
        columns(settings, "raw_shop", "orders")
    )
    assert query(settings, "select street from raw_shop.customers__addresses where id = 10") == [
        ("12 rue de la Paix\nApt 3",)
    ]
    assert query(
        settings,
        "select order_entity_id, count(*) from raw_shop.orders__items group by 1 order by 1",
    ) == [(10, 2), (11, 1)]
    assert query(settings, "select _source_file from raw_shop.orders limit 1") == [
        ("orders_2025-01.jsonl",)
    ]
    # spreadsheets: French headers mapped, title row above the header skipped, Latin-1 CSV
    signups = query(
        settings,
        "select source_file, source_row, last_name, first_name, phone, birth_date, postcode "
        "from raw_spreadsheets.event_signups order by source_file, source_row",
    )
    assert signups == [
        ("salon_2025.csv", 1, "Léger", "Hélène", "0622222222", "05/06/1990", "69001"),
        ("soiree_vip_2025.xlsx", 1, "Dupont", "Marie", "612345678", "1985-03-12", "75002"),
        ("soiree_vip_2025.xlsx", 2, "Martin", "Jean", "0611111111", "01/02/1980", "75003"),
    ]
    # typed columns
    assert query(
        settings, "select price, stock_qty, is_active from raw_catalog.products order by sku"
    ) == [
        (Decimal("120.00"), 12, True),
        (Decimal("60.50"), 0, False),
    ]
    assert query(settings, "select count(*) from raw_pos.receipt_lines where quantity < 0") == [
        (1,)
    ]
    assert set(columns(settings, "raw_pos", "receipts")) >= {
        "receipt_id",
        "total_amount",
        "_dlt_id",
    }

    # second run over the same files: nothing new, nothing duplicated
    again = run_all(settings)
    assert again["errors"] == {}
    assert again["rows"] == {}
    for table, expected in landing.items():
        assert count(settings, table) == expected, table


def test_new_file_and_changed_record_are_picked_up(settings, landing):
    run_all(settings, sources=["shop", "pos", "clienteling"])
    shop = settings.landing_dir / "shop"
    # customer 1 edited in February (newer updated_at), customer 4 is new
    (shop / "customers/customers_2025-02.jsonl").write_text(
        json.dumps(customer(1, updated_at="2025-02-10T10:00:00Z", lastname="Durand"))
        + "\n"
        + json.dumps(customer(4, updated_at="2025-02-11T10:00:00Z"))
        + "\n",
        encoding="utf-8",
    )
    # an order whose status changed, rewritten in the same month file (file fingerprint changes)
    path = shop / "orders/orders_2025-01.jsonl"
    path.write_text(
        json.dumps(order(10, 1, status="closed", updated_at="2025-01-20T10:00:00Z"))
        + "\n"
        + json.dumps(order(11, None, n_items=1))
        + "\n",
        encoding="utf-8",
    )
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    # clienteling: a later file repeats client 1 with a newer updated_at
    (settings.landing_dir / "clienteling/clients_2025-02.csv").write_text(
        "\n".join(
            [
                CLIENT_HEADER,
                client_line(1, updated_at="2025-02-02T00:00:00Z", first="Jeanne"),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    # POS: a receipt corrected (newer updated_at) and a new store
    db = sqlite3.connect(settings.landing_dir / "pos/pos.sqlite")
    db.execute(
        "update receipts set total_amount = 99.0, updated_at = '2025-02-01T00:00:00Z' "
        "where receipt_id = 'R-S001-0000001'"
    )
    db.execute(
        "insert into stores values ('S002','Lyon','outlet','1 rue X','69001','Lyon','FR',"
        "'2015-01-01','lyon@maison.fr','2025-02-01T00:00:00Z')"
    )
    db.commit()
    db.close()

    report = run_all(settings, sources=["shop", "pos", "clienteling"])
    assert report["errors"] == {}
    assert report["rows"]["raw_shop.customers"] == 2
    assert report["rows"]["raw_shop.orders"] == 2
    assert report["rows"]["raw_clienteling.clients"] == 1
    assert report["rows"]["raw_pos.receipts"] == 1
    assert report["rows"]["raw_pos.stores"] == 1
    assert "raw_shop.carts" not in report["rows"]  # untouched file skipped

    assert count(settings, "raw_shop.customers") == 4
    assert query(
        settings, "select lastname, _source_file from raw_shop.customers where entity_id = 1"
    ) == [("Durand", "customers_2025-02.jsonl")]
    assert count(settings, "raw_shop.customers__addresses") == 3
    assert query(settings, "select status from raw_shop.orders where entity_id = 10") == [
        ("closed",)
    ]
    assert count(settings, "raw_shop.orders__items") == 3
    assert query(
        settings, "select first_name from raw_clienteling.clients where client_id = 'CL-0000001'"
    ) == [("Jeanne",)]
    assert count(settings, "raw_clienteling.clients") == 2
    assert query(
        settings, "select total_amount from raw_pos.receipts where receipt_id = 'R-S001-0000001'"
    ) == [(99.0,)]
    assert count(settings, "raw_pos.receipts") == 2
    assert count(settings, "raw_pos.stores") == 2


def test_newest_version_wins_inside_one_load(settings, landing):
    """Two versions of one key arriving in the same run: the newer `updated_at` is kept."""
    shop = settings.landing_dir / "shop/customers"
    (shop / "customers_2025-02.jsonl").write_text(
        json.dumps(customer(2, updated_at="2025-02-10T10:00:00Z", lastname="Newer")) + "\n",
        encoding="utf-8",
    )
    (shop / "customers_2025-03.jsonl").write_text(
        json.dumps(customer(2, updated_at="2025-02-01T10:00:00Z", lastname="Older")) + "\n",
        encoding="utf-8",
    )
    run_all(settings, sources=["shop"])
    assert query(settings, "select lastname from raw_shop.customers where entity_id = 2") == [
        ("Newer",)
    ]
    assert count(settings, "raw_shop.customers") == 3


def test_a_late_file_adds_its_new_records_but_never_puts_back_an_older_version(settings, landing):
    """Across loads the version with the newest `updated_at` stays, whatever order the files
    arrive in; a late file's new records load, and its older versions (and their addresses)
    do not replace the loaded ones. An equal `updated_at` loads (a correction)."""
    shop = settings.landing_dir / "shop/customers"
    newer = customer(2, updated_at="2025-02-10T10:00:00Z", lastname="Newer")
    newer["addresses"][0]["city"] = "Lyon"
    (shop / "customers_2025-02.jsonl").write_text(json.dumps(newer) + "\n", encoding="utf-8")
    run_all(settings, sources=["shop"])
    older = customer(2, updated_at="2025-01-20T10:00:00Z", lastname="Older")
    older["addresses"][0]["city"] = "Nantes"
    late = [older, customer(7, lastname="Late"), {**newer, "firstname": "Corrected"}]
    (shop / "customers_2024-12.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in late[:2]), encoding="utf-8"
    )
    report = run_all(settings, sources=["shop"])
    assert report["errors"] == {}
    assert query(
        settings, "select lastname from raw_shop.customers where entity_id in (2, 7) order by 1"
    ) == [("Late",), ("Newer",)]
    assert query(
        settings, "select city from raw_shop.customers__addresses where customer_entity_id = 2"
    ) == [("Lyon",)]
    (shop / "customers_2024-12.jsonl").write_text(json.dumps(late[2]) + "\n", encoding="utf-8")
    run_all(settings, sources=["shop"])
    assert query(settings, "select firstname from raw_shop.customers where entity_id = 2") == [
        ("Corrected",)
    ]


def test_the_late_file_check_reads_the_warehouse_once_per_table_and_run(
    settings, landing, monkeypatch
):
    """Many late files in one run: their older versions are all left out, with one warehouse
    session per table (customers and its addresses), not one per file."""
    import dlt

    run_all(settings, sources=["shop"])
    shop = settings.landing_dir / "shop/customers"
    newer = customer(2, updated_at="2025-02-10T10:00:00Z", lastname="Newer")
    (shop / "customers_2025-02.jsonl").write_text(json.dumps(newer) + "\n", encoding="utf-8")
    run_all(settings, sources=["shop"])
    for n in range(25):
        old = customer(2, updated_at=f"2025-01-{n + 1:02d}T10:00:00Z", lastname="Older")
        old["addresses"][0]["city"] = "Nantes"
        late = [old, customer(100 + n, lastname="Late")]
        (shop / f"customers_2024-late-{n:02d}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in late), encoding="utf-8"
        )
    sessions = []
    original = dlt.Pipeline.sql_client

    def counting(self, *args, **kwargs):
        sessions.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(dlt.Pipeline, "sql_client", counting)
    report = run_all(settings, sources=["shop"])
    assert report["errors"] == {}
    assert len(sessions) == 2
    assert query(settings, "select lastname from raw_shop.customers where entity_id = 2") == [
        ("Newer",)
    ]
    assert query(settings, "select count(*) from raw_shop.customers where lastname = 'Late'") == [
        (25,)
    ]
    assert query(
        settings, "select city from raw_shop.customers__addresses where customer_entity_id = 2"
    ) == [("Paris",)]
