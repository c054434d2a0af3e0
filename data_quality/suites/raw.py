"""Suites for every raw table the source packages declare (`ingestion/sources/<source>/`)."""

from __future__ import annotations

from data_quality.outliers import AMOUNTS, RULE, AmountColumn, predicate
from data_quality.suites.base import (
    MetricCheck,
    SuiteContext,
    TableSuite,
    accepted_values,
    between,
    birth_date_plausible,
    dmy,
    email_format,
    event_freshness,
    load_freshness,
    non_negative,
    not_in_future,
    not_null,
    null_share,
    num,
    orphans,
    primary_key,
    q,
    rejected_rows,
    rule,
    share,
    sign_matches_return,
    volume,
)
from ingestion.sources.specs import raw_tables, table_spec


def raw_suite(
    source: str,
    table: str,
    key: tuple[str, ...],
    *checks,
    event_time: str | None = None,
    parser=None,
):
    """The suite of `raw_<source>.<table>`, a table the source package declares.

    Every column the suite reads (key, checks, event time) must be a declared column of that
    table (`ingestion.sources.specs`): a check of a renamed or dropped column fails here, at
    import, not as a skipped check at run time. Loader columns (`_dlt_*`, `_source_file`)
    are not declared.
    """
    schema = f"raw_{source}"
    common = [volume(), load_freshness(), rejected_rows(schema, table)]
    if event_time:
        common.append(
            event_freshness(event_time)
            if parser is None
            else event_freshness(event_time, parser=parser)
        )
    suite = TableSuite(
        schema=schema,
        table=table,
        key=key,
        checks=(*primary_key(*key), *checks, *common),
        layer="raw",
    )
    declared = set(raw_tables(source)[table].names)
    read = {c for check in suite.checks for c in check.needed if not c.startswith("_")}
    if undeclared := sorted(read - declared):
        raise ValueError(f"{suite.name}: the suite reads undeclared columns {undeclared}")
    return suite


def child_suite(source: str, table: str, *checks):
    """The suite of the child table `<parent>__<field>`: its key, and the check that every row
    has its parent, come from the `ChildSpec` the source declares."""
    parent_name, field = table.split("__")
    parent = table_spec(source, parent_name)
    child = next(c for c in parent.children if c.field == field)
    parent_key = parent.schema.field(0).name  # the parent's key leads its columns (specs.py)
    has_parent = orphans(child.parent_key, f"raw_{source}.{parent_name}", parent_key)
    return raw_suite(source, table, child.primary_key, has_parent, *checks)


def line_item_checks(quantity: str) -> tuple:
    """What a line of an order or a cart must hold: a plausible quantity, a price >= 0."""
    return (between(quantity, 0, 1000, check_id=f"{quantity}_range"), non_negative("price"))


def absurd_amounts(amount: AmountColumn) -> MetricCheck:
    """Raw suite check: how many rows carry an absurd amount (quarantined, reported)."""

    def sql(ctx: SuiteContext) -> str:
        where = predicate(amount, ctx.config.amount_outliers, amount.column)
        return f"SELECT count(*) FROM {ctx.relation} WHERE {where}"

    def sample(ctx: SuiteContext, n: int) -> str:
        where = predicate(amount, ctx.config.amount_outliers, amount.column)
        return f"SELECT {q(amount.column)} FROM {ctx.relation} WHERE {where} LIMIT {n}"

    return MetricCheck(
        f"{amount.column}_absurd_amounts",
        "distribution",
        sql=sql,
        bounds=lambda ctx: (None, 0),
        column=amount.column,
        requires=(amount.column,),
        sample_sql=sample,
        description=f"rows whose {amount.column} is absurd (quarantined: {RULE})",
    )


ORDER_STATUSES = ("complete", "processing", "canceled", "closed")

