{#- Incremental: a run re-types only the keys whose raw rows changed (macros/incremental.sql). -#}
{{ config(materialized='incremental', unique_key='receipt_line_id', incremental_strategy='cdp_upsert') }}

with

source as (
    {{ staging_source(
        'pos', 'receipt_lines', parent='receipts', parent_id='receipt_id', parent_key='receipt_id'
    ) }}
),

renamed_all as (
    select
        {{ clean_text('receipt_id') }} || '#' || cast(cast(line_no as integer) as {{ dbt.type_string() }})
            as receipt_line_id,
        {{ clean_text('receipt_id') }} as receipt_id,
        cast(line_no as integer) as line_number,
        upper({{ clean_text('sku') }}) as sku,
        cast(quantity as integer) as quantity,
        cast(unit_price as decimal(12, 2)) as unit_price,
        coalesce(cast(discount as decimal(12, 2)), 0) as discount_amount,
        cast(line_amount as decimal(12, 2)) as line_amount,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id
    from source
),

{{ incremental_deduplicated('renamed_all', 'receipt_line_id') }},

final as (
    select * exclude (_dedupe_rank) from deduplicated
)

{{ incremental_select('final', 'receipt_line_id') }}
