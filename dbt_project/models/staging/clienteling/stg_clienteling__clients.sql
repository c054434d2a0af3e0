{#- Incremental: a run re-types only the keys whose raw rows changed (macros/incremental.sql),
    and the rows whose e-mail became or stopped being a store's (`store_email_changed`). -#}
{{ config(materialized='incremental', unique_key='client_id', incremental_strategy='cdp_upsert') }}

with

source as (
    {{ staging_source('clienteling', 'clients') }}
),

renamed_all as (
    select
        upper({{ clean_text('client_id') }}) as client_id,
        {{ clean_text('store_id') }} as store_id,
        {{ clean_text('advisor_id') }} as advisor_id,
        case lower(replace({{ clean_text('civility') }}, '.', ''))
            when 'm' then 'M.'
            when 'mme' then 'Mme'
            when 'mlle' then 'Mlle'
        end as civility,
        {{ raw_person_fields(
            first_name='first_name', last_name='last_name', email='email', phone='mobile',
            birth_date='birth_date', street='address_line', postcode='postcode', city='city',
        ) }},
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

{{ incremental_deduplicated('renamed_all', 'client_id', also_touched=store_email_changed('client_id')) }},

normalised as (
    select
        *,
        {{ person_fields(
            email='email_raw', phone='phone_raw', first_name='first_name_raw',
            last_name='last_name_raw', birth_date='birth_date_raw', street='street_raw',
            postcode='postcode_raw', city='city_raw', country='country',
        ) }}
    from deduplicated
),

final as (
    select
        client_id,
        store_id,
        advisor_id,
        civility,
        {{ person_columns(['names', 'email']) }},
        {{ is_store_email('email') }} as is_store_email,
        {{ person_columns(['phone', 'birth_date', 'address']) }},
        preferred_category,
        size_top,
        size_shoe,
        is_opted_in_email,
        is_opted_in_sms,
        loyalty_card_id,
        notes,
        created_at,
        updated_at,
        {{ issue_list(
            person_issues(['email'])
            + [('store_generic_email', is_store_email('email'))]
            + person_issues(['phone', 'birth_date'])
        ) }} as normalisation_issues,
        email_raw,
        phone_raw,
        birth_date_raw,
        source_file,
        _dlt_load_id
    from normalised
)

{{ incremental_select('final', 'client_id') }}