RAW_SUITES: tuple[TableSuite, ...] = (
    # 1. shop -----------------------------------------------------------------------------
    raw_suite(
        "shop",
        "customers",
        ("entity_id",),
        email_format("email"),
        not_in_future("created_at"),
        not_in_future("updated_at"),
        birth_date_plausible("dob"),
        accepted_values("gender", (1, 2)),
        null_share("email", 0.05),
        event_time="updated_at",
    ),
    child_suite("shop", "customers__addresses"),
    raw_suite(
        "shop",
        "orders",
        ("entity_id",),
        orphans("customer_id", "raw_shop.customers", "entity_id"),
        email_format("customer_email"),
        not_in_future("created_at"),
        accepted_values("status", ORDER_STATUSES),
        accepted_values("order_currency_code", ("EUR",)),
        non_negative("subtotal"),
        non_negative("grand_total"),
        non_negative("shipping_amount"),
        non_negative("total_refunded"),
        between("discount_amount", None, 0, check_id="discount_amount_not_positive"),
        rule(
            "refund_not_above_total",
            "range",
            "total_refunded",
            f"{num('total_refunded')} IS NULL OR {num('total_refunded')} <= {num('grand_total')} + 0.01",
            ("total_refunded", "grand_total"),
        ),
        absurd_amounts(AMOUNTS[0]),
        event_time="created_at",
    ),
    child_suite(
        "shop", "orders__items", *line_item_checks("qty_ordered"), non_negative("row_total")
    ),
    raw_suite(
        "shop",
        "carts",
        ("entity_id",),
        orphans("customer_id", "raw_shop.customers", "entity_id"),
        not_in_future("created_at"),
        not_in_future("updated_at"),
        non_negative("grand_total"),
        event_time="updated_at",
    ),
    child_suite("shop", "carts__items", *line_item_checks("qty")),
    # 2. pos ------------------------------------------------------------------------------
    raw_suite(
        "pos",
        "stores",
        ("store_id",),
        accepted_values("kind", ("boutique", "outlet", "corner")),
        email_format("generic_email"),
    ),
    raw_suite(
        "pos",
        "loyalty_cards",
        ("card_id",),
        orphans("store_id", "raw_pos.stores", "store_id"),
        email_format("email"),
        accepted_values("status", ("active", "closed")),
        birth_date_plausible("birth_date"),
        not_in_future("issued_at"),
        event_time="updated_at",
    ),
    raw_suite(
        "pos",
        "receipts",
        ("receipt_id",),
        orphans("store_id", "raw_pos.stores", "store_id"),
        orphans("card_id", "raw_pos.loyalty_cards", "card_id"),
        not_in_future("sold_at"),
        sign_matches_return(
            "total_sign_matches_return_flag",
            "total_amount",
            flag_sql=f"try_cast({q('is_return')} AS INTEGER) = 1",
        ),
        absurd_amounts(AMOUNTS[1]),
        event_time="sold_at",
    ),
    raw_suite(
        "pos",
        "receipt_lines",
        ("receipt_id", "line_no"),
        orphans("receipt_id", "raw_pos.receipts", "receipt_id"),
        non_negative("unit_price"),
        rule(
            "quantity_not_zero",
            "range",
            "quantity",
            f"{num('quantity')} <> 0",
            ("quantity",),
        ),
    ),
    # 3. clienteling ----------------------------------------------------------------------
    raw_suite(
        "clienteling",
        "clients",
        ("client_id",),
        email_format("email"),
        accepted_values("opt_in_email", ("Y", "N")),
        accepted_values("opt_in_sms", ("Y", "N")),
        birth_date_plausible("birth_date", parser=dmy),
        not_in_future("updated_at"),
        event_time="updated_at",
    ),
    # 4. esp ------------------------------------------------------------------------------
    raw_suite(
        "esp",
        "contacts",
        ("contact_id",),
        email_format("email"),
        accepted_values("subscribed_email", (0, 1)),
        accepted_values("subscribed_sms", (0, 1)),
        not_in_future("updated_at"),
        event_time="updated_at",
    ),
    raw_suite(
        "esp",
        "campaigns",
        ("campaign_id",),
        accepted_values("channel", ("email", "sms")),
        not_in_future("sent_at"),
    ),
    raw_suite(
        "esp",
        "events",
        ("event_id",),
        orphans("campaign_id", "raw_esp.campaigns", "campaign_id"),
        orphans("contact_id", "raw_esp.contacts", "contact_id"),
        accepted_values(
            "event_type", ("sent", "delivered", "open", "click", "bounce", "unsubscribe")
        ),
        not_in_future("occurred_at"),
        event_time="occurred_at",
    ),
    # 5. web ------------------------------------------------------------------------------
    raw_suite(
        "web",
        "events",
        ("event_id",),
        not_null("anonymous_id"),
        accepted_values(
            "event_type",
            ("page_view", "product_view", "add_to_cart", "checkout", "purchase", "login"),
        ),
        not_in_future("occurred_at"),
        share(
            "anonymous_event_share",
            f"{q('user_id')} IS NULL",
            column="user_id",
            requires=("user_id",),
            min_value=0.2,
            max_value=0.98,
            description="share of web events without a logged-in user",
        ),
        event_time="occurred_at",
    ),
    # 6. service --------------------------------------------------------------------------
    raw_suite(
        "service",
        "tickets",
        ("ticket_id",),
        email_format("requester_email"),
        accepted_values("channel", ("email", "phone", "chat", "store")),
        accepted_values("status", ("open", "pending", "solved", "closed")),
        between("satisfaction", 1, 5, check_id="satisfaction_range"),
        not_in_future("created_at"),
        event_time="created_at",
    ),
    # 7. spreadsheets ---------------------------------------------------------------------
    raw_suite(
        "spreadsheets",
        "event_signups",
        ("source_file", "source_row"),
        email_format("email"),
        not_null("event_name"),
        not_in_future("event_date", parser=dmy),
    ),
    # 8. consent --------------------------------------------------------------------------
    raw_suite(
        "consent",
        "consent_events",
        ("event_id",),
        accepted_values("channel", ("email", "sms", "phone", "ads")),
        accepted_values("purpose", ("marketing", "profiling")),
        accepted_values("status", ("granted", "withdrawn")),
        rule(
            "has_an_identifier",
            "not_null",
            "email,phone,shop_customer_id",
            "email IS NOT NULL OR phone IS NOT NULL OR shop_customer_id IS NOT NULL",
            ("email", "phone", "shop_customer_id"),
        ),
        email_format("email"),
        not_in_future("occurred_at"),
        event_time="occurred_at",
    ),
    # 9. catalog --------------------------------------------------------------------------
    raw_suite(
        "catalog",
        "products",
        ("sku",),
        non_negative("price"),
        non_negative("cost"),
        non_negative("stock_qty"),
        accepted_values(
            "category", ("bags", "shoes", "ready_to_wear", "jewellery", "accessories", "beauty")
        ),
        not_in_future("launched_at"),
    ),
)
