{#- One row per person of the identity graph, anonymous web visitors included (flagged by
    is_identified): the golden identity (int_persons_golden, with the source system of
    each value), the ids of the person's records in each system, current marketing consent,
    purchase behaviour, engagement, open abandoned cart and RFM. The ML scores (churn, expected
    value) are joined by customer_profiles, downstream of the ML assets that read the marts.
    Windowed metrics end on the as-of date (int_as_of_dates_derived). -#}

with

golden as (
    select * from {{ ref('int_persons_golden') }}
),

identity_graph as (
    select
        source_system,
        source_key,
        person_id
    from {{ source('identity', 'identity_graph') }}
),

consent as (
    select * from {{ ref('customer_consent') }}
    where purpose = 'marketing'
),

purchases as (
    select * from {{ ref('int_persons_orders_aggregated') }}
),

engagement as (
    select * from {{ ref('engagement') }}
),

timeline as (
    select * from {{ ref('customer_timeline') }}
),

rfm as (
    select * from {{ ref('rfm') }}
),

carts as (
    select * from {{ ref('stg_shop__carts') }}
),

as_of as (
    select * from {{ ref('int_as_of_dates_derived') }}
),

-- sorted lists of record ids per system (macro array_agg_where, the adapter's array type).
-- A person is identified when at least one of their records is not a web visitor: a cookie
-- that never logged in (nor bought as a guest) stays a person of its own, known only by its
-- cookie.
source_ids as (
    select
        person_id,
        max(case when source_system <> 'web_visitor' then 1 else 0 end) = 1 as is_identified,
        {{ array_agg_where('source_key', "source_system = 'shop_customer'") }} as shop_customer_ids,
        {{ array_agg_where('source_key', "source_system = 'pos_card'") }} as loyalty_card_ids,
        {{ array_agg_where('source_key', "source_system = 'clienteling'") }} as clienteling_ids,
        {{ array_agg_where('source_key', "source_system = 'esp_contact'") }} as esp_contact_ids
    from identity_graph
    group by person_id
),

consent_flags as (
    select
        person_id,
        max(case when channel = 'email' and is_granted then 1 else 0 end) = 1 as consent_email_marketing,
        max(case when channel = 'sms' and is_granted then 1 else 0 end) = 1 as consent_sms_marketing,
        max(case when channel = 'phone' and is_granted then 1 else 0 end) = 1 as consent_phone_marketing,
        max(case when channel = 'ads' and is_granted then 1 else 0 end) = 1 as consent_ads_marketing
    from consent
    group by person_id
),

-- interactions the person started (messages sent to them do not count)
last_seen as (
    select
        person_id,
        max(occurred_at) as last_seen_at
    from timeline
    where event_type not in ('campaign_sent', 'campaign_delivered', 'campaign_bounce')
    group by person_id
),

-- the contract's abandoned cart: still active, never converted, untouched for over an hour
open_carts as (
    select
        identity_graph.person_id,
        carts.updated_at,
        carts.grand_total,
        row_number() over (
            partition by identity_graph.person_id
            order by carts.updated_at desc, carts.cart_id desc
        ) as recency_rank
    from carts
    cross join as_of
    inner join identity_graph
        on
            identity_graph.source_system = 'shop_customer'
            and cast(carts.customer_id as {{ dbt.type_string() }}) = identity_graph.source_key
    where
        carts.is_active
        and carts.converted_order_id is null
        and carts.updated_at < {{ dbt.dateadd('hour', -1, 'as_of.as_of_at') }}
),

final as (
    select
        golden.person_id,
        coalesce(source_ids.is_identified, false) as is_identified,
        golden.first_name,
        golden.last_name,
        golden.name_source,
        golden.email,
        golden.email_source,
        golden.phone,
        golden.phone_source,
        golden.birth_date,
        golden.birth_date_source,
        golden.street,
        golden.postcode,
        golden.city,
        golden.country,
        golden.address_source,
        source_ids.shop_customer_ids,
        source_ids.loyalty_card_ids,
        source_ids.clienteling_ids,
        source_ids.esp_contact_ids,
        coalesce(consent_flags.consent_email_marketing, false) as consent_email_marketing,
        coalesce(consent_flags.consent_sms_marketing, false) as consent_sms_marketing,
        coalesce(consent_flags.consent_phone_marketing, false) as consent_phone_marketing,
        coalesce(consent_flags.consent_ads_marketing, false) as consent_ads_marketing,
        purchases.first_order_at,
        purchases.last_order_at,
        coalesce(purchases.orders_count, 0) as orders_count,
        cast(coalesce(purchases.revenue_total, 0) as decimal(18, 2)) as revenue_total,
        coalesce(purchases.orders_12m, 0) as orders_12m,
        cast(coalesce(purchases.revenue_12m, 0) as decimal(18, 2)) as revenue_12m,
        purchases.avg_basket,
        purchases.favourite_store_id,
        purchases.favourite_channel,
        purchases.favourite_category,
        coalesce(purchases.returns_count, 0) as returns_count,
        engagement.email_opens_30d,
        engagement.email_clicks_30d,
        engagement.email_opens_90d,
        engagement.email_clicks_90d,
        engagement.web_sessions_90d,
        cast(last_seen.last_seen_at as {{ dbt.type_timestamp() }}) as last_seen_at,
        open_carts.person_id is not null as has_open_abandoned_cart,
        cast(open_carts.updated_at as {{ dbt.type_timestamp() }}) as abandoned_cart_at,
        cast(open_carts.grand_total as decimal(18, 2)) as abandoned_cart_value,
        rfm.r_score as rfm_recency_score,
        rfm.f_score as rfm_frequency_score,
        rfm.m_score as rfm_monetary_score,
        rfm.rfm_segment,
        as_of.as_of_date
    from golden
    cross join as_of
    left join source_ids
        on golden.person_id = source_ids.person_id
    left join consent_flags
        on golden.person_id = consent_flags.person_id
    left join purchases
        on golden.person_id = purchases.person_id
    left join engagement
        on golden.person_id = engagement.person_id
    left join last_seen
        on golden.person_id = last_seen.person_id
    left join open_carts
        on golden.person_id = open_carts.person_id and open_carts.recency_rank = 1
    left join rfm
        on golden.person_id = rfm.person_id
)

select * from final
