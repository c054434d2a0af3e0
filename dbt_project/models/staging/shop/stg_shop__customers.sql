{#- Incremental: a run re-types only the keys whose raw rows changed (macros/incremental.sql). -#}
{{ config(materialized='incremental', unique_key='customer_id', incremental_strategy='cdp_upsert') }}

with

source as (
    {{ staging_source('shop', 'customers') }}
),

renamed_all as (
    select
        cast(entity_id as bigint) as customer_id,
        {{ raw_person_fields(first_name='firstname', last_name='lastname', email='email', birth_date='dob') }},
        case cast(gender as integer) when 1 then 'male' when 2 then 'female' end as gender,
        cast(group_id as integer) as customer_group_id,
        cast(store_id as integer) as store_view_id,
        cast(website_id as integer) as website_id,
        {{ clean_text('extension_attributes__loyalty_card_id') }} as loyalty_card_id_raw,
        cast(extension_attributes__is_subscribed as boolean) as is_subscribed,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id,
        _source_file as source_file
    from source
),

{{ incremental_deduplicated('renamed_all', 'customer_id') }},

normalised as (
    select
        *,
        {{ person_fields(
            email='email_raw', first_name='first_name_raw', last_name='last_name_raw',
            birth_date='birth_date_raw',
        ) }},
        {{ normalize_card_id('loyalty_card_id_raw') }} as loyalty_card_id
    from deduplicated
),

final as (
    select
        customer_id,
        {{ person_columns(['email', 'names', 'birth_date']) }},
        gender,
        loyalty_card_id,
        is_subscribed,
        customer_group_id,
        store_view_id,
        website_id,
        created_at,
        updated_at,
        {{ issue_list(
            person_issues(['email']) + [('missing_email', 'email_raw is null')]
            + person_issues(['birth_date']) + [('missing_name', 'first_name is null and last_name is null')]
        ) }} as normalisation_issues,
        email_raw,
        birth_date_raw,
        source_file,
        _dlt_load_id
    from normalised
)

{{ incremental_select('final', 'customer_id') }}
