{#- One row per (contact point, person): every normalised e-mail and phone seen on a person's
    identity records, with the number of persons sharing it. Used to attach records that carry
    only an e-mail or a phone (preference-centre events, guest carts) to a person; a value
    shared by several persons (household phone, shared address) is ambiguous. Placeholder
    and store generic values are already blanked in int_identity_records_unioned. -#}

with

identity_graph as (
    {{ identity_graph_links() }}
),

records as (
    select
        record_id,
        email,
        phone
    from {{ ref('int_identity_records_unioned') }}
),

contact_points as (
    select
        'email' as contact_point_type,
        records.email as contact_point_value,
        identity_graph.person_id
    from records
    inner join identity_graph
        on records.record_id = identity_graph.record_id
    where records.email is not null
    union all
    select
        'phone' as contact_point_type,
        records.phone as contact_point_value,
        identity_graph.person_id
    from records
    inner join identity_graph
        on records.record_id = identity_graph.record_id
    where records.phone is not null
),

distinct_points as (
    select distinct
        contact_point_type,
        contact_point_value,
        person_id
    from contact_points
),

final as (
    select
        contact_point_type || ':' || contact_point_value || '|' || person_id as contact_point_key,
        contact_point_type,
        contact_point_value,
        person_id,
        cast(count(*) over (
            partition by contact_point_type, contact_point_value
        ) as integer) as persons_count
    from distinct_points
)

select * from final
