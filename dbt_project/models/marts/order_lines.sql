{#- One row per line of a web order or store receipt, with the catalogue category of the
    product. Return receipts carry negative quantities and amounts. -#}

with

orders as (
    select
        order_key,
        person_id,
        ordered_at,
        channel
    from {{ ref('orders') }}
),

shop_orders as (
    select
        order_id,
        increment_id
    from {{ ref('stg_shop__orders') }}
),

shop_order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

receipt_lines as (
    select * from {{ ref('stg_pos__receipt_lines') }}
),

products as (
    select
        sku,
        category
    from {{ ref('stg_catalog__products') }}
),

web_lines as (
    select
        'web:' || shop_orders.increment_id || '#'
        || cast(shop_order_items.order_item_id as {{ dbt.type_string() }}) as order_line_key,
        'web:' || shop_orders.increment_id as order_key,
        shop_order_items.sku,
        shop_order_items.quantity_ordered as quantity,
        shop_order_items.unit_price,
        -- the item discount is a positive amount taken off the row total
        shop_order_items.row_total - shop_order_items.discount_amount as line_amount
    from shop_order_items
    inner join shop_orders
        on shop_order_items.order_id = shop_orders.order_id
),

store_lines as (
    select
        'store:' || receipt_id || '#' || cast(line_number as {{ dbt.type_string() }}) as order_line_key,
        'store:' || receipt_id as order_key,
        sku,
        quantity,
        unit_price,
        line_amount
    from receipt_lines
),

unioned as (
    select * from web_lines
    union all
    select * from store_lines
),

final as (
    select
        unioned.order_line_key,
        unioned.order_key,
        orders.person_id,
        orders.ordered_at,
        orders.channel,
        unioned.sku,
        products.category,
        cast(unioned.quantity as {{ dbt.type_int() }}) as quantity,
        cast(unioned.unit_price as decimal(18, 2)) as unit_price,
        cast(unioned.line_amount as decimal(18, 2)) as line_amount
    from unioned
    inner join orders
        on unioned.order_key = orders.order_key
    left join products
        on unioned.sku = products.sku
)

select * from final
