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

{#- The exact keys each source's records carry. -#}
{%- set customer_id = 'cast(customer_id as ' ~ dbt.type_string() ~ ')' -%}
{%- set identifiers = [
    {'source_system': 'shop_customer', 'relation': ref('stg_shop__customers'),
     'source_key': customer_id, 'id_type': 'shop_customer_id'},
    {'source_system': 'shop_customer', 'relation': ref('stg_shop__customers'),
     'source_key': customer_id, 'id_type': 'loyalty_card_id', 'id_value': 'loyalty_card_id',
     'where': 'loyalty_card_id is not null'},
    {'source_system': 'shop_guest_order', 'relation': 'orders', 'source_key': 'increment_id',
     'id_type': 'shop_order_id', 'where': 'customer_id is null and increment_id is not null'},
    {'source_system': 'pos_card', 'relation': ref('stg_pos__loyalty_cards'),
     'source_key': 'loyalty_card_id', 'id_type': 'loyalty_card_id'},
    {'source_system': 'clienteling', 'relation': ref('stg_clienteling__clients'),
     'source_key': 'client_id', 'id_type': 'clienteling_id'},
    {'source_system': 'clienteling', 'relation': ref('stg_clienteling__clients'),
     'source_key': 'client_id', 'id_type': 'loyalty_card_id', 'id_value': 'loyalty_card_id',
     'where': 'loyalty_card_id is not null'},
    {'source_system': 'esp_contact', 'relation': ref('stg_esp__contacts'),
     'source_key': 'contact_id', 'id_type': 'esp_contact_id'},
    {'source_system': 'web_visitor', 'relation': ref('int_web_visitors_stitched'),
     'source_key': 'anonymous_id', 'id_type': 'shop_customer_id', 'id_value': customer_id,
     'where': 'customer_id is not null'},
] %}

declared as (
    {{ union_each(identity_identifier, identifiers) }}
),

web_purchases as (
    select distinct
        'web_visitor:' || web_events.anonymous_id as record_id,
        {{ order_identifier('orders') }}
    from {{ ref('stg_web__events') }} as web_events
    inner join orders
        on web_events.order_increment_id = orders.increment_id
    where web_events.event_type = 'purchase' and web_events.anonymous_id is not null
),

ticket_orders as (
    select
        'service_ticket:' || tickets.ticket_id as record_id,
        {{ order_identifier('orders') }}
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
    {{ union_all(['declared', 'web_purchases', 'ticket_orders', 'ticket_receipts']) }}
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
