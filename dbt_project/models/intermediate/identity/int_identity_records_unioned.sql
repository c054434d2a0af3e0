{#- One row per identified source record, the `records` input of the identity engine.
    record_id = '<source_system>:<source_key>' with the ground-truth source_system names.
    Placeholder e-mails/phones and store generic e-mails are blanked here so they can
    never link two people (they stay visible, flagged, in staging). -#}

with

customer_addresses as (
    select
        customer_id,
        street,
        postcode,
        city,
        country,
        phone,
        is_placeholder_phone,
        row_number() over (
            partition by customer_id
            order by is_default_billing desc, is_default_shipping desc, address_id asc
        ) as address_rank
    from {{ ref('stg_shop__customer_addresses') }}
),

shop_customers as (
    select
        customers.*,
        customer_addresses.street,
        customer_addresses.postcode,
        customer_addresses.city,
        customer_addresses.country,
        customer_addresses.phone,
        customer_addresses.is_placeholder_phone
    from {{ ref('stg_shop__customers') }} as customers
    left join customer_addresses
        on
            customers.customer_id = customer_addresses.customer_id
            and customer_addresses.address_rank = 1
),

{#- The sources of identity records: the person fields each one has, under which names. -#}
{%- set sources = [
    {'source_system': 'shop_customer', 'relation': 'shop_customers',
     'source_key': 'cast(customer_id as ' ~ dbt.type_string() ~ ')',
     'has': ['names', 'email', 'phone', 'birth_date', 'address']},
    {'source_system': 'shop_guest_order', 'relation': ref('stg_shop__orders'),
     'source_key': 'increment_id', 'has': ['names', 'email', 'phone', 'address'],
     'columns': {'phone': 'billing_phone', 'street': 'billing_street',
                 'postcode': 'billing_postcode', 'city': 'billing_city',
                 'country': 'billing_country'},
     'where': 'customer_id is null'},
    {'source_system': 'pos_card', 'relation': ref('stg_pos__loyalty_cards'),
     'source_key': 'loyalty_card_id', 'store_email': true,
     'has': ['names', 'email', 'phone', 'birth_date', 'address']},
    {'source_system': 'clienteling', 'relation': ref('stg_clienteling__clients'),
     'source_key': 'client_id', 'store_email': true,
     'has': ['names', 'email', 'phone', 'birth_date', 'address']},
    {'source_system': 'esp_contact', 'relation': ref('stg_esp__contacts'),
     'source_key': 'contact_id', 'has': ['names', 'email', 'phone']},
    {'source_system': 'web_visitor', 'relation': ref('int_web_visitors_stitched'),
     'source_key': 'anonymous_id', 'has': [], 'updated_at': 'last_seen_at'},
    {'source_system': 'service_ticket', 'relation': ref('stg_service__tickets'),
     'source_key': 'ticket_id', 'has': ['names', 'email', 'phone'],
     'updated_at': 'coalesce(solved_at, created_at)'},
    {'source_system': 'spreadsheet', 'relation': ref('stg_spreadsheets__event_signups'),
     'source_key': 'signup_id',
     'has': ['names', 'email', 'phone', 'birth_date', 'postcode', 'city', 'country'],
     'updated_at': 'cast(event_date as timestamp)'},
] %}

unioned as (
    {{ union_each(identity_record, sources) }}
),

final as (
    select
        source_system || ':' || source_key as record_id,
        source_system,
        source_key,
        first_name,
        last_name,
        nullif(trim(concat_ws(' ', first_name, last_name)), '') as full_name,
        email,
        phone,
        birth_date,
        street,
        postcode,
        city,
        country,
        updated_at,
        first_name_key,
        last_name_key,
        {{ address_key('street') }} as street_key
    from unioned
)

select * from final
