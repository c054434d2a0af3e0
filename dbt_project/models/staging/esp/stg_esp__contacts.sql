{#- Incremental: a run re-types only the keys whose raw rows changed (macros/incremental.sql). -#}
{{ config(materialized='incremental', unique_key='contact_id', incremental_strategy='cdp_upsert') }}

with

source as (
    {{ staging_source('esp', 'contacts') }}
),

renamed_all as (
    select
        upper({{ clean_text('contact_id') }}) as contact_id,
        {{ raw_person_fields(first_name='first_name', last_name='last_name', email='email', phone='cellphone') }},
        {{ text_to_bool('subscribed_email') }} as is_subscribed_email,
        {{ text_to_bool('subscribed_sms') }} as is_subscribed_sms,
        lower({{ clean_text('origin') }}) as origin,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _dlt_load_id
    from source
),

{{ incremental_deduplicated('renamed_all', 'contact_id') }},

normalised as (
    select
        *,
        {{ person_fields(
            email='email_raw', phone='phone_raw', first_name='first_name_raw',
            last_name='last_name_raw',
        ) }}
    from deduplicated
),

final as (
    select
        contact_id,
        {{ person_columns(['email', 'names', 'phone']) }},
        is_subscribed_email,
        is_subscribed_sms,
        origin,
        created_at,
        updated_at,
        {{ issue_list(person_issues(['email', 'phone'])) }} as normalisation_issues,
        email_raw,
        phone_raw,
        _dlt_load_id
    from normalised
)

{{ incremental_select('final', 'contact_id') }}
