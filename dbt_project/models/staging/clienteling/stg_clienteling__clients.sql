{#- A table, not a view: it calls the Python normalisation UDFs, which exist only on dbt's
    connections (plugins/cdp_udfs.py); a view would be unreadable from any other client. -#}
{{ config(materialized='table') }}

with

source as (
    select * from {{ source('clienteling', 'clients') }}
    where {{ exclude_quarantined('raw_clienteling', 'clients') }}
),

renamed as (
    select
        upper({{ clean_text('client_id') }}) as client_id,
        {{ clean_text('store_id') }} as store_id,
        {{ clean_text('advisor_id') }} as advisor_id,
        case lower(replace({{ clean_text('civility') }}, '.', ''))
            when 'm' then 'M.'
            when 'mme' then 'Mme'
            when 'mlle' then 'Mlle'
        end as civility,
        {{ clean_text('first_name') }} as first_name_raw,
        {{ clean_text('last_name') }} as last_name_raw,
        {{ clean_text('email') }} as email_raw,
        {{ clean_text('mobile') }} as phone_raw,
        {{ clean_text('birth_date') }} as birth_date_raw,
        {{ clean_text('address_line') }} as street_raw,
        {{ clean_text('postcode') }} as postcode_raw,
        {{ clean_text('city') }} as city_raw,
        coalesce({{ normalize_country('country') }}, '{{ var("default_country") }}') as country,
        lower({{ clean_text('preferred_category') }}) as preferred_category,
        {{ clean_text('size_top') }} as size_top,
        {{ clean_text('size_shoe') }} as size_shoe,
        {{ text_to_bool('opt_in_email') }} as is_opted_in_email,
        {{ text_to_bool('opt_in_sms') }} as is_opted_in_sms,
        {{ normalize_card_id('loyalty_card_id') }} as loyalty_card_id,
        {{ clean_text('notes') }} as notes,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id,
        _source_file as source_file
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'client_id', 'updated_at desc nulls last, _dlt_load_id desc') }}
),

normalised as (
    select
        *,
        {{ normalize_email('email_raw') }} as email,
        {{ normalize_phone('phone_raw', 'country') }} as phone,
        {{ display_name('first_name_raw') }} as first_name,
        {{ display_name('last_name_raw') }} as last_name,
        {{ fold_name('first_name_raw') }} as first_name_key,
        {{ fold_name('last_name_raw') }} as last_name_key,
        {{ parse_birth_date('birth_date_raw') }} as birth_date,
        {{ normalize_street('street_raw') }} as street,
        {{ normalize_postcode('postcode_raw', 'country') }} as postcode,
        {{ normalize_city('city_raw') }} as city
    from deduplicated
),

stores as (
    select generic_email from {{ ref('stg_pos__stores') }}
),

final as (
    select
        client_id,
        store_id,
        advisor_id,
        civility,
        first_name,
        last_name,
        first_name_key,
        last_name_key,
        email,
        {{ is_placeholder_email('email') }} as is_placeholder_email,
        coalesce(email in (select stores.generic_email from stores), false) as is_store_email,
        phone,
        {{ is_placeholder_phone('phone') }} as is_placeholder_phone,
        birth_date,
        street,
        {{ address_key('street') }} as street_key,
        postcode,
        city,
        country,
        preferred_category,
        size_top,
        size_shoe,
        is_opted_in_email,
        is_opted_in_sms,
        loyalty_card_id,
        notes,
        created_at,
        updated_at,
        {{ issue_list([
            ('invalid_email', 'email_raw is not null and email is null'),
            ('placeholder_email', is_placeholder_email('email')),
            ('store_generic_email', 'email in (select stores.generic_email from stores)'),
            ('invalid_phone', 'phone_raw is not null and phone is null'),
            ('placeholder_phone', is_placeholder_phone('phone')),
            ('invalid_birth_date', 'birth_date_raw is not null and birth_date is null'),
        ]) }} as normalisation_issues,
        email_raw,
        phone_raw,
        birth_date_raw,
        source_file,
        _dlt_load_id
    from normalised
)

select * from final
