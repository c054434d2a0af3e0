{#- A view: no normalisation UDF is called here. -#}
{{ config(materialized='view') }}

with

source as (
    {{ staging_source('catalog', 'products') }}
),

renamed as (
    select
        upper({{ clean_text('sku') }}) as sku,
        {{ clean_text('name') }} as product_name,
        lower({{ clean_text('category') }}) as category,
        lower({{ clean_text('subcategory') }}) as subcategory,
        {{ clean_text('collection') }} as collection,
        cast(price as decimal(12, 2)) as price,
        cast(cost as decimal(12, 2)) as cost,
        upper({{ clean_text('currency') }}) as currency,
        cast(stock_qty as integer) as stock_quantity,
        {{ text_to_bool('is_active') }} as is_active,
        {{ to_utc_timestamp('launched_at') }} as launched_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'sku') }}
),

final as (
    select * exclude (_dedupe_rank) from deduplicated
)

select * from final
