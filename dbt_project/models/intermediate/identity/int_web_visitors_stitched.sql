{#- One row per web visitor (anonymous_id cookie), stitched to the shop account it logged in
    with. A cookie that logged in with several accounts (a shared device) is left unstitched:
    `customer_id` is null and `logged_in_customer_count` > 1. -#}

with

events as (
    select
        anonymous_id,
        customer_id,
        event_type,
        occurred_at
    from {{ ref('stg_web__events') }}
    where anonymous_id is not null
),

visitors as (
    select
        anonymous_id,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) as events_count,
        count(distinct customer_id) as logged_in_customer_count,
        min(customer_id) as any_customer_id,
        min(case when event_type = 'login' then occurred_at end) as first_login_at
    from events
    group by anonymous_id
),

final as (
    select
        anonymous_id,
        case when logged_in_customer_count = 1 then any_customer_id end as customer_id,
        logged_in_customer_count,
        first_login_at,
        first_seen_at,
        last_seen_at,
        events_count
    from visitors
)

select * from final
