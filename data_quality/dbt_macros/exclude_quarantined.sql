{#-
    exclude_quarantined(raw_schema, raw_table, id_column='_dlt_id', alias=none)

    A WHERE-clause predicate that drops raw rows quarantined with severity `error` by the
    data-quality layer (quality.quarantine_rows, written by data_quality/quarantine.py).
    Warn-severity quarantine rows stay in (they are reported, not excluded).

    Usage in a staging model:

        select ...
        from {{ source('raw_shop', 'orders') }} as src
        where {{ exclude_quarantined('raw_shop', 'orders', alias='src') }}

    Before the quality layer has ever run (no quality.quarantine_rows table) the predicate is
    `true`, so staging still builds on a fresh warehouse.
-#}
{% macro exclude_quarantined(raw_schema, raw_table, id_column='_dlt_id', alias=none) -%}
    {%- set quarantine = adapter.get_relation(
            database=target.database, schema='quality', identifier='quarantine_rows'
        ) if execute else none -%}
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
