"""Contract-shaped synthetic marts built in DuckDB SQL (for tests, the demo self-check and the
1.4M-person scale measurement). Deterministic for a given size."""

from __future__ import annotations

import duckdb

from cdp_demo.fakes.marts import create_contract_marts


def create_synthetic_marts(con: duckdb.DuckDBPyConnection, persons: int) -> None:
    create_contract_marts(con)
    con.execute(
        f"""INSERT INTO marts.customer_360 (
            person_id, first_name, last_name, email, phone, country, shop_customer_ids,
            orders_count, revenue_total, orders_12m, revenue_12m, favourite_store_id,
            favourite_channel, email_opens_90d, email_clicks_90d, first_order_at, last_order_at,
            has_open_abandoned_cart, abandoned_cart_at, abandoned_cart_value, rfm_segment,
            is_identified, as_of_date)
        SELECT
            'P' || lpad(CAST(i AS VARCHAR), 7, '0'),
            'First' || i, 'Last' || i,
            'user' || i || '@example.com',
            '+336' || lpad(CAST(i % 100000000 AS VARCHAR), 8, '0'),
            'FR',
            CASE WHEN i % 3 = 0 THEN [] ELSE ['S' || i] END,
            CAST(i % 7 AS INTEGER),
            CAST((i * 37) % 3000 AS DECIMAL(18,2)),
            CAST(i % 4 AS INTEGER),
            CAST((i * 13) % 1500 AS DECIMAL(18,2)),
            'S' || lpad(CAST(i % 40 AS VARCHAR), 3, '0'),
            CASE WHEN i % 2 = 0 THEN 'store' ELSE 'web' END,
            CAST(i % 5 AS INTEGER), CAST(i % 3 AS INTEGER),
            current_date - CAST(i % 900 AS INTEGER) * INTERVAL 1 DAY,
            current_date - CAST(i % 500 AS INTEGER) * INTERVAL 1 DAY,
            i % 11 = 0,
            CASE WHEN i % 11 = 0 THEN current_date - CAST(i % 10 AS INTEGER) * INTERVAL 1 DAY END,
            CASE WHEN i % 11 = 0 THEN CAST(i % 400 AS DECIMAL(18,2)) END,
            'loyal',
            true,
            current_date
        FROM range(1, {int(persons)} + 1) t(i)"""
    )
    con.execute(
        """INSERT INTO ml.churn_scores
               (person_id, churn_probability, churn_risk_band, expected_orders, expected_revenue)
           SELECT person_id, (hash(person_id) % 1000) / 1000.0,
                  CASE WHEN hash(person_id) % 1000 >= 600 THEN 'high' ELSE 'low' END,
                  (hash(person_id) % 50) / 10.0, (hash(person_id) % 2000) * 1.0
           FROM marts.customer_360"""
    )
    # ~80% e-mail consent, ~60% ads, ~50% phone; some explicit withdrawals
    con.execute(
        """INSERT INTO marts.customer_consent
               (person_id, channel, purpose, is_granted, status_at, source)
           SELECT person_id, ch.channel, 'marketing',
                  (hash(person_id || ch.channel) % 100) < ch.pct,
                  TIMESTAMP '2026-01-01', 'preference_centre'
           FROM marts.customer_360,
                (VALUES ('email', 80), ('ads', 60), ('phone', 50)) ch(channel, pct)"""
    )
