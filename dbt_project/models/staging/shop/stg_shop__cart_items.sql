with

source as (
    select * from {{ source('shop', 'carts__items') }}
),

renamed as (
    select
        cast(item_id as bigint) as cart_item_id,
        cast(cart_entity_id as bigint) as cart_id,
        upper({{ clean_text('sku') }}) as sku,
        cast(qty as integer) as quantity,
        cast(price as decimal(12, 2)) as unit_price,
        _dlt_load_id
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'cart_item_id', '_dlt_load_id desc') }}
),

final as (
    select
        cart_item_id,
        cart_id,
        sku,
        quantity,
        unit_price,
        _dlt_load_id
    from deduplicated
)

select * from final
