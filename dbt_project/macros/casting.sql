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

{#- A date typed by a person or exported by a tool, to a DATE. Accepts YYYY-MM-DD (with an
    optional time part), DD/MM/YYYY, D/M/YYYY, DD-MM-YYYY, DD.MM.YYYY, DD/MM/YY (two-digit
    years in the future are read as last century) and Excel serial day numbers.
    Anything else becomes null. -#}
{% macro parse_date(column) -%}
    {%- set v = "trim(cast(" ~ column ~ " as varchar))" -%}
    {%- set slashed = "regexp_replace(" ~ v ~ ", '[.-]', '/', 'g')" -%}
    (
        case
            when {{ v }} is null then null
            when regexp_full_match({{ v }}, '\d{4}-\d{1,2}-\d{1,2}([ T].*)?')
                then try_strptime(regexp_extract({{ v }}, '^(\d{4}-\d{1,2}-\d{1,2})', 1), '%Y-%m-%d')
            when regexp_full_match({{ v }}, '\d{1,2}[/.-]\d{1,2}[/.-]\d{4}')
                then try_strptime({{ slashed }}, '%d/%m/%Y')
            when regexp_full_match({{ v }}, '\d{1,2}[/.-]\d{1,2}[/.-]\d{2}')
                then
                    case
                        when try_strptime({{ slashed }}, '%d/%m/%y') > current_date
                            then try_strptime({{ slashed }}, '%d/%m/%y') - interval 100 year
                        else try_strptime({{ slashed }}, '%d/%m/%y')
                    end
            when regexp_full_match({{ v }}, '\d{4,5}(\.0+)?')
                then date '1899-12-30' + cast(cast({{ v }} as double) as integer)
        end
    )::date
{%- endmacro %}

{#- The date parsed by `parse_date`, null when before 1900 or in the future. -#}
{% macro parse_plausible_date(column) -%}
    case
        when {{ parse_date(column) }} between date '1900-01-01' and current_date
            then {{ parse_date(column) }}
    end
{%- endmacro %}
