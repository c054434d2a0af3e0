{#- Incremental: a run re-types only the keys whose raw rows changed (macros/incremental.sql). -#}
{{ config(materialized='incremental', unique_key='cart_item_id', incremental_strategy='cdp_upsert') }}

with

source as (
    select * from {{ source('shop', 'carts__items') }}
),

renamed_all as (
    select
        cast(item_id as bigint) as cart_item_id,
        cast(cart_entity_id as bigint) as cart_id,
        upper({{ clean_text('sku') }}) as sku,
        cast(qty as integer) as quantity,
        cast(price as decimal(12, 2)) as unit_price,
        _dlt_load_id
    from source
),

{{ incremental_deduplicated('renamed_all', 'cart_item_id', '_dlt_load_id desc') }},

final as (
    select * exclude (_dedupe_rank) from deduplicated
)

{{ incremental_select('final', 'cart_item_id') }}
