with

source as (
    {{ staging_source('spreadsheets', 'event_signups') }}
),

renamed as (
    select
        {{ clean_text('source_file') }} || '#' || cast(cast(source_row as integer) as {{ dbt.type_string() }})
            as signup_id,
        {{ clean_text('source_file') }} as source_file,
        cast(source_row as integer) as source_row,
        {{ raw_person_fields(
            first_name='first_name', last_name='last_name', email='email', phone='phone',
            birth_date='birth_date', postcode='postcode', city='city',
        ) }},
        {{ clean_text('event_name') }} as event_name,
        {{ clean_text('event_date') }} as event_date_raw,
        _dlt_load_id
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'signup_id', '_dlt_load_id desc') }}
),

normalised as (
    select
        *,
        -- a phone stored as a number in Excel lost its leading 0 (and may carry ".0")
        {{ person_fields(
            email='email_raw',
            phone="case when regexp_full_match(phone_raw, '[1-9]\\d{8}(\\.0+)?') "
                ~ "then '0' || split_part(phone_raw, '.', 1) else phone_raw end",
            first_name='first_name_raw', last_name='last_name_raw', birth_date='birth_date_raw',
            postcode='postcode_raw', city='city_raw',
        ) }},
        {{ parse_date('event_date_raw') }} as event_date
    from deduplicated
),

final as (
    select
        signup_id,
        source_file,
        source_row,
        {{ person_columns(['names', 'email', 'phone', 'birth_date']) }},
        postcode,
        city,
        '{{ var("default_country") }}' as country,
        event_name,
        event_date,
        {{ issue_list(
            person_issues(['email', 'phone', 'birth_date'])
            + [('invalid_event_date', 'event_date_raw is not null and event_date is null')]
        ) }} as normalisation_issues,
        email_raw,
        phone_raw,
        birth_date_raw,
        _dlt_load_id
    from normalised
)

select * from final
