{#- Every readable consent statement about a person, in time order: preference-centre events
    and the opt-in flags and unsubscribes of the other systems (see int_consent_events_unioned).
    Unreadable statements are not history (no status, maybe no date); they show in
    customer_consent.has_unreadable_statement. -#}

with

consent_events as (
    select * from {{ ref('int_consent_events_unioned') }}
    where is_readable  -- unreadable statements: customer_consent.has_unreadable_statement
),

final as (
    select
        consent_event_key,
        person_id,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        channel,
        purpose,
        status,
        is_granted,
        source,
        source_system,
        reference,
        resolved_by,
        cast(row_number() over (
            partition by person_id, channel, purpose
            order by occurred_at asc, is_granted desc, consent_event_key asc
        ) as {{ dbt.type_int() }}) as sequence_number
    from consent_events
)

select * from final
