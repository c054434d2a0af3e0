"""Shop (Magento-like REST dump): customers, orders and carts as monthly JSON lines.

Raw tables in `raw_shop`: `customers`, `customers__addresses`, `orders`, `orders__items`,
`carts`, `carts__items`. Nested objects are flattened (`extension_attributes__loyalty_card_id`,
`billing_address__city`, `payment__method`); street arrays are joined with newlines; the
address / item arrays are exploded in Arrow into child tables that carry the parent key.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from ingestion.sources._common import (
    ChildSpec,
    TableSpec,
    file_source,
)
from ingestion.sources._model import MONEY, TEXT

# The postal part shared by account addresses and order billing addresses.
_POSTAL = [
    ("street", pa.list_(TEXT)),
    ("postcode", TEXT),
    ("city", TEXT),
    ("country_id", TEXT),
    ("telephone", TEXT),
    ("firstname", TEXT),
    ("lastname", TEXT),
]

_ADDRESS = pa.struct(
    [
        ("id", pa.int64()),
        *_POSTAL,
        ("default_billing", pa.bool_()),
        ("default_shipping", pa.bool_()),
    ]
)

CUSTOMERS = TableSpec(
    name="customers",
    description="Shop accounts, one row per `entity_id` (latest `updated_at` wins).",
    schema=pa.schema(
        [
            ("entity_id", pa.int64()),
            ("email", TEXT),
            ("firstname", TEXT),
            ("lastname", TEXT),
            ("dob", TEXT),
            ("gender", pa.int64()),
            ("created_at", TEXT),
            ("updated_at", TEXT),
            ("group_id", pa.int64()),
            ("store_id", pa.int64()),
            ("website_id", pa.int64()),
            ("addresses", pa.list_(_ADDRESS)),
            (
                "extension_attributes",
                pa.struct([("loyalty_card_id", TEXT), ("is_subscribed", pa.bool_())]),
            ),
        ]
    ),
    children=(ChildSpec("addresses", "customer_entity_id", ("id",), owner="shop_customer"),),
    records=(("shop_customer", ("entity_id",)),),
)

ORDERS = TableSpec(
    name="orders",
    description="Web orders, one row per `entity_id` (guest orders have no `customer_id`).",
    schema=pa.schema(
        [
            ("entity_id", pa.int64()),
            ("increment_id", TEXT),
            ("customer_id", pa.int64()),
            ("customer_is_guest", pa.bool_()),
            ("customer_email", TEXT),
            ("customer_firstname", TEXT),
            ("customer_lastname", TEXT),
            ("created_at", TEXT),
            ("updated_at", TEXT),
            ("status", TEXT),
            ("order_currency_code", TEXT),
            ("subtotal", MONEY),
            ("discount_amount", MONEY),
            ("shipping_amount", MONEY),
            ("tax_amount", MONEY),
            ("grand_total", MONEY),
            ("total_refunded", MONEY),
            ("billing_address", pa.struct(_POSTAL)),
            ("payment", pa.struct([("method", TEXT)])),
            (
                "items",
                pa.list_(
                    pa.struct(
                        [
                            ("item_id", pa.int64()),
                            ("sku", TEXT),
                            ("name", TEXT),
                            ("qty_ordered", pa.int64()),
                            ("qty_refunded", pa.int64()),
                            ("price", MONEY),
                            ("discount_amount", MONEY),
                            ("row_total", MONEY),
                        ]
                    )
                ),
            ),
        ]
    ),
    children=(ChildSpec("items", "order_entity_id", ("item_id",), owner="shop_order"),),
    records=(("shop_guest_order", ("increment_id",)), ("shop_order", ("entity_id",))),
    references=(("customer_id", "shop_customer"),),
)

CARTS = TableSpec(
    name="carts",
    description="Shop quotes (carts); abandoned = active, not converted, idle for an hour.",
    schema=pa.schema(
        [
            ("entity_id", pa.int64()),
            ("customer_id", pa.int64()),
            ("customer_email", TEXT),
            ("created_at", TEXT),
            ("updated_at", TEXT),
            ("is_active", pa.bool_()),
            ("converted_order_id", pa.int64()),
            ("grand_total", MONEY),
            (
                "items",
                pa.list_(
                    pa.struct(
                        [
                            ("item_id", pa.int64()),
                            ("sku", TEXT),
                            ("qty", pa.int64()),
                            ("price", MONEY),
                        ]
                    )
                ),
            ),
        ]
    ),
    children=(ChildSpec("items", "cart_entity_id", ("item_id",), owner="shop_cart"),),
    records=(("shop_cart", ("entity_id",)),),
    references=(("customer_id", "shop_customer"),),
)

TABLES: Sequence[TableSpec] = (CUSTOMERS, ORDERS, CARTS)


shop = file_source("shop", TABLES, "The shop extracts (`customers/`, `orders/`, `carts/`)")
