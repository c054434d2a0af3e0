{#- The golden record: one row per resolved person, each attribute group chosen among the
    person's records by the survivorship rule configured in var `survivorship`
    (dbt_project.yml), keeping the source record, system and timestamp of the value.
    The Jinja that unpivots and pivots the configured attributes is in macros/survivorship.sql.

    Incremental on the person (macros/person_diff.sql): a person's row depends only on the
    person's records, so a daily run compares every (person, record) with the ones the last
    run kept (`int_persons_golden__inputs`, written by the post-hook) and chooses the values
    again only for the persons whose records differ (new, merged, split, a record moved or
    edited). -#}

{{ config(
    materialized='incremental',
    unique_key='person_id',
    incremental_strategy='cdp_upsert',
    post_hook="{{ keep_inputs(golden_inputs()) }}",
) }}

{%- set input_columns = [] %}
{%- do add_golden_input_columns(input_columns) %}

with

inputs as (
    {{ golden_inputs() }}
),

{{ person_diff('inputs', 'person_id', input_columns, previous=kept_inputs_relation()) }}

graph as (
    select
        record_id,
        person_id
    from ({{ incremental_touched_rows('inputs', 'person_id') }}) as touched_inputs
),

records as (
    select * from {{ ref('int_identity_records_unioned') }}
),

-- one row per (person, attribute, record carrying a value for it)
candidates as (
    {{ survivorship_candidates('graph', 'records') }}
),

counted as (
    select
        *,
        count(*) over (partition by person_id, attribute, attribute_value) as value_frequency
    from candidates
),

ranked as (
    select
        *,
        row_number() over (
            partition by person_id, attribute
            order by
                case when rule = 'most_frequent' then -value_frequency else 0 end asc,
                case when rule = 'most_recent' then 0 else trust_rank end asc,
                updated_at desc nulls last,
                trust_rank asc,
                record_id asc
        ) as value_rank
    from counted
),

-- per person and attribute: the winning record with its values, system and timestamp
winning_records as (
    select
        ranked.person_id,
        ranked.attribute,
        ranked.record_id,
        ranked.source_system,
        ranked.updated_at,
        {{ survivorship_record_columns('records') }}
    from ranked
    inner join records
        on ranked.record_id = records.record_id
    where ranked.value_rank = 1
),

winners as (
    select
        person_id,
        {{ survivorship_winner_columns() }}
    from winning_records
    group by person_id
),

persons as (
    select
        graph.person_id,
        count(*) as records_count,
        {{ dbt.listagg('distinct records.source_system', "', '", "order by records.source_system") }}
            as source_systems
    from graph
    inner join records
        on graph.record_id = records.record_id
    group by graph.person_id
),

final as (
    select
        persons.person_id,
        {{ survivorship_value_columns('winners') }},
        persons.records_count,
        persons.source_systems
    from persons
    left join winners
        on persons.person_id = winners.person_id
)

{{ incremental_select('final', 'person_id') }}
