{#- Incremental: a run re-types only the keys whose raw rows changed (macros/incremental.sql). -#}
{{ config(materialized='incremental', unique_key='event_id', incremental_strategy='cdp_upsert') }}

with

source as (
    {{ staging_source('esp', 'events') }}
),

renamed_all as (
    select
        {{ clean_text('event_id') }} as event_id,
        upper({{ clean_text('campaign_id') }}) as campaign_id,
        upper({{ clean_text('contact_id') }}) as contact_id,
        {{ clean_text('email') }} as email_raw,
        lower({{ clean_text('event_type') }}) as event_type,
        {{ to_utc_timestamp('occurred_at') }} as occurred_at,
        {{ clean_text('url') }} as url,
        lower({{ clean_text('bounce_type') }}) as bounce_type,
        _dlt_load_id
    from source
),

{{ incremental_deduplicated('renamed_all', 'event_id', 'occurred_at desc nulls last, _dlt_load_id desc') }},

final as (
    select
        event_id,
        campaign_id,
        contact_id,
        lower(email_raw) as email,
        event_type,
        occurred_at,
        url,
        bounce_type,
        _dlt_load_id
    from deduplicated
)

{{ incremental_select('final', 'event_id') }}
