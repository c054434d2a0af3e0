{#- Incremental (macros/incremental.sql). Status, channel and purpose are read through the
    vocabulary of config/consent.yaml (`cdp_consent_term`), dates as ISO 8601 or one of its
    `date_formats` (`cdp_consent_time`).
    A value the vocabulary does not know leaves the canonical column null and the row
    `is_readable = false`: it is kept (never dropped) so that the consent marts can treat an
    unreadable statement as a withdrawal until it is corrected. -#}
{{ config(materialized='incremental', unique_key='consent_event_id', incremental_strategy='cdp_upsert') }}

with

source as (
    select * from {{ source('consent', 'consent_events') }}
),

renamed_all as (
    select
        {{ clean_text('event_id') }} as consent_event_id,
        {{ clean_text('occurred_at') }} as occurred_at_raw,
        {{ clean_text('email') }} as email_raw,
        {{ clean_text('phone') }} as phone_raw,
        cast(shop_customer_id as bigint) as customer_id,
        {{ clean_text('channel') }} as channel_raw,
        {{ clean_text('purpose') }} as purpose_raw,
        {{ clean_text('status') }} as status_raw,
        lower({{ clean_text('source') }}) as consent_source,
        _dlt_id,
        _dlt_load_id
    from source
    -- a quarantined grant is dropped; a quarantined withdrawal or unreadable statement stays,
    -- since dropping it could turn a withdrawn person back into a granted one
    where
        {{ exclude_quarantined('raw_consent', 'consent_events') }}
        or cdp_consent_term(status, 'status') is distinct from 'granted'
),

{{ incremental_deduplicated('renamed_all', 'consent_event_id', '_dlt_load_id desc') }},

normalised as (
    select
        *,
        {{ normalize_email('email_raw') }} as email,
        {{ normalize_phone('phone_raw') }} as phone,
        cdp_consent_term(channel_raw, 'channel') as channel,
        cdp_consent_term(purpose_raw, 'purpose') as purpose,
        cdp_consent_term(status_raw, 'status') as status,
        coalesce(
            {{ to_utc_timestamp('occurred_at_raw') }},
            {{ to_utc_timestamp('cdp_consent_time(occurred_at_raw)') }}
        ) as occurred_at
    from deduplicated
),

final as (
    select
        consent_event_id,
        occurred_at,
        email,
        phone,
        customer_id,
        channel,
        purpose,
        status,
        status = 'granted' as is_granted,
        channel is not null
        and purpose is not null
        and status is not null
        and occurred_at is not null as is_readable,
        consent_source,
        {{ issue_list([
            ('invalid_email', 'email_raw is not null and email is null'),
            ('invalid_phone', 'phone_raw is not null and phone is null'),
            ('no_identifier', 'email is null and phone is null and customer_id is null'),
            ('unknown_status', 'status is null'),
            ('unknown_channel', 'channel is null'),
            ('unknown_purpose', 'purpose is null'),
            ('unreadable_date', 'occurred_at is null'),
        ]) }} as normalisation_issues,
        email_raw,
        phone_raw,
        status_raw,
        channel_raw,
        purpose_raw,
        occurred_at_raw,
        _dlt_load_id
    from normalised
)

{{ incremental_select('final', 'consent_event_id') }}
