"""The marts activation reads, as documented in docs/data_contract.md.

Used to validate segment conditions and sync SQL before the dbt marts exist, and by tests to
create contract-shaped tables.
"""

from __future__ import annotations

import duckdb

from cdp.warehouse import table_exists

CUSTOMER_360 = "marts.customer_360"
CUSTOMER_CONSENT = "marts.customer_consent"
CHURN_SCORES = "ml.churn_scores"
PURCHASE_SCORES = "ml.purchase_scores"

CUSTOMER_360_COLUMNS: dict[str, str] = {
    "person_id": "VARCHAR",
    "is_identified": "BOOLEAN",
    "first_name": "VARCHAR",
    "last_name": "VARCHAR",
    "email": "VARCHAR",
    "phone": "VARCHAR",
    "birth_date": "DATE",
    "street": "VARCHAR",
    "postcode": "VARCHAR",
    "city": "VARCHAR",
    "country": "VARCHAR",
    "shop_customer_ids": "VARCHAR[]",
    "loyalty_card_ids": "VARCHAR[]",
    "clienteling_ids": "VARCHAR[]",
    "esp_contact_ids": "VARCHAR[]",
    "consent_email_marketing": "BOOLEAN",
    "consent_sms_marketing": "BOOLEAN",
    "consent_phone_marketing": "BOOLEAN",
    "consent_ads_marketing": "BOOLEAN",
    "first_order_at": "TIMESTAMP",
    "last_order_at": "TIMESTAMP",
    "orders_count": "INTEGER",
    "revenue_total": "DECIMAL(18,2)",
    "orders_12m": "INTEGER",
    "revenue_12m": "DECIMAL(18,2)",
    "avg_basket": "DECIMAL(18,2)",
    "favourite_store_id": "VARCHAR",
    "favourite_channel": "VARCHAR",
    "favourite_category": "VARCHAR",
    "returns_count": "INTEGER",
    "email_opens_30d": "INTEGER",
    "email_clicks_30d": "INTEGER",
    "email_opens_90d": "INTEGER",
    "email_clicks_90d": "INTEGER",
    "web_sessions_90d": "INTEGER",
    "last_seen_at": "TIMESTAMP",
    "has_open_abandoned_cart": "BOOLEAN",
    "abandoned_cart_at": "TIMESTAMP",
    "abandoned_cart_value": "DECIMAL(18,2)",
    "rfm_recency_score": "INTEGER",
    "rfm_frequency_score": "INTEGER",
    "rfm_monetary_score": "INTEGER",
    "rfm_segment": "VARCHAR",
    "as_of_date": "DATE",
}

# ml.churn_scores is joined on person_id; any extra columns it has become available to
# segment conditions. These are the ones the shipped examples use.
CHURN_SCORES_COLUMNS: dict[str, str] = {
    "person_id": "VARCHAR",
    "churn_probability": "DOUBLE",
    "churn_risk_band": "VARCHAR",
    "expected_orders": "DOUBLE",
    "expected_revenue": "DOUBLE",
}

# ml.purchase_scores (docs/predictions.md) is joined the same way.
PURCHASE_SCORES_COLUMNS: dict[str, str] = {
    "person_id": "VARCHAR",
    "purchase_propensity": "DOUBLE",
    "propensity_decile": "BIGINT",
    "lead_score": "DOUBLE",
    "leads_decile": "BIGINT",
}
SCORE_TABLES = {CHURN_SCORES: CHURN_SCORES_COLUMNS, PURCHASE_SCORES: PURCHASE_SCORES_COLUMNS}

CUSTOMER_CONSENT_COLUMNS: dict[str, str] = {
    "person_id": "VARCHAR",
    "channel": "VARCHAR",
    "purpose": "VARCHAR",
    "is_granted": "BOOLEAN",
    "status_at": "TIMESTAMP",
    "source": "VARCHAR",
}


def create_table_sql(name: str, columns: dict[str, str]) -> str:
    cols = ", ".join(f'"{c}" {t}' for c, t in columns.items())
    return f"CREATE TABLE {name} ({cols})"


def create_contract_tables(con: duckdb.DuckDBPyConnection, *, churn: bool = True) -> None:
    """Create empty contract-shaped marts (for tests and for validation on an empty database)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(create_table_sql(CUSTOMER_360, CUSTOMER_360_COLUMNS))
    con.execute(create_table_sql(CUSTOMER_CONSENT, CUSTOMER_CONSENT_COLUMNS))
    if churn:
        con.execute("CREATE SCHEMA IF NOT EXISTS ml")
        con.execute(create_table_sql(CHURN_SCORES, CHURN_SCORES_COLUMNS))


def relation_columns(con: duckdb.DuckDBPyConnection, qualified: str) -> list[str]:
    schema, name = qualified.split(".")
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    return [r[0] for r in rows]


def base_sql(con: duckdb.DuckDBPyConnection) -> str:
    """SELECT over customer_360 left-joined with each ML score table of `SCORE_TABLES`.

    The same join as the dbt mart customer_profiles (for churn), made here at query time so
    that segments compile before ML has ever run. A column of customer_360 wins over a score
    column of the same name, then the first score table that has it, so the join never creates
    ambiguous names. A score table that does not exist yet exposes its documented columns as
    NULLs, so that conditions on them compile and simply match nobody.
    """
    if not table_exists(con, CUSTOMER_360):
        raise LookupError(f"{CUSTOMER_360} does not exist yet (built by dbt)")
    seen = set(relation_columns(con, CUSTOMER_360))
    select, joins = ["c.*"], []
    for i, (table, documented) in enumerate(SCORE_TABLES.items()):
        if table_exists(con, table):
            extra = [c for c in relation_columns(con, table) if c not in seen]
            select += [f's{i}."{c}"' for c in extra]
            if extra:
                joins.append(f"LEFT JOIN {table} AS s{i} ON s{i}.person_id = c.person_id")
        else:
            extra = [c for c in documented if c not in seen]
            select += [f'CAST(NULL AS {documented[c]}) AS "{c}"' for c in extra]
        seen.update(extra)
    return f"SELECT {', '.join(select)} FROM {CUSTOMER_360} AS c {' '.join(joins)}".strip()
