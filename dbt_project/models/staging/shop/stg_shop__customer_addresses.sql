{#- Incremental: a run re-types only the keys whose raw rows changed (macros/incremental.sql). -#}
{{ config(materialized='incremental', unique_key='address_id', incremental_strategy='cdp_upsert') }}

with

source as (
    select * from {{ source('shop', 'customers__addresses') }}
),

renamed_all as (
    select
        cast(id as bigint) as address_id,
        cast(customer_entity_id as bigint) as customer_id,
        {{ clean_text('street') }} as street_raw,
        {{ clean_text('postcode') }} as postcode_raw,
        {{ clean_text('city') }} as city_raw,
        {{ normalize_country('country_id') }} as country,
        {{ clean_text('telephone') }} as phone_raw,
        {{ clean_text('firstname') }} as first_name_raw,
        {{ clean_text('lastname') }} as last_name_raw,
        coalesce(cast(default_billing as boolean), false) as is_default_billing,
        coalesce(cast(default_shipping as boolean), false) as is_default_shipping,
        _dlt_load_id
    from source
),

{{ incremental_deduplicated('renamed_all', 'address_id', '_dlt_load_id desc') }},

normalised as (
    select
        *,
        {{ normalize_street('street_raw') }} as street,
        {{ street_complement('street_raw') }} as street_complement,
        {{ normalize_postcode('postcode_raw', 'country') }} as postcode,
        {{ normalize_city('city_raw') }} as city,
        {{ normalize_phone('phone_raw', "coalesce(country, '" ~ var('default_phone_region') ~ "')") }} as phone,
        {{ display_name('first_name_raw') }} as first_name,
        {{ display_name('last_name_raw') }} as last_name
    from deduplicated
),

final as (
    select
        address_id,
        customer_id,
        first_name,
        last_name,
        street,
        street_complement,
        {{ address_key('street') }} as street_key,
        postcode,
        city,
        country,
        phone,
        {{ is_placeholder_phone('phone') }} as is_placeholder_phone,
        is_default_billing,
        is_default_shipping,
        {{ issue_list([
            ('invalid_phone', 'phone_raw is not null and phone is null'),
            ('placeholder_phone', is_placeholder_phone('phone')),
            ('missing_street', 'street is null'),
            ('invalid_postcode', "country = 'FR' and not regexp_full_match(postcode, '\\d{5}')"),
        ]) }} as normalisation_issues,
        street_raw,
        phone_raw,
        _dlt_load_id
    from normalised
)

{{ incremental_select('final', 'address_id') }}
