{#- The "as of" moment of every windowed metric (30/90/365 days, 12 months): the latest event
    recorded in any source system, not current_date. Demo data ends in the past (the
    generator's --end-date) and a warehouse is often rebuilt from old extracts; anchoring the
    windows to the data keeps results reproducible and meaningful. One row. -#}

with

event_times as (
    select max(created_at) as occurred_at from {{ ref('stg_shop__orders') }}
    union all
    select max(sold_at) as occurred_at from {{ ref('stg_pos__receipts') }}
    union all
    select max(occurred_at) as occurred_at from {{ ref('stg_esp__events') }}
    union all
    select max(occurred_at) as occurred_at from {{ ref('stg_web__events') }}
    union all
    select max(created_at) as occurred_at from {{ ref('stg_service__tickets') }}
    union all
    select max(occurred_at) as occurred_at from {{ ref('stg_consent__events') }}
    union all
    select max(updated_at) as occurred_at from {{ ref('stg_shop__carts') }}
),

final as (
    select
        cast(max(occurred_at) as timestamp) as as_of_at,
        cast(max(occurred_at) as date) as as_of_date
    from event_times
)

select * from final
