{#- One row per web order or store receipt (returns included, flagged). The buyer is the
    person of the identity record behind the order: the shop account (or, for a guest
    checkout, the guest order itself) for web orders, the loyalty card for receipts. -#}

with

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

shop_order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

receipts as (
    select * from {{ ref('stg_pos__receipts') }}
),

receipt_lines as (
    select * from {{ ref('stg_pos__receipt_lines') }}
),

identity_graph as (
    {{ identity_graph_links() }}
),

shop_order_units as (
    select
        order_id,
        sum(quantity_ordered) as item_count
    from shop_order_items
    group by order_id
),

receipt_totals as (
    select
        receipt_id,
        sum(abs(quantity)) as item_count,
        sum(quantity * unit_price) as gross_amount,
        sum(discount_amount) as discount_amount
    from receipt_lines
    group by receipt_id
),

web_orders as (
    select
        'web:' || shop_orders.increment_id as order_key,
        case
            when shop_orders.customer_id is not null
                then 'shop_customer:' || cast(shop_orders.customer_id as {{ dbt.type_string() }})
            else 'shop_guest_order:' || shop_orders.increment_id
        end as buyer_record_id,
        'web' as channel,
        shop_orders.increment_id as source_order_id,
        cast(null as {{ dbt.type_string() }}) as store_id,
        shop_orders.created_at as ordered_at,
        shop_orders.status,
        false as is_return,
        coalesce(shop_order_units.item_count, 0) as item_count,
        shop_orders.subtotal as gross_amount,
        -- the shop stores discounts as negative amounts
        abs(coalesce(shop_orders.discount_amount, 0)) as discount_amount,
        -- a cancelled order was never paid; refunds are subtracted from what was paid
        case
            when shop_orders.status = 'canceled' then 0
            else shop_orders.grand_total - shop_orders.total_refunded
        end as net_amount,
        shop_orders.total_refunded as refunded_amount,
        shop_orders.currency
    from shop_orders
    left join shop_order_units
        on shop_orders.order_id = shop_order_units.order_id
    where shop_orders.increment_id is not null
),

store_receipts as (
    select
        'store:' || receipts.receipt_id as order_key,
        case
            when receipts.loyalty_card_id is not null then 'pos_card:' || receipts.loyalty_card_id
        end as buyer_record_id,
        'store' as channel,
        receipts.receipt_id as source_order_id,
        receipts.store_id,
        receipts.sold_at as ordered_at,
        case when receipts.is_return then 'returned' else 'complete' end as status,
        receipts.is_return,
        coalesce(receipt_totals.item_count, 0) as item_count,
        -- return lines carry negative quantities and amounts: the receipt total is negative
        coalesce(receipt_totals.gross_amount, receipts.total_amount) as gross_amount,
        abs(coalesce(receipt_totals.discount_amount, 0)) as discount_amount,
        receipts.total_amount as net_amount,
        -- a store return is a receipt of its own (negative net_amount), not a refund
        0 as refunded_amount,
        receipts.currency
    from receipts
    left join receipt_totals
        on receipts.receipt_id = receipt_totals.receipt_id
),

unioned as (
    select * from web_orders
    union all
    select * from store_receipts
),

final as (
    select
        unioned.order_key,
        identity_graph.person_id,
        unioned.channel,
        unioned.source_order_id,
        unioned.store_id,
        cast(unioned.ordered_at as {{ dbt.type_timestamp() }}) as ordered_at,
        unioned.status,
        unioned.is_return,
        cast(unioned.item_count as {{ dbt.type_int() }}) as item_count,
        cast(unioned.gross_amount as decimal(18, 2)) as gross_amount,
        cast(unioned.discount_amount as decimal(18, 2)) as discount_amount,
        cast(unioned.net_amount as decimal(18, 2)) as net_amount,
        cast(unioned.refunded_amount as decimal(18, 2)) as refunded_amount,
        unioned.currency
    from unioned
    left join identity_graph
        on unioned.buyer_record_id = identity_graph.record_id
)

select * from final
