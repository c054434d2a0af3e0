{#- Incremental models keyed on a person (or any grouping key) whose rows are cheap to compute
    but costly to finish (a window over every row, the write of millions of rows).

    A daily run computes the relation's rows for everyone, compares them with the table
    (`EXCEPT ALL` both ways on the compared columns, standard SQL) and takes the keys of the rows
    that differ as its *touched keys*: a person whose rows changed in any way (new or changed
    events, records moved by a merge or a split, a row that entered or left a window that ends
    on the as-of moment) is touched; the others keep their rows as they are. The model then
    finishes (windows, numbering) only the touched keys' rows, all of them, so each touched key
    is rebuilt exactly as a full build would; a key with no row left comes out flagged
    `_cdp_dropped` (`incremental_select`) and the strategy `cdp_upsert` deletes it.

    Equal to a full build by construction: a key is skipped only when its rows, compared column
    by column, are those already in the table (tests/dbt/test_incremental.py compares every
    person-keyed model with a full refresh, row by row).

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
    {%- if is_incremental() %}
    {%- set previous = previous if previous is not none else this %}
    {%- set listed = columns | join(', ') %}
    {%- if load_relation(previous) is none %}
touched_keys as materialized (
    select {{ key }} as touched_key from {{ relation }}
    union
    select {{ key }} as touched_key from {{ this }}
),
    {%- else %}
{{ relation }}_added as (
    select {{ listed }} from {{ relation }}
    except all
    select {{ listed }} from {{ previous }}
),

{{ relation }}_removed as (
    select {{ listed }} from {{ previous }}
    except all
    select {{ listed }} from {{ relation }}
),

touched_keys as materialized (
    select {{ key }} as touched_key from {{ relation }}_added
    union
    select {{ key }} as touched_key from {{ relation }}_removed
),
    {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- The table where a model keeps the inputs of its last run (`<model>__inputs`, beside it). -#}
{% macro kept_inputs_relation() -%}
    {{ return(this.incorporate(path={"identifier": this.identifier ~ "__inputs"})) }}
{%- endmacro %}

{#- Post-hook: keep `select_sql` (the model's inputs, as `person_diff` compares them) for the
    next run, on every build, full or incremental. -#}
{% macro keep_inputs(select_sql) -%}
    create or replace table {{ kept_inputs_relation() }} as {{ select_sql }}
{%- endmacro %}
