{#- A view: no normalisation UDF is called here. -#}
{{ config(materialized='view') }}

with

source as (
    select * from {{ source('esp', 'campaigns') }}
),

renamed as (
    select
        upper({{ clean_text('campaign_id') }}) as campaign_id,
        {{ clean_text('name') }} as campaign_name,
        lower({{ clean_text('channel') }}) as channel,
        lower({{ clean_text('category') }}) as category,
        {{ clean_text('subject') }} as subject,
        {{ to_utc_timestamp('sent_at') }} as sent_at,
        _dlt_load_id
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'campaign_id', '_dlt_load_id desc') }}
),

final as (
    select * exclude (_dedupe_rank) from deduplicated
)

select * from final
