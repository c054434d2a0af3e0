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

identity_graph as (
    select
        record_id,
        person_id
    from {{ source('identity', 'identity_graph') }}
),

as_of as (
    select * from {{ ref('int_as_of_dates_derived') }}
),

esp_events as (
    select * from {{ ref('stg_esp__events') }}
),

esp_campaigns as (
    select
        campaign_id,
        channel
    from {{ ref('stg_esp__campaigns') }}
),

web_sessions as (
    select * from {{ ref('int_web_sessions_stitched') }}
),

tickets as (
    select * from {{ ref('service_tickets') }}
),

email_events as (
    select
        identity_graph.person_id,
        esp_events.event_type,
        esp_events.occurred_at,
        cast(esp_events.occurred_at as date) as occurred_on
    from esp_events
    inner join identity_graph
        on 'esp_contact:' || esp_events.contact_id = identity_graph.record_id
    left join esp_campaigns
        on esp_events.campaign_id = esp_campaigns.campaign_id
    -- sms campaigns run through the same platform; only e-mail counts here
    where coalesce(esp_campaigns.channel, 'email') = 'email'
),

-- a session belongs to the account logged in during it, else to the person of its cookie
session_persons as (
    select
        coalesce(account_persons.person_id, visitor_persons.person_id) as person_id,
        web_sessions.started_at,
        web_sessions.ended_at,
        cast(web_sessions.started_at as date) as started_on,
        web_sessions.product_views,
        web_sessions.add_to_carts
    from web_sessions
    left join identity_graph as account_persons
        on
            'shop_customer:' || cast(web_sessions.customer_id as {{ dbt.type_string() }})
            = account_persons.record_id
    left join identity_graph as visitor_persons
        on 'web_visitor:' || web_sessions.anonymous_id = visitor_persons.record_id
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
                cast(coalesce(email_metrics.email_{{ name }}_{{ days }}d, 0) as integer)
                    as email_{{ name }}_{{ days }}d,
            {%- endfor %}
        {%- endfor %}
        {%- for metric in ['sessions', 'product_views', 'add_to_carts'] %}
            {%- for days in [30, 90] %}
                cast(coalesce(web_metrics.web_{{ metric }}_{{ days }}d, 0) as integer) as web_{{ metric }}_{{ days }}d,
            {%- endfor %}
        {%- endfor %}
        cast(coalesce(ticket_metrics.tickets_365d, 0) as integer) as tickets_365d,
        cast(email_metrics.last_email_open_at as timestamp) as last_email_open_at,
        cast(web_metrics.last_web_visit_at as timestamp) as last_web_visit_at,
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
