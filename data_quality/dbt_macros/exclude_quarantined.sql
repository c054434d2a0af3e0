{#-
    exclude_quarantined(raw_schema, raw_table, id_column='_dlt_id', alias=none)

    A WHERE-clause predicate that drops raw rows quarantined with severity `error` by the
    data-quality layer (quality.quarantine_rows, written by data_quality/quarantine.py).
    Warn-severity quarantine rows stay in (they are reported, not excluded).

    Usage in a staging model (dbt_project.yml lists this folder under macro-paths):

        select ...
        from {{ source('shop', 'orders') }} as src
        where {{ exclude_quarantined('raw_shop', 'orders', alias='src') }}

    The macro names the dbt source `quality.quarantine_rows`, so every staging model that calls
    it depends on the quarantine asset in Dagster and is rebuilt after it. Before the quality
    layer has ever run (no quality.quarantine_rows table) the predicate is `true`, so staging
    still builds on a fresh warehouse.
-#}
{% macro exclude_quarantined(raw_schema, raw_table, id_column='_dlt_id', alias=none) -%}
    {%- set quarantine = _quarantine_relation() -%}
    {%- set id_ref = (alias ~ '.' if alias else '') ~ adapter.quote(id_column) -%}
    {%- if quarantine is none -%}
        true
    {%- else -%}
        not exists (
            select 1
            from {{ quarantine }} as dq_quarantine
            where dq_quarantine.schema_name = '{{ raw_schema }}'
              and dq_quarantine.table_name = '{{ raw_table }}'
              and dq_quarantine.severity = 'error'
              and dq_quarantine.row_id = cast({{ id_ref }} as varchar)
        )
    {%- endif -%}
{%- endmacro %}

{#-
    exclude_quarantined_parent(raw_schema, parent_table, parent_key, key_column, alias=none)

    The same for child rows (order items, receipt lines): drops the rows whose parent row
    (`raw_schema.parent_table`, matched on `parent_key` = `key_column`) is quarantined with
    severity `error`, so a quarantined order never leaves its lines behind as orphans.
-#}
{% macro exclude_quarantined_parent(raw_schema, parent_table, parent_key, key_column, alias=none) -%}
    {%- set quarantine = _quarantine_relation() -%}
    {%- set key_ref = (alias ~ '.' if alias else '') ~ adapter.quote(key_column) -%}
    {%- if quarantine is none -%}
        true
    {%- else -%}
        not exists (
            select 1
            from {{ quarantine }} as dq_quarantine
            inner join {{ adapter.quote(raw_schema) }}.{{ adapter.quote(parent_table) }} as dq_parent
                on dq_quarantine.row_id = cast(dq_parent._dlt_id as varchar)
            where dq_quarantine.schema_name = '{{ raw_schema }}'
              and dq_quarantine.table_name = '{{ parent_table }}'
              and dq_quarantine.severity = 'error'
              and dq_parent.{{ adapter.quote(parent_key) }} = {{ key_ref }}
        )
    {%- endif -%}
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
