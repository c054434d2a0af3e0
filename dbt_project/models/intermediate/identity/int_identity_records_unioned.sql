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
        'shop_customer' as source_system,
        cast(customers.customer_id as {{ dbt.type_string() }}) as source_key,
        customers.first_name,
        customers.last_name,
        customers.first_name_key,
        customers.last_name_key,
        case when not customers.is_placeholder_email then customers.email end as email,
        case when not customer_addresses.is_placeholder_phone then customer_addresses.phone end
            as phone,
        customers.birth_date,
        customer_addresses.street,
        customer_addresses.postcode,
        customer_addresses.city,
        customer_addresses.country,
        customers.updated_at
    from {{ ref('stg_shop__customers') }} as customers
    left join customer_addresses
        on
            customers.customer_id = customer_addresses.customer_id
            and customer_addresses.address_rank = 1
),

shop_guest_orders as (
    select
        'shop_guest_order' as source_system,
        increment_id as source_key,
        first_name,
        last_name,
        first_name_key,
        last_name_key,
        case when not is_placeholder_email then email end as email,
        case when not is_placeholder_phone then billing_phone end as phone,
        cast(null as date) as birth_date,
        billing_street as street,
        billing_postcode as postcode,
        billing_city as city,
        billing_country as country,
        updated_at
    from {{ ref('stg_shop__orders') }}
    where customer_id is null
),

pos_cards as (
    select
        'pos_card' as source_system,
        loyalty_card_id as source_key,
        first_name,
        last_name,
        first_name_key,
        last_name_key,
        case when not (is_placeholder_email or is_store_email) then email end as email,
        case when not is_placeholder_phone then phone end as phone,
        birth_date,
        street,
        postcode,
        city,
        country,
        updated_at
    from {{ ref('stg_pos__loyalty_cards') }}
),

clienteling_clients as (
    select
        'clienteling' as source_system,
        client_id as source_key,
        first_name,
        last_name,
        first_name_key,
        last_name_key,
        case when not (is_placeholder_email or is_store_email) then email end as email,
        case when not is_placeholder_phone then phone end as phone,
        birth_date,
        street,
        postcode,
        city,
        country,
        updated_at
    from {{ ref('stg_clienteling__clients') }}
),

esp_contacts as (
    select
        'esp_contact' as source_system,
        contact_id as source_key,
        first_name,
        last_name,
        first_name_key,
        last_name_key,
        case when not is_placeholder_email then email end as email,
        case when not is_placeholder_phone then phone end as phone,
        cast(null as date) as birth_date,
        cast(null as {{ dbt.type_string() }}) as street,
        cast(null as {{ dbt.type_string() }}) as postcode,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as country,
        updated_at
    from {{ ref('stg_esp__contacts') }}
),

web_visitors as (
    select
        'web_visitor' as source_system,
        anonymous_id as source_key,
        cast(null as {{ dbt.type_string() }}) as first_name,
        cast(null as {{ dbt.type_string() }}) as last_name,
        cast(null as {{ dbt.type_string() }}) as first_name_key,
        cast(null as {{ dbt.type_string() }}) as last_name_key,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as phone,
        cast(null as date) as birth_date,
        cast(null as {{ dbt.type_string() }}) as street,
        cast(null as {{ dbt.type_string() }}) as postcode,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as country,
        last_seen_at as updated_at
    from {{ ref('int_web_visitors_stitched') }}
),

service_tickets as (
    select
        'service_ticket' as source_system,
        ticket_id as source_key,
        first_name,
        last_name,
        first_name_key,
        last_name_key,
        case when not is_placeholder_email then email end as email,
        case when not is_placeholder_phone then phone end as phone,
        cast(null as date) as birth_date,
        cast(null as {{ dbt.type_string() }}) as street,
        cast(null as {{ dbt.type_string() }}) as postcode,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as country,
        coalesce(solved_at, created_at) as updated_at
    from {{ ref('stg_service__tickets') }}
),

spreadsheet_signups as (
    select
        'spreadsheet' as source_system,
        signup_id as source_key,
        first_name,
        last_name,
        first_name_key,
        last_name_key,
        case when not is_placeholder_email then email end as email,
        case when not is_placeholder_phone then phone end as phone,
        birth_date,
        cast(null as {{ dbt.type_string() }}) as street,
        postcode,
        city,
        country,
        cast(event_date as timestamp) as updated_at
    from {{ ref('stg_spreadsheets__event_signups') }}
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
    select * from web_visitors
    union all
    select * from service_tickets
    union all
    select * from spreadsheet_signups
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
