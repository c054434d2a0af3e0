{#- Purchase behaviour of every person who has at least one order (marts.orders with a known
    person). A purchase is a web order that was not cancelled or a store receipt that is not a
    return. Revenue is the sum of net_amount over all the person's orders (returns negative,
    refunds subtracted, cancelled orders 0). Windows end on the as-of date
    (int_as_of_dates_derived); "12 months" = after the same day 12 months earlier.
    Favourites: the store / channel / category with the most purchases (category: the most
    items), ties broken by the latest purchase, then by name. -#}

with

orders as (
    select * from {{ ref('orders') }}
    where person_id is not null
),

order_lines as (
    select * from {{ ref('order_lines') }}
    where person_id is not null
),

as_of as (
    select * from {{ ref('int_as_of_dates_derived') }}
),

classified_orders as (
    select
        orders.*,
        not orders.is_return and orders.status <> 'canceled' as is_purchase,
        orders.is_return or orders.refunded_amount > 0 as is_returned,
        orders.ordered_at >= {{ dbt.dateadd('day', 1, dbt.dateadd('month', -12, 'as_of.as_of_date')) }}
        and orders.ordered_at < {{ dbt.dateadd('day', 1, 'as_of.as_of_date') }} as is_in_12m
    from orders
    cross join as_of
),

purchase_lines as (
    select order_lines.*
    from order_lines
    inner join classified_orders
        on order_lines.order_key = classified_orders.order_key
    where classified_orders.is_purchase
),

totals as (
    select
        person_id,
        min(case when is_purchase then ordered_at end) as first_order_at,
        max(case when is_purchase then ordered_at end) as last_order_at,
        sum(case when is_purchase then 1 else 0 end) as orders_count,
        sum(net_amount) as revenue_total,
        sum(case when is_purchase and is_in_12m then 1 else 0 end) as orders_12m,
        sum(case when is_in_12m then net_amount else 0 end) as revenue_12m,
        sum(case when is_purchase then net_amount else 0 end) as purchases_amount,
        sum(case when is_returned then 1 else 0 end) as returns_count
    from classified_orders
    group by person_id
),

store_counts as (
    select
        person_id,
        store_id,
        count(*) as purchases,
        max(ordered_at) as last_purchase_at
    from classified_orders
    where is_purchase and store_id is not null
    group by person_id, store_id
),

favourite_stores as (
    select
        person_id,
        store_id,
        row_number() over (
            partition by person_id
            order by purchases desc, last_purchase_at desc, store_id asc
        ) as preference_rank
    from store_counts
),

channel_counts as (
    select
        person_id,
        channel,
        count(*) as purchases,
        max(ordered_at) as last_purchase_at
    from classified_orders
    where is_purchase
    group by person_id, channel
),

favourite_channels as (
    select
        person_id,
        channel,
        row_number() over (
            partition by person_id
            order by purchases desc, last_purchase_at desc, channel asc
        ) as preference_rank
    from channel_counts
),

category_counts as (
    select
        person_id,
        category,
        sum(quantity) as items,
        max(ordered_at) as last_purchase_at
    from purchase_lines
    where category is not null
    group by person_id, category
),

favourite_categories as (
    select
        person_id,
        category,
        row_number() over (
            partition by person_id
            order by items desc, last_purchase_at desc, category asc
        ) as preference_rank
    from category_counts
),

final as (
    select
        totals.person_id,
        cast(totals.first_order_at as timestamp) as first_order_at,
        cast(totals.last_order_at as timestamp) as last_order_at,
        cast(totals.orders_count as integer) as orders_count,
        cast(totals.revenue_total as decimal(18, 2)) as revenue_total,
        cast(totals.orders_12m as integer) as orders_12m,
        cast(totals.revenue_12m as decimal(18, 2)) as revenue_12m,
        cast(case
            when totals.orders_count > 0 then totals.purchases_amount / totals.orders_count
        end as decimal(18, 2)) as avg_basket,
        favourite_stores.store_id as favourite_store_id,
        favourite_channels.channel as favourite_channel,
        favourite_categories.category as favourite_category,
        cast(totals.returns_count as integer) as returns_count
    from totals
    left join favourite_stores
        on totals.person_id = favourite_stores.person_id and favourite_stores.preference_rank = 1
    left join favourite_channels
        on totals.person_id = favourite_channels.person_id and favourite_channels.preference_rank = 1
    left join favourite_categories
        on totals.person_id = favourite_categories.person_id and favourite_categories.preference_rank = 1
)

select * from final
