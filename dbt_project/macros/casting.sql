{#- Typing helpers shared by the staging models, written for DuckDB (the staging layer reads
    the DuckDB raw layer; marts stay portable through dbt's cross-database macros). -#}

{#- Any ISO 8601 timestamp (string with offset, TIMESTAMPTZ or naive UTC TIMESTAMP) to a naive
    TIMESTAMP in UTC, independent of the session time zone. Unparseable values become null. -#}
{% macro to_utc_timestamp(column) -%}
    timezone('UTC', try_cast({{ column }} as timestamptz))
{%- endmacro %}

{#- A text value to a number; unparseable values become null. -#}
{% macro safe_cast(column, type) -%}
    try_cast({{ column }} as {{ type }})
{%- endmacro %}

{#- Empty or blank text to null, other values trimmed. -#}
{% macro clean_text(column) -%}
    nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
{%- endmacro %}

{#- Dates typed by people or exported by tools go through the platform's one date parser
    (`cdp.normalize.dates`, shapes, order and placeholders declared in its `tables/dates.yaml`),
    registered as DuckDB UDFs by `plugins/cdp_udfs.py`: YYYY-MM-DD (with an optional time
    part), DD/MM/YYYY, D/M/YYYY, DD-MM-YYYY, DD.MM.YYYY, DD/MM/YY (the century that keeps the
    date in the past), YYYYMMDD and spreadsheet day numbers. Anything else becomes null. -#}
{% macro parse_date(column) -%}
    cast(cdp_parse_date(cast({{ column }} as varchar)) as date)
{%- endmacro %}

{#- The date parsed by `parse_date`, null when before the earliest plausible date (1900) or in
    the future. -#}
{% macro parse_plausible_date(column) -%}
    cast(cdp_past_date(cast({{ column }} as varchar)) as date)
{%- endmacro %}

{#- A birth date: `parse_date`, null for the placeholder dates (1900-01-01 is "unknown", not
    a birth date), before 1900, or for a person younger than ten: the rule of the identity
    engine (`cdp.normalize.parse_birth_date`). -#}
{% macro parse_birth_date(column) -%}
    cast(cdp_birth_date(cast({{ column }} as varchar)) as date)
{%- endmacro %}
