{#- A table, not a view: it calls the Python normalisation UDFs, which exist only on dbt's
    connections (plugins/cdp_udfs.py); a view would be unreadable from any other client. -#}
{{ config(materialized='table') }}

with

source as (
    select * from {{ source('esp', 'contacts') }}
    where {{ exclude_quarantined('raw_esp', 'contacts') }}
),

renamed as (
    select
        upper({{ clean_text('contact_id') }}) as contact_id,
        {{ clean_text('email') }} as email_raw,
        {{ clean_text('first_name') }} as first_name_raw,
        {{ clean_text('last_name') }} as last_name_raw,
        {{ clean_text('cellphone') }} as phone_raw,
        {{ text_to_bool('subscribed_email') }} as is_subscribed_email,
        {{ text_to_bool('subscribed_sms') }} as is_subscribed_sms,
        lower({{ clean_text('origin') }}) as origin,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'contact_id', 'updated_at desc nulls last, _dlt_load_id desc') }}
),

normalised as (
    select
        *,
        {{ person_fields(
            email='email_raw', phone='phone_raw', first_name='first_name_raw',
            last_name='last_name_raw',
        ) }}
    from deduplicated
),

final as (
    select
        contact_id,
        email,
        {{ is_placeholder_email('email') }} as is_placeholder_email,
        first_name,
        last_name,
        first_name_key,
        last_name_key,
        phone,
        {{ is_placeholder_phone('phone') }} as is_placeholder_phone,
        is_subscribed_email,
        is_subscribed_sms,
        origin,
        created_at,
        updated_at,
        {{ issue_list([
            ('invalid_email', 'email_raw is not null and email is null'),
            ('placeholder_email', is_placeholder_email('email')),
            ('invalid_phone', 'phone_raw is not null and phone is null'),
            ('placeholder_phone', is_placeholder_phone('phone')),
        ]) }} as normalisation_issues,
        email_raw,
        phone_raw,
        _dlt_load_id
    from normalised
)

select * from final
