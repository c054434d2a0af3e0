{#- A table, not a view: it calls the Python normalisation UDFs, which exist only on dbt's
    connections (plugins/cdp_udfs.py); a view would be unreadable from any other client. -#}
{{ config(materialized='table') }}

with

source as (
    select * from {{ source('consent', 'consent_events') }}
),

renamed as (
    select
        {{ clean_text('event_id') }} as consent_event_id,
        {{ to_utc_timestamp('occurred_at') }} as occurred_at,
        {{ clean_text('email') }} as email_raw,
        {{ clean_text('phone') }} as phone_raw,
        cast(shop_customer_id as bigint) as customer_id,
        lower({{ clean_text('channel') }}) as channel,
        lower({{ clean_text('purpose') }}) as purpose,
        lower({{ clean_text('status') }}) as status,
        lower({{ clean_text('source') }}) as consent_source,
        _dlt_load_id
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'consent_event_id', '_dlt_load_id desc') }}
),

normalised as (
    select
        *,
        {{ normalize_email('email_raw') }} as email,
        {{ normalize_phone('phone_raw') }} as phone
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
        consent_source,
        {{ issue_list([
            ('invalid_email', 'email_raw is not null and email is null'),
            ('invalid_phone', 'phone_raw is not null and phone is null'),
            ('no_identifier', 'email is null and phone is null and customer_id is null'),
        ]) }} as normalisation_issues,
        email_raw,
        phone_raw,
        _dlt_load_id
    from normalised
)

select * from final
