with

source as (
    select * from {{ source('shop', 'orders__items') }}
    where
        {{ exclude_quarantined('raw_shop', 'orders__items') }}
        and {{ exclude_quarantined('raw_shop', 'orders', 'order_entity_id', parent_key='entity_id') }}
),

renamed as (
    select
        cast(item_id as bigint) as order_item_id,
        cast(order_entity_id as bigint) as order_id,
        upper({{ clean_text('sku') }}) as sku,
        {{ clean_text('name') }} as product_name,
        cast(qty_ordered as integer) as quantity_ordered,
        coalesce(cast(qty_refunded as integer), 0) as quantity_refunded,
        cast(price as decimal(12, 2)) as unit_price,
        coalesce(cast(discount_amount as decimal(12, 2)), 0) as discount_amount,
        cast(row_total as decimal(12, 2)) as row_total,
        _dlt_load_id
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'order_item_id', '_dlt_load_id desc') }}
),

final as (
    select
        order_item_id,
        order_id,
        sku,
        product_name,
        quantity_ordered,
        quantity_refunded,
        unit_price,
        discount_amount,
        row_total,
        _dlt_load_id
    from deduplicated
)

select * from final
