{#- Web sessions with their person: the account logged in during the session, else the
    person of its cookie. Sessions of cookies the identity graph does not know keep a null
    person_id (they still count as traffic). -#}

with

identity_graph as (
    {{ identity_graph_links() }}
),

web_sessions as (
    select * from {{ ref('int_web_sessions_stitched') }}
),

final as (
    select
        web_sessions.*,
        coalesce(account_persons.person_id, visitor_persons.person_id) as person_id
    from web_sessions
    left join identity_graph as account_persons
        on
            'shop_customer:' || cast(web_sessions.customer_id as {{ dbt.type_string() }})
            = account_persons.record_id
    left join identity_graph as visitor_persons
        on 'web_visitor:' || web_sessions.anonymous_id = visitor_persons.record_id
)

select * from final
