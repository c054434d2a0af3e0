{#- Incremental: a run re-types only the keys whose raw rows changed (macros/incremental.sql). -#}
{{ config(materialized='incremental', unique_key='receipt_id', incremental_strategy='cdp_upsert') }}

with

source as (
    {{ staging_source('pos', 'receipts') }}
),

renamed_all as (
    select
        {{ clean_text('receipt_id') }} as receipt_id,
        {{ clean_text('store_id') }} as store_id,
        {{ clean_text('register_id') }} as register_id,
        {{ clean_text('staff_id') }} as staff_id,
        {{ normalize_card_id('card_id') }} as loyalty_card_id,
        {{ to_utc_timestamp('sold_at') }} as sold_at,
        cast(total_amount as decimal(12, 2)) as total_amount,
        upper({{ clean_text('currency') }}) as currency,
        lower({{ clean_text('payment_method') }}) as payment_method,
        coalesce(cast(is_return as integer) = 1, false) as is_return,
        {{ clean_text('original_receipt_id') }} as original_receipt_id,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id
    from source
),

{{ incremental_deduplicated('renamed_all', 'receipt_id') }},

final as (
    select * exclude (_dedupe_rank) from deduplicated
)

{{ incremental_select('final', 'receipt_id') }}
