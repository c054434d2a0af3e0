{#- Current consent of every person for every channel x purpose. The latest statement wins;
    on equal timestamps a withdrawal wins, so a withdrawal is never overridden by an older (or
    simultaneous) grant. A person with no statement has no consent. A person with an unreadable
    statement on a channel x purpose (see int_consent_events_unioned) has no consent there
    until it is corrected, whatever the other statements say (fail safe). -#}

{%- set channels = ['email', 'sms', 'phone', 'ads'] -%}
{%- set purposes = ['marketing', 'profiling'] -%}

with

persons as (
    select distinct person_id
    from {{ source('identity', 'identity_graph') }}
),

consent_events as (
    select * from {{ ref('int_consent_events_unioned') }}
    where is_readable
),

unreadable as (
    select distinct
        person_id,
        channel,
        purpose
    from {{ ref('int_consent_events_unioned') }}
    where not is_readable
),

channels as (
    {%- for channel in channels %}
        select '{{ channel }}' as channel{{ " union all" if not loop.last }}
    {%- endfor %}
),

purposes as (
    {%- for purpose in purposes %}
        select '{{ purpose }}' as purpose{{ " union all" if not loop.last }}
    {%- endfor %}
),

ranked_events as (
    select
        person_id,
        channel,
        purpose,
        is_granted,
        occurred_at,
        source,
        row_number() over (
            partition by person_id, channel, purpose
            order by
                occurred_at desc,
                case when is_granted then 1 else 0 end asc,
                consent_event_key asc
        ) as recency_rank
    from consent_events
),

latest_events as (
    select * from ranked_events
    where recency_rank = 1
),

person_channel_purposes as (
    select
        persons.person_id,
        channels.channel,
        purposes.purpose
    from persons
    cross join channels
    cross join purposes
),

final as (
    select
        person_channel_purposes.person_id,
        person_channel_purposes.channel,
        person_channel_purposes.purpose,
        coalesce(latest_events.is_granted, false)
        and unreadable.person_id is null as is_granted,
        latest_events.occurred_at as status_at,
        latest_events.source,
        unreadable.person_id is not null as has_unreadable_statement
    from person_channel_purposes
    left join latest_events
        on
            person_channel_purposes.person_id = latest_events.person_id
            and person_channel_purposes.channel = latest_events.channel
            and person_channel_purposes.purpose = latest_events.purpose
    left join unreadable
        on
            person_channel_purposes.person_id = unreadable.person_id
            and person_channel_purposes.channel = unreadable.channel
            and person_channel_purposes.purpose = unreadable.purpose
)

select * from final
