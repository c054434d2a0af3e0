{#- reads marts.orders too: an asset check on customer_360, which is downstream of orders
    (through the churn model), so the check can block customer_360 without a cycle -#}
{{ config(meta={'dagster': {'ref': {'name': 'customer_360'}}}) }}
-- customer_360.revenue_total is the sum of orders.net_amount of the person's orders
with

order_revenue as (
    select
        person_id,
        sum(net_amount) as revenue
    from {{ ref('orders') }}
    where person_id is not null
    group by person_id
),

customers as (
    select
        person_id,
        revenue_total
    from {{ ref('customer_360') }}
)

select
    customers.person_id,
    customers.revenue_total,
    order_revenue.revenue
from customers
full outer join order_revenue
    on customers.person_id = order_revenue.person_id
where
    customers.person_id is null
    or customers.revenue_total <> coalesce(order_revenue.revenue, 0)
