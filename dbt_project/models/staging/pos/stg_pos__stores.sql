with

source as (
    select * from {{ source('pos', 'stores') }}
),

renamed as (
    select
        {{ clean_text('store_id') }} as store_id,
        {{ clean_text('name') }} as store_name,
        lower({{ clean_text('kind') }}) as store_kind,
        {{ normalize_street('street') }} as street,
        {{ normalize_country('country') }} as country,
        {{ clean_text('postcode') }} as postcode_raw,
        {{ normalize_city('city') }} as city,
        {{ parse_plausible_date('opened_on') }} as opened_on,
        {{ clean_text('generic_email') }} as generic_email_raw,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'store_id') }}
),

final as (
    select
        store_id,
        store_name,
        store_kind,
        street,
        {{ normalize_postcode('postcode_raw', 'country') }} as postcode,
        city,
        country,
        opened_on,
        {{ normalize_email('generic_email_raw') }} as generic_email,
        updated_at,
        _dlt_load_id
    from deduplicated
)

select * from final
