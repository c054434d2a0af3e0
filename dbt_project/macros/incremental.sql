{#- Incremental staging: a daily run re-types only the keys whose raw rows changed.

    An incremental staging model is built in full on its first run and with `--full-refresh`;
    afterwards its batch is the set of *touched keys*, each rebuilt from all of its raw rows:

    - keys with a raw row loaded after the model's newest `_dlt_load_id` (new or changed rows:
      dlt merges a changed row under a new load id);
    - keys kept by the source filter but absent from the model (new keys, and rows that the
      quality layer released from quarantine: `absurd_amount` follows the table's median and
      `future_date` follows the clock, so an old row can leave or enter the quarantine);
    - keys in the model that the source filter no longer keeps (newly quarantined rows, or rows
      whose parent was quarantined): these come out of the batch flagged `_cdp_dropped`.

    The strategy `cdp_upsert` (below) deletes every touched key from the model and inserts the
    batch's rows that are not dropped, so the result equals a full build of the same raw data
    whatever the model's deduplication order (tests/dbt/test_incremental.py checks this table by
    table). The model must carry `_dlt_load_id` and a non-null unique key (a `not_null` test).

    Usage, around the model's own CTEs:

        {{ config(materialized='incremental', unique_key='event_id',
                  incremental_strategy='cdp_upsert') }}
        ...
        renamed_all as (... every kept raw row, typed, with the key and _dlt_load_id ...),
        {{ incremental_deduplicated('renamed_all', 'event_id', '_dlt_load_id desc') }},
        ...
        final as (...)
        {{ incremental_select('final', 'event_id') }}
-#}

{#- The CTEs `touched_keys` (incremental run only), `renamed` (the rows of `relation` whose key
    is touched) and `deduplicated` (one row per key, the first by `order_by`, by default the
    latest version; see `deduplicate`), with no comma after the last. `also_touched`: a select
    of more keys to rebuild, for a model whose rows depend on another table than its source
    (see `store_email_changed`). -#}
{% macro incremental_deduplicated(relation, key, order_by='updated_at desc nulls last, _dlt_load_id desc', also_touched=none) -%}
{{ incremental_touched_keys(relation, key, also_touched) }}

renamed as (
    {{ incremental_touched_rows(relation, key) }}
),

deduplicated as (
    {{ deduplicate('renamed', key, order_by) }}
)
{%- endmacro %}

{#- The CTE `touched_keys` (followed by a comma) on an incremental run; nothing on a full one.
    `relation` is the CTE of every kept raw row, typed, with `key` and `_dlt_load_id`. -#}
{% macro incremental_touched_keys(relation, key, also_touched=none) -%}
    {%- if incremental_build() %}
touched_keys as materialized (
    select {{ key }} as touched_key
    from {{ relation }}
    where _dlt_load_id > (select coalesce(max(_dlt_load_id), '') from {{ this }})
    {%- if also_touched %}
    union
    {{ also_touched }}
    {%- endif %}
    union
    select coalesce(kept.{{ key }}, existing.{{ key }}) as touched_key
    from (select distinct {{ key }} from {{ relation }}) as kept
    full outer join (select {{ key }} from {{ this }}) as existing
        on kept.{{ key }} = existing.{{ key }}
    where kept.{{ key }} is null or existing.{{ key }} is null
),
    {%- endif %}
{%- endmacro %}

{#- Whether an (already normalised) e-mail is a store's generic address (stg_pos__stores): staff
    typed the boutique's own address for a walk-in client. -#}
{% macro is_store_email(email) -%}
    coalesce({{ email }} in (select generic_email from {{ ref('stg_pos__stores') }}), false)
{%- endmacro %}

{#- The keys of the model's rows whose `is_store_email` no longer says whether their `email` is
    a store's generic address: a store's address changed after they were built. -#}
{% macro store_email_changed(key) -%}
    select {{ key }} from {{ this }}
    where is_store_email <> {{ is_store_email('email') }}
{%- endmacro %}

{#- The rows of `relation` whose key is touched; every row on a full build. -#}
{% macro incremental_touched_rows(relation, key) -%}
    select * from {{ relation }}
    {%- if incremental_build() %}
    where {{ key }} in (select touched_key from touched_keys)
    {%- endif %}
{%- endmacro %}

{#- The model's select: every row of `relation` on a full build; on an incremental one, a row
    per touched key, flagged `_cdp_dropped` when the key has no row any more. A model whose
    contract forbids the extra column passes `flag=false` and names, in its config
    `cdp_row_key`, a column that is never null in its rows: a key with no row comes out with it
    null. -#}
{% macro incremental_select(relation, key, flag=true) -%}
    {%- if incremental_build() %}
    select
        {{ relation }}.* replace (touched_keys.touched_key as {{ key }})
        {%- if flag %},
        {{ relation }}.{{ key }} is null as _cdp_dropped
        {%- endif %}
    from touched_keys
    left join {{ relation }} on {{ relation }}.{{ key }} = touched_keys.touched_key
    {%- else %}
    select * from {{ relation }}
    {%- endif %}
{%- endmacro %}

{#- Custom incremental strategy (dbt calls get_incremental_<strategy>_sql): delete every key of
    the batch, insert the batch's rows that are not `_cdp_dropped` (or, for a model with the
    config `cdp_row_key`, whose row key is set). Only the target's columns are inserted
    (`dest_columns`), so the flag never reaches the table. -#}
{% macro get_incremental_cdp_upsert_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set batch = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set row_key = config.get('cdp_row_key') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ key }} in (select {{ key }} from {{ batch }});
    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ batch }}
    where {{ row_key ~ ' is not null' if row_key else 'not _cdp_dropped' }}
{%- endmacro %}
