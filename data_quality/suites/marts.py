"""Suites for the marts read by ML, BI and activation (`docs/data_contract.md`)."""

from __future__ import annotations

from data_quality.suites.base import (
    MetricCheck,
    TableSuite,
    accepted_values,
    between,
    birth_date_plausible,
    e164,
    email_format,
    event_freshness,
    non_negative,
    not_in_future,
    not_null,
    null_share,
    orphans,
    primary_key,
    q,
    share,
    sign_matches_return,
    volume,
)

RFM_SEGMENTS = (
    "champions",
    "loyal",
    "potential_loyalist",
    "new_customers",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cannot_lose",
    "hibernating",
    "lost",
)


def _mart(table: str, key: tuple[str, ...], *checks) -> TableSuite:
    return TableSuite(
        schema="marts",
        table=table,
        key=key,
        checks=(*primary_key(*key), *checks, volume()),
        layer="mart",
    )


def unreadable_consent_persons() -> MetricCheck:
    """Persons held at "no consent" by a statement config/consent.yaml could not read.

    They are already treated as not consenting (fail safe); the check is an error on a
    blocking asset so that someone fixes the statements (or the vocabulary) before the syncs
    run again.
    """
    return MetricCheck(
        "unreadable_consent_persons",
        "not_null",
        sql=lambda ctx: (
            f"SELECT count(DISTINCT person_id) FROM {ctx.relation} WHERE has_unreadable_statement"
        ),
        bounds=lambda ctx: (None, 0),
        column="has_unreadable_statement",
        requires=("has_unreadable_statement",),
        sample_sql=lambda ctx, n: (
            f"SELECT channel, purpose, count(DISTINCT person_id) AS persons FROM {ctx.relation} "
            f"WHERE has_unreadable_statement GROUP BY ALL ORDER BY persons DESC LIMIT {n}"
        ),
        null_means="pass",
        description="persons with an unreadable consent statement (treated as not consenting)",
        severity="error",
    )


def _ids(column: str) -> str:
    return f"coalesce(len({q(column)}), 0)"


MERGED = " + ".join(
    _ids(c) for c in ("shop_customer_ids", "loyalty_card_ids", "clienteling_ids", "esp_contact_ids")
)

MART_SUITES: tuple[TableSuite, ...] = (
    _mart(
        "orders",
        ("order_key",),
        orphans("person_id", "marts.customer_360", "person_id"),
        accepted_values("channel", ("web", "store")),
        accepted_values("currency", ("EUR",)),
        not_in_future("ordered_at"),
        # returns (store return receipts) carry negative amounts, purchases never do
        sign_matches_return("gross_amount_sign", "gross_amount"),
        sign_matches_return("net_amount_sign", "net_amount"),
        event_freshness("ordered_at"),
    ),
    _mart(
        "order_lines",
        ("order_line_key",),
        orphans("order_key", "marts.orders", "order_key"),
        orphans("person_id", "marts.customer_360", "person_id"),
        not_null("order_key"),
        non_negative("unit_price"),
        not_in_future("ordered_at"),
    ),
    _mart(
        "customer_360",
        ("person_id",),
        email_format("email", normalised=True),
        e164("phone"),
        birth_date_plausible("birth_date"),
        not_in_future("last_order_at"),
        non_negative("orders_count"),
        between("rfm_recency_score", 1, 5, check_id="rfm_recency_score_range", optional=True),
        between("rfm_frequency_score", 1, 5, check_id="rfm_frequency_score_range", optional=True),
        between("rfm_monetary_score", 1, 5, check_id="rfm_monetary_score_range", optional=True),
        # anonymous web visitors have no e-mail by definition: count identified persons only
        null_share("email", 0.5, among="is_identified"),
        share(
            "merged_person_share",
            f"({MERGED}) > 1",
            column="shop_customer_ids,loyalty_card_ids,clienteling_ids,esp_contact_ids",
            requires=(
                "shop_customer_ids",
                "loyalty_card_ids",
                "clienteling_ids",
                "esp_contact_ids",
            ),
            min_value=0.05,
            max_value=0.95,
            description="share of persons built from more than one source record",
        ),
    ),
    _mart(
        "customer_consent",
        ("person_id", "channel", "purpose"),
        orphans("person_id", "marts.customer_360", "person_id"),
        accepted_values("channel", ("email", "sms", "phone", "ads")),
        accepted_values("purpose", ("marketing", "profiling")),
        not_null("is_granted"),
        not_in_future("status_at"),
        unreadable_consent_persons(),
    ),
    _mart(
        "engagement",
        ("person_id",),
        orphans("person_id", "marts.customer_360", "person_id"),
    ),
    _mart(
        "rfm",
        ("person_id",),
        orphans("person_id", "marts.customer_360", "person_id"),
        between("r_score", 1, 5, check_id="r_score_range"),
        between("f_score", 1, 5, check_id="f_score_range"),
        between("m_score", 1, 5, check_id="m_score_range"),
        non_negative("recency_days"),
        accepted_values("rfm_segment", RFM_SEGMENTS),
    ),
    TableSuite(
        schema="marts",
        table="customer_timeline",
        key=(),
        checks=(
            not_null("person_id"),
            orphans("person_id", "marts.customer_360", "person_id"),
            not_in_future("occurred_at"),
            volume(),
        ),
        layer="mart",
    ),
    # customer_360 with the ML scores (built after ml.churn_scores)
    _mart(
        "customer_profiles",
        ("person_id",),
        orphans("person_id", "marts.customer_360", "person_id"),
        between("churn_probability", 0, 1, check_id="churn_probability_range", optional=True),
    ),
    _mart(
        "service_tickets",
        ("ticket_id",),
        orphans("person_id", "marts.customer_360", "person_id"),
        between("satisfaction", 1, 5, check_id="satisfaction_range"),
        not_in_future("created_at"),
    ),
)
