{#- One row per web session with the shop account behind it: the account logged in during
    the session, else the account the visitor's cookie is stitched to (anonymous browsing
    before or after a login on the same device). -#}

with

events as (
    select * from {{ ref('stg_web__events') }}
),

visitors as (
    select
        anonymous_id,
        customer_id
    from {{ ref('int_web_visitors_stitched') }}
),

sessions as (
    select
        session_id,
        min(anonymous_id) as anonymous_id,
        min(customer_id) as session_customer_id,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        cast(count(*) as integer) as events_count,
        cast(sum(case when event_type = 'page_view' then 1 else 0 end) as integer) as page_views,
        cast(sum(case when event_type = 'product_view' then 1 else 0 end) as integer) as product_views,
        cast(sum(case when event_type = 'add_to_cart' then 1 else 0 end) as integer) as add_to_carts,
        cast(sum(case when event_type = 'purchase' then 1 else 0 end) as integer) as purchases,
        max(case when event_type = 'login' then 1 else 0 end) = 1 as has_login,
        min(device) as device,
        min(utm_source) as utm_source,
        min(utm_medium) as utm_medium,
        min(utm_campaign) as utm_campaign,
        min(country) as country
    from events
    where session_id is not null
    group by session_id
),

final as (
    select
        sessions.session_id,
        sessions.anonymous_id,
        coalesce(sessions.session_customer_id, visitors.customer_id) as customer_id,
        case
            when sessions.session_customer_id is not null then 'login'
            when visitors.customer_id is not null then 'cookie'
        end as stitched_by,
        sessions.started_at,
        sessions.ended_at,
        sessions.events_count,
        sessions.page_views,
        sessions.product_views,
        sessions.add_to_carts,
        sessions.purchases,
        sessions.has_login,
        sessions.device,
        sessions.utm_source,
        sessions.utm_medium,
        sessions.utm_campaign,
        sessions.country
    from sessions
    left join visitors
        on sessions.anonymous_id = visitors.anonymous_id
)

select * from final
