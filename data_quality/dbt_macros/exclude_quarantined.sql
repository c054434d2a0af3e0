{#-
    exclude_quarantined(raw_schema, raw_table, id_column='_dlt_id', alias=none, parent_key=none)

    A WHERE-clause predicate that drops the model's rows whose raw row is quarantined with
    severity `error` by the data-quality layer (quality.quarantine_rows, written by
    data_quality/quarantine.py). Warn-severity quarantine rows stay in (they are reported, not
    excluded).

    - Without `parent_key`: the quarantined rows of `raw_schema.raw_table` are matched on their
      `_dlt_id`, which the model's row carries in `id_column`.
    - With `parent_key`: `raw_table` is the parent of the model's rows (orders of order items,
      receipts of receipt lines); a row is dropped when its parent row, found by
      `raw_table.parent_key` = the row's `id_column`, is quarantined, so a quarantined order
      never leaves its lines behind as orphans.

    Usage in a staging model (dbt_project.yml lists this folder under macro-paths):

        select ...
        from {{ source('shop', 'orders__items') }} as src
        where {{ exclude_quarantined('raw_shop', 'orders__items', alias='src') }}
            and {{ exclude_quarantined('raw_shop', 'orders', 'order_entity_id', parent_key='entity_id') }}

    The macro names the dbt source `quality.quarantine_rows`, so every staging model that calls
    it depends on the quarantine asset in Dagster and is rebuilt after it. Before the quality
    layer has ever run (no quality.quarantine_rows table) the predicate is `true`, so staging
    still builds on a fresh warehouse.
-#}
{% macro exclude_quarantined(raw_schema, raw_table, id_column='_dlt_id', alias=none, parent_key=none) -%}
    {%- set quarantine = _quarantine_relation() -%}
    {%- set id_ref = (alias ~ '.' if alias else '') ~ adapter.quote(id_column) -%}
    {%- if quarantine is none -%}
        true
    {%- else -%}
        not exists (
            select 1
            from {{ quarantine }} as dq_quarantine
            {%- if parent_key %}
            inner join {{ adapter.quote(raw_schema) }}.{{ adapter.quote(raw_table) }} as dq_parent
                on dq_quarantine.row_id = cast(dq_parent._dlt_id as {{ dbt.type_string() }})
            {%- endif %}
            where dq_quarantine.schema_name = '{{ raw_schema }}'
              and dq_quarantine.table_name = '{{ raw_table }}'
              and dq_quarantine.severity = 'error'
              {%- if parent_key %}
              and dq_parent.{{ adapter.quote(parent_key) }} = {{ id_ref }}
              {%- else %}
              and dq_quarantine.row_id = cast({{ id_ref }} as {{ dbt.type_string() }})
              {%- endif %}
        )
    {%- endif %}
{%- endmacro %}

{#- The quarantine table, or none before the quality layer first ran. Naming the source at
    parse time records the dependency (staging model -> quality.quarantine_rows). -#}
{% macro _quarantine_relation() -%}
    {%- set declared = source('quality', 'quarantine_rows') -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=declared.database, schema=declared.schema, identifier=declared.identifier
    )) }}
{%- endmacro %}
