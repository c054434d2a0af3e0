{#- customer_360 with the ML scores of each person (ml.churn_scores): churn probability and
    risk band, expected orders and revenue over the value horizon (365 days by default), and
    the version of the model that scored. The scores are written by the Dagster asset
    ["ml", "churn_scores"], which reads the marts: this model is built after it, so no mart
    depends on the build order. A person without a score (no purchase yet) has null scores. -#}

with

customers as (
    select * from {{ ref('customer_360') }}
),

scores as (
    select
        person_id,
        churn_probability,
        churn_risk_band,
        expected_orders,
        expected_revenue,
        model_version
    from {{ source('ml', 'churn_scores') }}
),

final as (
    select
        customers.*,
        cast(scores.churn_probability as {{ dbt.type_float() }}) as churn_probability,
        cast(scores.churn_risk_band as {{ dbt.type_string() }}) as churn_risk_band,
        cast(scores.expected_orders as {{ dbt.type_float() }}) as expected_orders,
        cast(scores.expected_revenue as {{ dbt.type_float() }}) as expected_revenue,
        cast(scores.model_version as {{ dbt.type_string() }}) as prediction_model_version
    from customers
    left join scores
        on customers.person_id = scores.person_id
)

select * from final
