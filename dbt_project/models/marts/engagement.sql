{#- E-mail, web and service engagement of every person over rolling windows that end on the
    as-of date (int_as_of_dates_derived: the latest event in the data, not today). A window
    of N days covers the N calendar days up to and including the as-of date. -#}

{%- set email_events = [
    ('sent', 'sent'), ('delivered', 'delivered'), ('open', 'opens'), ('click', 'clicks'),
    ('bounce', 'bounces'), ('unsubscribe', 'unsubscribes'),
] -%}

with

persons as (
    select distinct person_id
    from {{ source('identity', 'identity_graph') }}
),

as_of as (
    select * from {{ ref('int_as_of_dates_derived') }}
),

campaign_events_attributed as (
    select * from {{ ref('int_campaign_events_attributed') }}
),

web_sessions as (
    select * from {{ ref('int_web_sessions_attributed') }}
),

tickets as (
    select * from {{ ref('service_tickets') }}
),

email_events as (
    select
        person_id,
        event_type,
        occurred_at,
        cast(occurred_at as date) as occurred_on
    from campaign_events_attributed
    -- sms campaigns run through the same platform; only e-mail counts here
    where channel = 'email'
),

session_persons as (
    select
        person_id,
        started_at,
        ended_at,
        cast(started_at as date) as started_on,
        product_views,
        add_to_carts
    from web_sessions
),

email_metrics as (
    select
        email_events.person_id,
        {%- for event_type, name in email_events %}
            {%- for days in [30, 90, 365] %}
                sum(case
                    when
                        email_events.event_type = '{{ event_type }}'
                        and email_events.occurred_on > {{ dbt.dateadd('day', -days, 'as_of.as_of_date') }}
                        and email_events.occurred_on <= as_of.as_of_date
                        then 1
                    else 0
                end) as email_{{ name }}_{{ days }}d,
            {%- endfor %}
        {%- endfor %}
        max(case when email_events.event_type = 'open' then email_events.occurred_at end)
            as last_email_open_at
    from email_events
    cross join as_of
    group by email_events.person_id
),

web_metrics as (
    select
        session_persons.person_id,
        {%- for metric, expression in [
            ('sessions', '1'), ('product_views', 'session_persons.product_views'),
            ('add_to_carts', 'session_persons.add_to_carts'),
        ] %}
            {%- for days in [30, 90] %}
                sum(case
                    when
                        session_persons.started_on > {{ dbt.dateadd('day', -days, 'as_of.as_of_date') }}
                        and session_persons.started_on <= as_of.as_of_date
                        then {{ expression }}
                    else 0
                end) as web_{{ metric }}_{{ days }}d,
            {%- endfor %}
        {%- endfor %}
        max(session_persons.ended_at) as last_web_visit_at
    from session_persons
    cross join as_of
    where session_persons.person_id is not null
    group by session_persons.person_id
),

ticket_metrics as (
    select
        tickets.person_id,
        sum(case
            when
                cast(tickets.created_at as date) > {{ dbt.dateadd('day', -365, 'as_of.as_of_date') }}
                and cast(tickets.created_at as date) <= as_of.as_of_date
                then 1
            else 0
        end) as tickets_365d
    from tickets
    cross join as_of
    where tickets.person_id is not null
    group by tickets.person_id
),

final as (
    select
        persons.person_id,
        {%- for event_type, name in email_events %}
            {%- for days in [30, 90, 365] %}
                cast(coalesce(email_metrics.email_{{ name }}_{{ days }}d, 0) as {{ dbt.type_int() }})
                    as email_{{ name }}_{{ days }}d,
            {%- endfor %}
        {%- endfor %}
        {%- for metric in ['sessions', 'product_views', 'add_to_carts'] %}
            {%- for days in [30, 90] %}
                cast(coalesce(web_metrics.web_{{ metric }}_{{ days }}d, 0) as {{ dbt.type_int() }})
                    as web_{{ metric }}_{{ days }}d,
            {%- endfor %}
        {%- endfor %}
        cast(coalesce(ticket_metrics.tickets_365d, 0) as {{ dbt.type_int() }}) as tickets_365d,
        cast(email_metrics.last_email_open_at as {{ dbt.type_timestamp() }}) as last_email_open_at,
        cast(web_metrics.last_web_visit_at as {{ dbt.type_timestamp() }}) as last_web_visit_at,
        as_of.as_of_date
    from persons
    cross join as_of
    left join email_metrics
        on persons.person_id = email_metrics.person_id
    left join web_metrics
        on persons.person_id = web_metrics.person_id
    left join ticket_metrics
        on persons.person_id = ticket_metrics.person_id
)

select * from final
