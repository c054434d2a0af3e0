{#- Incremental: a run re-types only the keys whose raw rows changed (macros/incremental.sql). -#}
{{ config(materialized='incremental', unique_key='event_id', incremental_strategy='cdp_upsert') }}

with

source as (
    {{ staging_source('web', 'events') }}
),

renamed_all as (
    select
        {{ clean_text('event_id') }} as event_id,
        {{ to_utc_timestamp('occurred_at') }} as occurred_at,
        {{ clean_text('session_id') }} as session_id,
        {{ clean_text('anonymous_id') }} as anonymous_id,
        {{ clean_text('user_id') }} as user_id,
        lower({{ clean_text('event_type') }}) as event_type,
        {{ clean_text('page_url') }} as page_url,
        upper({{ clean_text('product_sku') }}) as product_sku,
        {{ clean_text('order_increment_id') }} as order_increment_id,
        lower({{ clean_text('device') }}) as device,
        lower({{ clean_text('utm_source') }}) as utm_source,
        lower({{ clean_text('utm_medium') }}) as utm_medium,
        {{ clean_text('utm_campaign') }} as utm_campaign,
        upper({{ clean_text('country') }}) as country,
        _dlt_load_id
    from source
),

{{ incremental_deduplicated('renamed_all', 'event_id', '_dlt_load_id desc') }},

final as (
    select
        event_id,
        occurred_at,
        session_id,
        anonymous_id,
        -- the shop customer entity_id, set only while the visitor is logged in
        {{ safe_cast('user_id', 'bigint') }} as customer_id,
        event_type,
        page_url,
        product_sku,
        order_increment_id,
        device,
        utm_source,
        utm_medium,
        utm_campaign,
        country,
        {{ issue_list([
            ('invalid_user_id', "user_id is not null and " ~ safe_cast('user_id', 'bigint') ~ " is null"),
            ('missing_anonymous_id', 'anonymous_id is null'),
        ]) }} as normalisation_issues,
        _dlt_load_id
    from deduplicated
)

{{ incremental_select('final', 'event_id') }}
