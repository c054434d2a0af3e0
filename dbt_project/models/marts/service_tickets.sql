{#- One row per customer-service ticket, with the person who raised it and the order it is
    about (when its reference is a known web order or receipt). -#}

with

tickets as (
    select * from {{ ref('stg_service__tickets') }}
),

identity_graph as (
    {{ identity_graph_links() }}
),

orders as (
    select
        order_key,
        source_order_id,
        channel
    from {{ ref('orders') }}
),

final as (
    select
        cast(tickets.ticket_id as {{ dbt.type_string() }}) as ticket_id,
        identity_graph.person_id,
        cast(tickets.created_at as {{ dbt.type_timestamp() }}) as created_at,
        tickets.channel,
        tickets.category,
        tickets.status,
        cast(tickets.satisfaction as {{ dbt.type_int() }}) as satisfaction,
        cast(tickets.solved_at as {{ dbt.type_timestamp() }}) as solved_at,
        cast({{ dbt.datediff('tickets.created_at', 'tickets.solved_at', 'hour') }} as {{ dbt.type_int() }})
            as resolution_hours,
        orders.order_key
    from tickets
    left join identity_graph
        on 'service_ticket:' || tickets.ticket_id = identity_graph.record_id
    left join orders
        on
            tickets.order_reference = orders.source_order_id
            and orders.channel = case
                when tickets.order_reference_type = 'receipt' then 'store'
                else 'web'
            end
)

select * from final
