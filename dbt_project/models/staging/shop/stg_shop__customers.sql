{#- A table, not a view: it calls the Python normalisation UDFs, which exist only on dbt's
    connections (plugins/cdp_udfs.py); a view would be unreadable from any other client. -#}
{{ config(materialized='table') }}

with

source as (
    select * from {{ source('shop', 'customers') }}
    where {{ exclude_quarantined('raw_shop', 'customers') }}
),

renamed as (
    select
        cast(entity_id as bigint) as customer_id,
        {{ clean_text('email') }} as email_raw,
        {{ clean_text('firstname') }} as first_name_raw,
        {{ clean_text('lastname') }} as last_name_raw,
        {{ clean_text('dob') }} as birth_date_raw,
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

deduplicated as (
    {{ deduplicate('renamed', 'customer_id', 'updated_at desc nulls last, _dlt_load_id desc') }}
),

normalised as (
    select
        *,
        {{ normalize_email('email_raw') }} as email,
        {{ display_name('first_name_raw') }} as first_name,
        {{ display_name('last_name_raw') }} as last_name,
        {{ fold_name('first_name_raw') }} as first_name_key,
        {{ fold_name('last_name_raw') }} as last_name_key,
        {{ parse_birth_date('birth_date_raw') }} as birth_date,
        {{ normalize_card_id('loyalty_card_id_raw') }} as loyalty_card_id
    from deduplicated
),

final as (
    select
        customer_id,
        email,
        {{ is_placeholder_email('email') }} as is_placeholder_email,
        first_name,
        last_name,
        first_name_key,
        last_name_key,
        birth_date,
        gender,
        loyalty_card_id,
        is_subscribed,
        customer_group_id,
        store_view_id,
        website_id,
        created_at,
        updated_at,
        {{ issue_list([
            ('invalid_email', 'email_raw is not null and email is null'),
            ('placeholder_email', is_placeholder_email('email')),
            ('missing_email', 'email_raw is null'),
            ('invalid_birth_date', 'birth_date_raw is not null and birth_date is null'),
            ('missing_name', 'first_name is null and last_name is null'),
        ]) }} as normalisation_issues,
        email_raw,
        birth_date_raw,
        source_file,
        _dlt_load_id
    from normalised
)

select * from final
