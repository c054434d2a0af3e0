{#- Incremental models keyed on a person (or any grouping key) whose rows are cheap to compute
    but costly to finish (a window over every row, the write of millions of rows).

    A daily run computes the relation's rows for everyone and compares them with the table
    person by person: the number of rows and the sum of a 64-bit hash of each row's compared
    columns (`row_hash`), on both sides, grouped by the key. A person whose rows changed in any
    way (new or changed events, records moved by a merge or a split, a row that entered or left
    a window that ends on the as-of moment) is touched; the others keep their rows as they are.
    The model then finishes (windows, numbering) only the touched keys' rows, all of them, so
    each touched key is rebuilt exactly as a full build would; a key with no row left comes out
    of `incremental_select` flagged (or with its `cdp_row_key` null), and the strategy
    `cdp_upsert` only deletes it.

    Equal to a full build unless two different sets of rows of one person have the same count
    and the same sum of 64-bit hashes (about 2^-64 per changed person).
    tests/dbt/test_incremental.py compares every table with a full refresh, row by row. A row
    diff (`EXCEPT ALL` both ways) was exact but cost 53 s of CPU on the 4.0 million timeline
    rows of the 100,000-customer bench, against 1.8 s for the two grouped digests and 5.5 s for
    the whole model's select (docs/performance.md).

    Usage, after the CTE `relation` holding the compared columns:

        {{ config(materialized='incremental', unique_key='person_id',
                  incremental_strategy='cdp_upsert') }}
        ...
        {{ person_diff('rows', 'person_id', ['person_id', 'occurred_at', ...]) }}
        final as (
            select ..., row_number() over (partition by person_id ...) ...
            from ({{ incremental_touched_rows('rows', 'person_id') }}) as rows
        )
        {{ incremental_select('final', 'person_id') }}
-#}

{#- The CTE `touched_keys` (followed by a comma) on an incremental run; nothing on a full one.
    `previous` is the table `relation`'s rows are compared with: the model itself by default,
    or a table of the inputs it kept on its last run (`keep_inputs`); when that table is
    missing every key is touched. -#}
{% macro person_diff(relation, key, columns, previous=none) -%}
    {%- if incremental_build() %}
    {%- set previous = previous if previous is not none else this %}
    {%- if load_relation(previous) is none %}
touched_keys as materialized (
    select {{ key }} as touched_key from {{ relation }}
    union
    select {{ key }} as touched_key from {{ this }}
),
    {%- else %}
{{ relation }}_digests as (
    select
        {{ key }},
        count(*) as rows_count,
        sum({{ row_hash(columns) }}) as rows_digest
    from {{ relation }}
    group by {{ key }}
),

{{ relation }}_previous_digests as (
    select
        {{ key }},
        count(*) as rows_count,
        sum({{ row_hash(columns) }}) as rows_digest
    from {{ previous }}
    group by {{ key }}
),

touched_keys as materialized (
    select coalesce(now_.{{ key }}, before_.{{ key }}) as touched_key
    from {{ relation }}_digests as now_
    full outer join {{ relation }}_previous_digests as before_
        on now_.{{ key }} = before_.{{ key }}
    where
        now_.{{ key }} is null
        or before_.{{ key }} is null
        or now_.rows_count <> before_.rows_count
        or now_.rows_digest <> before_.rows_digest
),
    {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- The table where a model keeps the inputs of its last run (`<model>__inputs`, beside it);
    none where the model has no table of its own (`this` is none in a dbt unit test). -#}
{% macro kept_inputs_relation() -%}
    {%- if this is none %}
    {{ return(none) }}
    {%- endif %}
    {{ return(this.incorporate(path={"identifier": this.identifier ~ "__inputs"})) }}
{%- endmacro %}

{#- Post-hook: keep `select_sql` (the model's inputs, as `person_diff` compares them) for the
    next run, on every build, full or incremental. -#}
{% macro keep_inputs(select_sql) -%}
    create or replace table {{ kept_inputs_relation() }} as {{ select_sql }}
{%- endmacro %}
