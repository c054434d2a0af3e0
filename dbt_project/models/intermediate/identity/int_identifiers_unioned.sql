{#- Exact cross-system keys of the identity records, long format (record_id, id_type,
    id_value): two records sharing an (id_type, id_value) are the same person.
    - shop_customer_id: shop accounts; web visitors that logged in (anonymous-to-known
      stitching) or bought as a known customer; tickets about a customer's order
    - loyalty_card_id: POS cards; shop accounts that linked a card; clienteling clients;
      tickets about a receipt paid with a card
    - shop_order_id: guest orders; web visitors that placed them; tickets about them
    - clienteling_id, esp_contact_id: the records themselves -#}

with

orders as (
    select
        increment_id,
        customer_id
    from {{ ref('stg_shop__orders') }}
),

receipts as (
    select
        receipt_id,
        loyalty_card_id
    from {{ ref('stg_pos__receipts') }}
),

shop_customers as (
    select
        'shop_customer:' || cast(customer_id as {{ dbt.type_string() }}) as record_id,
        'shop_customer_id' as id_type,
        cast(customer_id as {{ dbt.type_string() }}) as id_value
    from {{ ref('stg_shop__customers') }}
    union all
    select
        'shop_customer:' || cast(customer_id as {{ dbt.type_string() }}) as record_id,
        'loyalty_card_id' as id_type,
        loyalty_card_id as id_value
    from {{ ref('stg_shop__customers') }}
    where loyalty_card_id is not null
),

shop_guest_orders as (
    select
        'shop_guest_order:' || increment_id as record_id,
        'shop_order_id' as id_type,
        increment_id as id_value
    from orders
    where customer_id is null and increment_id is not null
),

pos_cards as (
    select
        'pos_card:' || loyalty_card_id as record_id,
        'loyalty_card_id' as id_type,
        loyalty_card_id as id_value
    from {{ ref('stg_pos__loyalty_cards') }}
),

clienteling_clients as (
    select
        'clienteling:' || client_id as record_id,
        'clienteling_id' as id_type,
        client_id as id_value
    from {{ ref('stg_clienteling__clients') }}
    union all
    select
        'clienteling:' || client_id as record_id,
        'loyalty_card_id' as id_type,
        loyalty_card_id as id_value
    from {{ ref('stg_clienteling__clients') }}
    where loyalty_card_id is not null
),

esp_contacts as (
    select
        'esp_contact:' || contact_id as record_id,
        'esp_contact_id' as id_type,
        contact_id as id_value
    from {{ ref('stg_esp__contacts') }}
),

web_logins as (
    select
        'web_visitor:' || anonymous_id as record_id,
        'shop_customer_id' as id_type,
        cast(customer_id as {{ dbt.type_string() }}) as id_value
    from {{ ref('int_web_visitors_stitched') }}
    where customer_id is not null
),

web_purchases as (
    select distinct
        'web_visitor:' || web_events.anonymous_id as record_id,
        case
            when orders.customer_id is not null then 'shop_customer_id'
            else 'shop_order_id'
        end as id_type,
        coalesce(cast(orders.customer_id as {{ dbt.type_string() }}), orders.increment_id)
            as id_value
    from {{ ref('stg_web__events') }} as web_events
    inner join orders
        on web_events.order_increment_id = orders.increment_id
    where web_events.event_type = 'purchase' and web_events.anonymous_id is not null
),

ticket_orders as (
    select
        'service_ticket:' || tickets.ticket_id as record_id,
        case
            when orders.customer_id is not null then 'shop_customer_id'
            else 'shop_order_id'
        end as id_type,
        coalesce(cast(orders.customer_id as {{ dbt.type_string() }}), orders.increment_id)
            as id_value
    from {{ ref('stg_service__tickets') }} as tickets
    inner join orders
        on tickets.order_reference = orders.increment_id
),

ticket_receipts as (
    select
        'service_ticket:' || tickets.ticket_id as record_id,
        'loyalty_card_id' as id_type,
        receipts.loyalty_card_id as id_value
    from {{ ref('stg_service__tickets') }} as tickets
    inner join receipts
        on tickets.order_reference = receipts.receipt_id
    where receipts.loyalty_card_id is not null
),

unioned as (
    select * from shop_customers
    union all
    select * from shop_guest_orders
    union all
    select * from pos_cards
    union all
    select * from clienteling_clients
    union all
    select * from esp_contacts
    union all
    select * from web_logins
    union all
    select * from web_purchases
    union all
    select * from ticket_orders
    union all
    select * from ticket_receipts
),

final as (
    select distinct
        record_id || '|' || id_type || '|' || id_value as identifier_key,
        record_id,
        id_type,
        id_value
    from unioned
    where id_value is not null
)

select * from final
