with

source as (
    {{ staging_source('service', 'tickets') }}
),

renamed as (
    select
        upper({{ clean_text('ticket_id') }}) as ticket_id,
        {{ to_utc_timestamp('created_at') }} as created_at,
        lower({{ clean_text('channel') }}) as channel,
        {{ clean_text('requester_name') }} as requester_name,
        {{ raw_person_fields(email='requester_email', phone='requester_phone') }},
        lower({{ clean_text('category') }}) as category,
        {{ clean_text('subject') }} as subject,
        upper({{ clean_text('order_reference') }}) as order_reference,
        lower({{ clean_text('status') }}) as status,
        {{ safe_cast('satisfaction', 'integer') }} as satisfaction,
        {{ to_utc_timestamp('solved_at') }} as solved_at,
        _dlt_load_id,
        _source_file as source_file
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'ticket_id', 'coalesce(solved_at, created_at) desc nulls last, _dlt_load_id desc') }}
),

-- requester_name is one free-text field: "First Last", "LAST First" or "Last, First";
-- split by cdp.normalize.split_full_name (titles dropped, capitals = last name)
names as (
    select
        *,
        cdp_split_name(requester_name, 'first') as first_name_raw,
        cdp_split_name(requester_name, 'last') as last_name_raw
    from deduplicated
),

normalised as (
    select
        *,
        {{ person_fields(
            email='email_raw', phone='phone_raw', first_name='first_name_raw',
            last_name='last_name_raw',
        ) }}
    from names
),

final as (
    select
        ticket_id,
        created_at,
        channel,
        requester_name,
        {{ person_columns(['names', 'email', 'phone']) }},
        category,
        subject,
        order_reference,
        case
            when order_reference is null then null
            when order_reference like 'R-%' then 'receipt'
            else 'shop_order'
        end as order_reference_type,
        status,
        satisfaction,
        solved_at,
        {{ issue_list(
            person_issues(['email', 'phone']) + [('invalid_satisfaction', 'satisfaction not between 1 and 5')]
        ) }} as normalisation_issues,
        email_raw,
        phone_raw,
        source_file,
        _dlt_load_id
    from normalised
)

select * from final
