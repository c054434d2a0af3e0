{#- customer_360 with the ML scores of each person: churn probability and risk band, expected
    orders and revenue over the value horizon (365 days by default) and the version of the
    model that scored (ml.churn_scores); purchase propensity and lead score with their deciles
    and model versions (ml.purchase_scores). The scores are written by the Dagster assets
    ["ml", "churn_scores"] and ["ml", "purchase_scores"], which read the marts: this model is
    built after them, so no mart depends on the build order. A person without a score has
    null scores. Activation's segments and syncs read this mart, not the score tables. -#}

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

purchase as (
    select
        person_id,
        purchase_propensity,
        propensity_decile,
        propensity_model_version,
        lead_score,
        leads_decile,
        leads_model_version,
        is_lead
    from {{ source('ml', 'purchase_scores') }}
),

final as (
    select
        customers.*,
        cast(scores.churn_probability as {{ dbt.type_float() }}) as churn_probability,
        cast(scores.churn_risk_band as {{ dbt.type_string() }}) as churn_risk_band,
        cast(scores.expected_orders as {{ dbt.type_float() }}) as expected_orders,
        cast(scores.expected_revenue as {{ dbt.type_float() }}) as expected_revenue,
        cast(scores.model_version as {{ dbt.type_string() }}) as prediction_model_version,
        cast(purchase.purchase_propensity as {{ dbt.type_float() }}) as purchase_propensity,
        cast(purchase.propensity_decile as {{ dbt.type_bigint() }}) as propensity_decile,
        cast(purchase.propensity_model_version as {{ dbt.type_string() }})
            as propensity_model_version,
        cast(purchase.lead_score as {{ dbt.type_float() }}) as lead_score,
        cast(purchase.leads_decile as {{ dbt.type_bigint() }}) as leads_decile,
        cast(purchase.leads_model_version as {{ dbt.type_string() }}) as leads_model_version,
        cast(purchase.is_lead as {{ dbt.type_boolean() }}) as is_lead
    from customers
    left join scores
        on customers.person_id = scores.person_id
    left join purchase
        on customers.person_id = purchase.person_id
)

select * from final
