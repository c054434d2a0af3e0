{#- Every interaction of a person across channels, in time order: web orders and refunds,
    store purchases and returns, campaign messages (sent, delivered, opened, clicked, bounced,
    unsubscribed), web sessions and logins, abandoned carts, service tickets, event sign-ups
    and consent changes. Only interactions attributed to a person are kept.

    Incremental on the person (macros/person_diff.sql): a daily run computes every person's
    interactions (joins only), compares them with the table, and numbers and rewrites only the
    persons whose interactions differ (new, moved by a merge or a split, new or changed events,
    a cart that became abandoned as the as-of moment moved). -#}

{{ config(
    materialized='incremental',
    unique_key='person_id',
    incremental_strategy='cdp_upsert',
    cdp_row_key='timeline_event_key',
    on_schema_change='fail',
) }}

{%- set compared = ['timeline_event_key', 'person_id', 'occurred_at', 'channel', 'event_type',
                    'source_system', 'reference', 'amount'] %}

with

identity_graph as (
    {{ identity_graph_links() }}
),

as_of as (
    select * from {{ ref('int_as_of_dates_derived') }}
),

orders as (
    select * from {{ ref('orders') }}
),

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

campaign_events_attributed as (
    select * from {{ ref('int_campaign_events_attributed') }}
),

web_sessions as (
    select * from {{ ref('int_web_sessions_attributed') }}
),

web_logins as (
    select * from {{ ref('stg_web__events') }}
    where event_type = 'login'
),

carts as (
    select * from {{ ref('stg_shop__carts') }}
),

contact_points as (
    select * from {{ ref('int_contact_points_resolved') }}
),

tickets as (
    select * from {{ ref('service_tickets') }}
),

signups as (
    select * from {{ ref('stg_spreadsheets__event_signups') }}
),

consent_events as (
    select * from {{ ref('int_consent_events_unioned') }}
),

order_events as (
    select
        person_id,
        ordered_at as occurred_at,
        channel,
        case
            when channel = 'web' then 'web_order'
            when is_return then 'store_return'
            else 'store_purchase'
        end as event_type,
        case when channel = 'web' then 'shop' else 'pos' end as source_system,
        source_order_id as reference,
        net_amount as amount
    from orders
    where person_id is not null
),

-- a refund has no event of its own in the shop: it is dated at the order's last update
refund_events as (
    select
        orders.person_id,
        shop_orders.updated_at as occurred_at,
        'web' as channel,
        'web_refund' as event_type,
        'shop' as source_system,
        shop_orders.increment_id as reference,
        -shop_orders.total_refunded as amount
    from shop_orders
    inner join orders
        on 'web:' || shop_orders.increment_id = orders.order_key
    where orders.person_id is not null and shop_orders.total_refunded > 0
),

campaign_events as (
    select
        person_id,
        occurred_at,
        channel,
        'campaign_' || event_type as event_type,
        'esp' as source_system,
        event_id as reference,
        cast(null as decimal(18, 2)) as amount
    from campaign_events_attributed
),

session_events as (
    select
        person_id,
        started_at as occurred_at,
        'web' as channel,
        'web_session' as event_type,
        'web' as source_system,
        session_id as reference,
        cast(null as decimal(18, 2)) as amount
    from web_sessions
),

login_events as (
    select
        identity_graph.person_id,
        web_logins.occurred_at,
        'web' as channel,
        'web_login' as event_type,
        'web' as source_system,
        web_logins.event_id as reference,
        cast(null as decimal(18, 2)) as amount
    from web_logins
    inner join identity_graph
        on
            'shop_customer:' || cast(web_logins.customer_id as {{ dbt.type_string() }})
            = identity_graph.record_id
),

-- carts never converted into an order and left untouched for more than an hour (still
-- open, or expired by the shop); a guest cart is attributed through its e-mail when that
-- e-mail belongs to exactly one person
abandoned_carts as (
    select
        carts.cart_id,
        carts.updated_at,
        carts.grand_total,
        coalesce(account_persons.person_id, email_persons.person_id) as person_id
    from carts
    cross join as_of
    left join identity_graph as account_persons
        on
            'shop_customer:' || cast(carts.customer_id as {{ dbt.type_string() }})
            = account_persons.record_id
    left join contact_points as email_persons
        on
            carts.customer_id is null
            and email_persons.contact_point_type = 'email'
            and carts.email = email_persons.contact_point_value
            and email_persons.persons_count = 1
    where
        carts.converted_order_id is null
        and carts.updated_at < {{ dbt.dateadd('hour', -1, 'as_of.as_of_at') }}
),

cart_events as (
    select
        person_id,
        updated_at as occurred_at,
        'web' as channel,
        'cart_abandoned' as event_type,
        'shop' as source_system,
        cast(cart_id as {{ dbt.type_string() }}) as reference,
        grand_total as amount
    from abandoned_carts
),

ticket_events as (
    select
        person_id,
        created_at as occurred_at,
        channel,
        'ticket_opened' as event_type,
        'service' as source_system,
        ticket_id as reference,
        cast(null as decimal(18, 2)) as amount
    from tickets
),

signup_events as (
    select
        identity_graph.person_id,
        cast(signups.event_date as {{ dbt.type_timestamp() }}) as occurred_at,
        'event' as channel,
        'event_signup' as event_type,
        'spreadsheets' as source_system,
        signups.signup_id as reference,
        cast(null as decimal(18, 2)) as amount
    from signups
    inner join identity_graph
        on 'spreadsheet:' || signups.signup_id = identity_graph.record_id
),

consent_changes as (
    select
        person_id,
        occurred_at,
        -- the touchpoint where the statement was made
        case
            when source in ('store', 'clienteling_opt_in') then 'store'
            when source = 'unsubscribe_link' then 'email'
            when source in ('esp_subscription', 'esp_unsubscribe') then channel
            else 'web'
        end as channel,
        'consent_' || status as event_type,
        source_system,
        reference || ' ' || channel || '/' || purpose as reference,
        cast(null as decimal(18, 2)) as amount
    from consent_events
),

unioned as (
    select * from order_events
    union all
    select * from refund_events
    union all
    select * from campaign_events
    union all
    select * from session_events
    union all
    select * from login_events
    union all
    select * from cart_events
    union all
    select * from ticket_events
    union all
    select * from signup_events
    union all
    select * from consent_changes
),

interactions as (
    select
        cast(person_id || '|' || event_type || '|' || reference as {{ dbt.type_string() }})
            as timeline_event_key,
        person_id,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        channel,
        event_type,
        source_system,
        reference,
        cast(amount as decimal(18, 2)) as amount
    from unioned
    where person_id is not null and occurred_at is not null
),

{{ person_diff('interactions', 'person_id', compared) }}

final as (
    select
        interactions.*,
        cast(row_number() over (
            partition by interactions.person_id
            order by interactions.occurred_at, interactions.event_type, interactions.reference
        ) as {{ dbt.type_int() }}) as event_sequence
    from ({{ incremental_touched_rows('interactions', 'person_id') }}) as interactions
)

{{ incremental_select('final', 'person_id', flag=false) }}
