with

source as (
    select * from {{ source('shop', 'carts') }}
),

renamed as (
    select
        cast(entity_id as bigint) as cart_id,
        cast(customer_id as bigint) as customer_id,
        {{ clean_text('customer_email') }} as email_raw,
        coalesce(cast(is_active as boolean), false) as is_active,
        cast(converted_order_id as bigint) as converted_order_id,
        cast(grand_total as decimal(12, 2)) as grand_total,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id,
        _source_file as source_file
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'cart_id') }}
),

final as (
    select
        cart_id,
        customer_id,
        {{ normalize_email('email_raw') }} as email,
        is_active,
        converted_order_id,
        grand_total,
        created_at,
        updated_at,
        {{ issue_list([
            ('invalid_email', 'email_raw is not null and ' ~ normalize_email('email_raw') ~ ' is null'),
        ]) }} as normalisation_issues,
        source_file,
        _dlt_load_id
    from deduplicated
)

select * from final
