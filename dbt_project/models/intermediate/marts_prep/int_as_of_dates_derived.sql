{#- The "as of" moment of every windowed metric (30/90/365 days, 12 months): the latest event
    recorded in any source system, not current_date. Demo data ends in the past (the
    generator's --end-date) and a warehouse is often rebuilt from old extracts; anchoring the
    windows to the data keeps results reproducible and meaningful. One row. -#}

{%- set event_times = [
    ('stg_shop__orders', 'created_at'), ('stg_pos__receipts', 'sold_at'),
    ('stg_esp__events', 'occurred_at'), ('stg_web__events', 'occurred_at'),
    ('stg_service__tickets', 'created_at'), ('stg_consent__events', 'occurred_at'),
    ('stg_shop__carts', 'updated_at'),
] %}

with

event_times as (
    {%- for model, column in event_times %}
        select max({{ column }}) as occurred_at from {{ ref(model) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        cast(max(occurred_at) as timestamp) as as_of_at,
        cast(max(occurred_at) as date) as as_of_date
    from event_times
)

select * from final
