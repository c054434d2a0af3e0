{#- A table, not a view: it calls the Python normalisation UDFs, which exist only on dbt's
    connections (plugins/cdp_udfs.py); a view would be unreadable from any other client. -#}
{{ config(materialized='table') }}

with

source as (
    select * from {{ source('pos', 'loyalty_cards') }}
),

renamed as (
    select
        {{ normalize_card_id('card_id') }} as loyalty_card_id,
        {{ clean_text('store_id') }} as store_id,
        {{ to_utc_timestamp('issued_at') }} as issued_at,
        {{ clean_text('first_name') }} as first_name_raw,
        {{ clean_text('last_name') }} as last_name_raw,
        {{ clean_text('email') }} as email_raw,
        {{ clean_text('phone') }} as phone_raw,
        {{ clean_text('birth_date') }} as birth_date_raw,
        {{ clean_text('street') }} as street_raw,
        {{ clean_text('postcode') }} as postcode_raw,
        {{ clean_text('city') }} as city_raw,
        coalesce({{ normalize_country('country') }}, '{{ var("default_country") }}') as country,
        lower({{ clean_text('status') }}) as card_status,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'loyalty_card_id', 'updated_at desc nulls last, _dlt_load_id desc') }}
),

stores as (
    select
        store_id,
        generic_email
    from {{ ref('stg_pos__stores') }}
),

normalised as (
    select
        deduplicated.*,
        {{ normalize_email('deduplicated.email_raw') }} as email,
        {{ normalize_phone('deduplicated.phone_raw', 'deduplicated.country') }} as phone,
        {{ display_name('deduplicated.first_name_raw') }} as first_name,
        {{ display_name('deduplicated.last_name_raw') }} as last_name,
        {{ fold_name('deduplicated.first_name_raw') }} as first_name_key,
        {{ fold_name('deduplicated.last_name_raw') }} as last_name_key,
        {{ parse_birth_date('deduplicated.birth_date_raw') }} as birth_date,
        {{ normalize_street('deduplicated.street_raw') }} as street,
        {{ normalize_postcode('deduplicated.postcode_raw', 'deduplicated.country') }} as postcode,
        {{ normalize_city('deduplicated.city_raw') }} as city
    from deduplicated
),

final as (
    select
        normalised.loyalty_card_id,
        normalised.store_id,
        normalised.issued_at,
        normalised.first_name,
        normalised.last_name,
        normalised.first_name_key,
        normalised.last_name_key,
        normalised.email,
        {{ is_placeholder_email('normalised.email') }} as is_placeholder_email,
        -- staff typed the boutique's own address for a walk-in client
        coalesce(normalised.email in (select stores.generic_email from stores), false)
            as is_store_email,
        normalised.phone,
        {{ is_placeholder_phone('normalised.phone') }} as is_placeholder_phone,
        normalised.birth_date,
        normalised.street,
        {{ address_key('normalised.street') }} as street_key,
        normalised.postcode,
        normalised.city,
        normalised.country,
        normalised.card_status,
        normalised.updated_at,
        {{ issue_list([
            ('invalid_email', 'normalised.email_raw is not null and normalised.email is null'),
            ('placeholder_email', is_placeholder_email('normalised.email')),
            ('store_generic_email', 'normalised.email in (select stores.generic_email from stores)'),
            ('invalid_phone', 'normalised.phone_raw is not null and normalised.phone is null'),
            ('placeholder_phone', is_placeholder_phone('normalised.phone')),
            ('invalid_birth_date', 'normalised.birth_date_raw is not null and normalised.birth_date is null'),
        ]) }} as normalisation_issues,
        normalised.email_raw,
        normalised.phone_raw,
        normalised.birth_date_raw,
        normalised._dlt_load_id
    from normalised
)

select * from final
