{#- Incremental: a run re-types only the keys whose raw rows changed (macros/incremental.sql). -#}
{{ config(materialized='incremental', unique_key='order_id', incremental_strategy='cdp_upsert') }}

with

source as (
    {{ staging_source('shop', 'orders') }}
),

renamed_all as (
    select
        cast(entity_id as bigint) as order_id,
        {{ clean_text('increment_id') }} as increment_id,
        cast(customer_id as bigint) as customer_id,
        coalesce(cast(customer_is_guest as boolean), customer_id is null) as is_guest,
        {{ clean_text('customer_email') }} as email_raw,
        {{ clean_text('customer_firstname') }} as first_name_raw,
        {{ clean_text('customer_lastname') }} as last_name_raw,
        lower({{ clean_text('status') }}) as status,
        upper({{ clean_text('order_currency_code') }}) as currency,
        cast(subtotal as decimal(12, 2)) as subtotal,
        cast(discount_amount as decimal(12, 2)) as discount_amount,
        cast(shipping_amount as decimal(12, 2)) as shipping_amount,
        cast(tax_amount as decimal(12, 2)) as tax_amount,
        cast(grand_total as decimal(12, 2)) as grand_total,
        coalesce(cast(total_refunded as decimal(12, 2)), 0) as total_refunded,
        {{ clean_text('billing_address__street') }} as billing_street_raw,
        {{ clean_text('billing_address__postcode') }} as billing_postcode_raw,
        {{ clean_text('billing_address__city') }} as billing_city_raw,
        {{ normalize_country('billing_address__country_id') }} as billing_country,
        {{ clean_text('billing_address__telephone') }} as billing_phone_raw,
        {{ clean_text('billing_address__firstname') }} as billing_first_name_raw,
        {{ clean_text('billing_address__lastname') }} as billing_last_name_raw,
        lower({{ clean_text('payment__method') }}) as payment_method,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id,
        _source_file as source_file
    from source
),

{{ incremental_deduplicated('renamed_all', 'order_id') }},

normalised as (
    select
        *,
        {{ person_fields(
            email='email_raw', first_name='coalesce(first_name_raw, billing_first_name_raw)',
            last_name='coalesce(last_name_raw, billing_last_name_raw)',
        ) }},
        {{ normalize_street('billing_street_raw') }} as billing_street,
        {{ street_complement('billing_street_raw') }} as billing_street_complement,
        {{ normalize_postcode('billing_postcode_raw', 'billing_country') }} as billing_postcode,
        {{ normalize_city('billing_city_raw') }} as billing_city,
        {{ normalize_phone(
            'billing_phone_raw', "coalesce(billing_country, '" ~ var('default_phone_region') ~ "')"
        ) }} as billing_phone
    from deduplicated
),

final as (
    select
        order_id,
        increment_id,
        customer_id,
        is_guest,
        email,
        {{ is_placeholder_email('email') }} as is_placeholder_email,
        first_name,
        last_name,
        first_name_key,
        last_name_key,
        status,
        currency,
        subtotal,
        discount_amount,
        shipping_amount,
        tax_amount,
        grand_total,
        total_refunded,
        billing_street,
        billing_street_complement,
        {{ address_key('billing_street') }} as billing_street_key,
        billing_postcode,
        billing_city,
        billing_country,
        billing_phone,
        {{ is_placeholder_phone('billing_phone') }} as is_placeholder_phone,
        payment_method,
        created_at,
        updated_at,
        {{ issue_list([
            ('invalid_email', 'email_raw is not null and email is null'),
            ('placeholder_email', is_placeholder_email('email')),
            ('invalid_phone', 'billing_phone_raw is not null and billing_phone is null'),
            ('placeholder_phone', is_placeholder_phone('billing_phone')),
            ('guest_without_email', 'is_guest and email is null'),
        ]) }} as normalisation_issues,
        email_raw,
        billing_phone_raw,
        source_file,
        _dlt_load_id
    from normalised
)

{{ incremental_select('final', 'order_id') }}
