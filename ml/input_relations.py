"""The warehouse relations the models' inputs are read from (dbt model name -> relation),
declared once for `ml.inputs.sources` and for the lineage of the `ml/inputs` asset, which
imports this without the rest of `ml`."""

RELATIONS = {
    "orders": "marts.orders",
    "order_lines": "marts.order_lines",
    "service_tickets": "marts.service_tickets",
    "customer_timeline": "marts.customer_timeline",
    "stg_web__events": "staging.stg_web__events",
    "int_web_sessions_attributed": "intermediate.int_web_sessions_attributed",
    "stg_catalog__products": "staging.stg_catalog__products",
}
