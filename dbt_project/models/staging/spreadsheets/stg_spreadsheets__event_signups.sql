{#- A table, not a view: it calls the Python normalisation UDFs, which exist only on dbt's
    connections (plugins/cdp_udfs.py); a view would be unreadable from any other client. -#}
{{ config(materialized='table') }}

with

source as (
    select * from {{ source('spreadsheets', 'event_signups') }}
    where {{ exclude_quarantined('raw_spreadsheets', 'event_signups') }}
),

renamed as (
    select
        {{ clean_text('source_file') }} || '#' || cast(cast(source_row as integer) as {{ dbt.type_string() }})
            as signup_id,
        {{ clean_text('source_file') }} as source_file,
        cast(source_row as integer) as source_row,
        {{ clean_text('last_name') }} as last_name_raw,
        {{ clean_text('first_name') }} as first_name_raw,
        {{ clean_text('email') }} as email_raw,
        {{ clean_text('phone') }} as phone_raw,
        {{ clean_text('birth_date') }} as birth_date_raw,
        {{ clean_text('postcode') }} as postcode_raw,
        {{ clean_text('city') }} as city_raw,
        {{ clean_text('event_name') }} as event_name,
        {{ clean_text('event_date') }} as event_date_raw,
        _dlt_load_id
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'signup_id', '_dlt_load_id desc') }}
),

normalised as (
    select
        *,
        {{ normalize_email('email_raw') }} as email,
        -- a phone stored as a number in Excel lost its leading 0 (and may carry ".0")
        {{ normalize_phone(
            "case when regexp_full_match(phone_raw, '[1-9]\\d{8}(\\.0+)?') then '0' || split_part(phone_raw, '.', 1) else phone_raw end"
        ) }} as phone,
        {{ display_name('first_name_raw') }} as first_name,
        {{ display_name('last_name_raw') }} as last_name,
        {{ fold_name('first_name_raw') }} as first_name_key,
        {{ fold_name('last_name_raw') }} as last_name_key,
        {{ parse_birth_date('birth_date_raw') }} as birth_date,
        {{ normalize_postcode('postcode_raw') }} as postcode,
        {{ normalize_city('city_raw') }} as city,
        {{ parse_date('event_date_raw') }} as event_date
    from deduplicated
),

final as (
    select
        signup_id,
        source_file,
        source_row,
        first_name,
        last_name,
        first_name_key,
        last_name_key,
        email,
        {{ is_placeholder_email('email') }} as is_placeholder_email,
        phone,
        {{ is_placeholder_phone('phone') }} as is_placeholder_phone,
        birth_date,
        postcode,
        city,
        '{{ var("default_country") }}' as country,
        event_name,
        event_date,
        {{ issue_list([
            ('invalid_email', 'email_raw is not null and email is null'),
            ('placeholder_email', is_placeholder_email('email')),
            ('invalid_phone', 'phone_raw is not null and phone is null'),
            ('placeholder_phone', is_placeholder_phone('phone')),
            ('invalid_birth_date', 'birth_date_raw is not null and birth_date is null'),
            ('invalid_event_date', 'event_date_raw is not null and event_date is null'),
        ]) }} as normalisation_issues,
        email_raw,
        phone_raw,
        birth_date_raw,
        _dlt_load_id
    from normalised
)

select * from final
