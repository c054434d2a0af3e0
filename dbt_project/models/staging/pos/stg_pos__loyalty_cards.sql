{#- Incremental: a run re-types only the keys whose raw rows changed (macros/incremental.sql),
    and the rows whose e-mail became or stopped being a store's (`store_email_changed`). -#}
{{ config(materialized='incremental', unique_key='loyalty_card_id', incremental_strategy='cdp_upsert') }}

with

source as (
    select * from {{ source('pos', 'loyalty_cards') }}
),

renamed_all as (
    select
        {{ normalize_card_id('card_id') }} as loyalty_card_id,
        {{ clean_text('store_id') }} as store_id,
        {{ to_utc_timestamp('issued_at') }} as issued_at,
        {{ raw_person_fields(
            first_name='first_name', last_name='last_name', email='email', phone='phone',
            birth_date='birth_date', street='street', postcode='postcode', city='city',
        ) }},
        coalesce({{ normalize_country('country') }}, '{{ var("default_country") }}') as country,
        lower({{ clean_text('status') }}) as card_status,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id
    from source
),

{{ incremental_deduplicated('renamed_all', 'loyalty_card_id', also_touched=store_email_changed('loyalty_card_id')) }},

normalised as (
    select
        deduplicated.*,
        {{ person_fields(
            email='deduplicated.email_raw', phone='deduplicated.phone_raw',
            first_name='deduplicated.first_name_raw', last_name='deduplicated.last_name_raw',
            birth_date='deduplicated.birth_date_raw', street='deduplicated.street_raw',
            postcode='deduplicated.postcode_raw', city='deduplicated.city_raw',
            country='deduplicated.country',
        ) }}
    from deduplicated
),

final as (
    select
        normalised.loyalty_card_id,
        normalised.store_id,
        normalised.issued_at,
        {{ person_columns(['names', 'email'], prefix='normalised.') }},
        -- staff typed the boutique's own address for a walk-in client
        {{ is_store_email('normalised.email') }} as is_store_email,
        {{ person_columns(['phone', 'birth_date', 'address'], prefix='normalised.') }},
        normalised.card_status,
        normalised.updated_at,
        {{ issue_list(
            person_issues(['email'], prefix='normalised.')
            + [('store_generic_email', is_store_email('normalised.email'))]
            + person_issues(['phone', 'birth_date'], prefix='normalised.')
        ) }} as normalisation_issues,
        normalised.email_raw,
        normalised.phone_raw,
        normalised.birth_date_raw,
        normalised._dlt_load_id
    from normalised
)

{{ incremental_select('final', 'loyalty_card_id') }}
