"""A small warehouse shaped like the real one around two persons (identity graph, identity
records, marts, scores, sync state), for the request, access and erasure tests."""

from __future__ import annotations

import duckdb

MARIE = {"email": "marie.dupont@gmail.com", "phone": "+33612345678", "person_id": "P1"}
JEAN = {"email": "jean.martin@example.fr", "phone": "+33698765432", "person_id": "P2"}


def build(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA identity; CREATE SCHEMA intermediate; CREATE SCHEMA marts")
    con.execute("CREATE SCHEMA ml; CREATE SCHEMA activation")
    con.execute(
        "CREATE TABLE intermediate.int_identity_records_unioned AS SELECT * FROM (VALUES "
        "('shop_customer:1', 'shop_customer', '1', 'Marie', 'marie.dupont@gmail.com', "
        "'+33612345678'), "
        "('pos_card:9', 'pos_card', '9', 'Marie', NULL, '+33612345678'), "
        "('shop_customer:2', 'shop_customer', '2', 'Jean', 'jean.martin@example.fr', "
        "'+33698765432')) t(record_id, source_system, source_key, first_name, email, phone)"
    )
    con.execute(
        "CREATE TABLE identity.identity_graph AS SELECT * FROM (VALUES "
        "('shop_customer:1', 'P1'), ('pos_card:9', 'P1'), ('shop_customer:2', 'P2')) "
        "t(record_id, person_id)"
    )
    con.execute(
        "CREATE TABLE marts.customer_360 AS SELECT * FROM (VALUES "
        "('P1', 'Marie', 'shop_customer', 'marie.dupont@gmail.com'), "
        "('P2', 'Jean', 'shop_customer', 'jean.martin@example.fr')) "
        "t(person_id, first_name, first_name_source, email)"
    )
    con.execute(
        "CREATE TABLE marts.orders AS SELECT * FROM (VALUES "
        "('o1', 'P1', 120.0), ('o2', 'P1', 30.0), ('o3', 'P2', 50.0)) "
        "t(order_key, person_id, net_amount)"
    )
    con.execute(
        "CREATE TABLE ml.churn_scores AS SELECT * FROM (VALUES "
        "('P1', 0.2, 'churn-20260101-abc'), ('P2', 0.7, 'churn-20260101-abc')) "
        "t(person_id, churn_probability, model_version)"
    )
    con.execute(
        "CREATE TABLE activation.sync_state AS SELECT * FROM (VALUES "
        "('hubspot', 'marie.dupont@gmail.com', 'h1'), ('hubspot', 'jean.martin@example.fr', 'h2'))"
        " t(sync_name, key, hash)"
    )
