{#- Incremental: a run re-types only the keys whose raw rows changed (macros/incremental.sql). -#}
{{ config(materialized='incremental', unique_key='order_item_id', incremental_strategy='cdp_upsert') }}

with

source as (
    {{ staging_source(
        'shop', 'orders__items', parent='orders', parent_id='order_entity_id', parent_key='entity_id'
    ) }}
),

renamed_all as (
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

{{ incremental_deduplicated('renamed_all', 'order_item_id', '_dlt_load_id desc') }},

final as (
    select * exclude (_dedupe_rank) from deduplicated
)

{{ incremental_select('final', 'order_item_id') }}
