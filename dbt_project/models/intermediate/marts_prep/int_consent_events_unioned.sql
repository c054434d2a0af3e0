{#- Every consent statement about a person, one row per (statement, person):

    - preference-centre events (stg_consent__events), attached to the person of the shop
      account they name, else of their e-mail, else of their phone. A grant found through an
      e-mail or phone shared by several persons is attached to nobody (it cannot be told whose
      it is); a withdrawal is attached to every person sharing the value (fail closed).
    - opt-in flags of other systems, which only state a current value: clienteling
      opt_in_email / opt_in_sms, ESP subscribed_email / subscribed_sms, shop newsletter
      subscription. A true flag is dated at the record's creation (the earliest moment the
      grant can be placed), a false flag at the record's last update (the latest), so a flag
      of uncertain date never outweighs an explicit withdrawal.
    - ESP unsubscribe events (withdrawal of marketing on the campaign's channel).

    Flags cover purpose `marketing` only.

    Unreadable preference-centre events (a status, channel, purpose or date that
    config/consent.yaml does not know; stg_consent__events.is_readable false) fail safe: unless
    the status clearly says granted, the event is kept as an unreadable statement
    (is_readable false, status 'unreadable'), attached like a withdrawal and spread over every
    channel (purpose) when the channel (purpose) is unreadable. customer_consent withholds
    consent wherever such a statement exists, until the event is corrected. An unreadable
    grant grants nothing. -#}

with

identity_graph as (
    {{ identity_graph_links() }}
),

contact_points as (
    select * from {{ ref('int_contact_points_resolved') }}
),

preference_events as (
    select
        * exclude (is_granted),
        coalesce(is_readable and is_granted, false) as is_granted
    from {{ ref('stg_consent__events') }}
    where is_readable or not coalesce(is_granted, false)
),

consent_channels as (
    select 'email' as channel
    union all
    select 'sms' as channel
    union all
    select 'phone' as channel
    union all
    select 'ads' as channel
),

consent_purposes as (
    select 'marketing' as purpose
    union all
    select 'profiling' as purpose
),

clienteling_clients as (
    select * from {{ ref('stg_clienteling__clients') }}
),

esp_contacts as (
    select * from {{ ref('stg_esp__contacts') }}
),

campaign_events_attributed as (
    select * from {{ ref('int_campaign_events_attributed') }}
),

shop_customers as (
    select * from {{ ref('stg_shop__customers') }}
),

preference_by_account as (
    select
        preference_events.consent_event_id,
        identity_graph.person_id
    from preference_events
    inner join identity_graph
        on
            'shop_customer:' || cast(preference_events.customer_id as {{ dbt.type_string() }})
            = identity_graph.record_id
),

-- an event not attached through its account is attached through its e-mail, else its phone
preference_by_email as (
    {{ preference_by_contact_point('email', ['preference_by_account']) }}
),

preference_by_phone as (
    {{ preference_by_contact_point('phone', ['preference_by_account', 'preference_by_email']) }}
),

preference_persons as (
    select
        consent_event_id,
        person_id,
        'shop_customer_id' as resolved_by
    from preference_by_account
    {%- for contact_point_type in ['email', 'phone'] %}
        union all
        select
            preference_by_{{ contact_point_type }}.consent_event_id,
            preference_by_{{ contact_point_type }}.person_id,
            '{{ contact_point_type }}' as resolved_by
        from preference_by_{{ contact_point_type }}
        inner join preference_events
            on preference_by_{{ contact_point_type }}.consent_event_id = preference_events.consent_event_id
        where preference_by_{{ contact_point_type }}.persons_count = 1 or not preference_events.is_granted
    {%- endfor %}
),

preference_statements as (
    select
        'consent:' || preference_events.consent_event_id
        || case
            when preference_events.channel is null or preference_events.purpose is null
                then ':' || consent_channels.channel || ':' || consent_purposes.purpose
            else ''
        end as statement_id,
        preference_persons.person_id,
        consent_channels.channel,
        consent_purposes.purpose,
        preference_events.is_granted,
        preference_events.occurred_at,
        coalesce(preference_events.consent_source, 'preference_centre') as source,
        'consent' as source_system,
        preference_events.consent_event_id as reference,
        preference_persons.resolved_by,
        preference_events.is_readable
    from preference_events
    inner join preference_persons
        on preference_events.consent_event_id = preference_persons.consent_event_id
    inner join consent_channels
        on coalesce(preference_events.channel, consent_channels.channel) = consent_channels.channel
    inner join consent_purposes
        on coalesce(preference_events.purpose, consent_purposes.purpose) = consent_purposes.purpose
),

{#- The opt-in flags of other systems: (source_system, record prefix, relation, key, source,
    channel, flag column). -#}
{%- set customer_id = 'cast(customer_id as ' ~ dbt.type_string() ~ ')' %}
{%- set opt_in_flags = [
    ('clienteling', 'clienteling', 'clienteling_clients', 'client_id', 'clienteling_opt_in',
     'email', 'is_opted_in_email'),
    ('clienteling', 'clienteling', 'clienteling_clients', 'client_id', 'clienteling_opt_in',
     'sms', 'is_opted_in_sms'),
    ('esp', 'esp_contact', 'esp_contacts', 'contact_id', 'esp_subscription',
     'email', 'is_subscribed_email'),
    ('esp', 'esp_contact', 'esp_contacts', 'contact_id', 'esp_subscription',
     'sms', 'is_subscribed_sms'),
    ('shop', 'shop_customer', 'shop_customers', customer_id, 'shop_newsletter',
     'email', 'is_subscribed'),
] %}

flags as (
    {%- for source_system, record, relation, key, source, channel, flag in opt_in_flags %}
        select
            '{{ source_system }}' as source_system,
            '{{ record }}:' || {{ key }} as record_id,
            {{ key }} as reference,
            '{{ source }}' as source,
            '{{ channel }}' as channel,
            {{ flag }} as is_granted,
            created_at,
            updated_at
        from {{ relation }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

flag_statements as (
    select
        flags.source || ':' || flags.channel || ':' || flags.reference as statement_id,
        identity_graph.person_id,
        flags.channel,
        'marketing' as purpose,
        flags.is_granted,
        case
            when flags.is_granted then coalesce(flags.created_at, flags.updated_at)
            else coalesce(flags.updated_at, flags.created_at)
        end as occurred_at,
        flags.source,
        flags.source_system,
        flags.reference,
        'record' as resolved_by,
        true as is_readable
    from flags
    inner join identity_graph
        on flags.record_id = identity_graph.record_id
    where flags.is_granted is not null
),

unsubscribe_statements as (
    select
        'esp_unsubscribe:' || event_id as statement_id,
        person_id,
        channel,
        'marketing' as purpose,
        false as is_granted,
        occurred_at,
        'esp_unsubscribe' as source,
        'esp' as source_system,
        event_id as reference,
        'record' as resolved_by,
        true as is_readable
    from campaign_events_attributed
    where event_type = 'unsubscribe'
),

unioned as (
    select * from preference_statements
    union all
    select * from flag_statements
    union all
    select * from unsubscribe_statements
),

final as (
    select
        statement_id || '|' || person_id as consent_event_key,
        person_id,
        cast(occurred_at as timestamp) as occurred_at,
        channel,
        purpose,
        case
            when not is_readable then 'unreadable'
            when is_granted then 'granted'
            else 'withdrawn'
        end as status,
        is_granted,
        source,
        source_system,
        reference,
        resolved_by,
        is_readable
    from unioned
    where occurred_at is not null or not is_readable
)

select * from final
