{#- Cross-warehouse helpers the dbt cross-database macros (dbt.listagg, dbt.type_*, ...) do not
    cover. Each dispatches on the adapter: `default__` is standard SQL (DuckDB, PostgreSQL);
    an adapter whose dialect differs gets its own implementation. -#}

{#- Sorted array of the non-null `value`s of the rows where `condition` holds; null when there
    is none (not an empty array). -#}
{% macro array_agg_where(value, condition) -%}
    {{ return(adapter.dispatch('array_agg_where', 'cdp')(value, condition)) }}
{%- endmacro %}

{% macro default__array_agg_where(value, condition) -%}
    array_agg({{ value }} order by {{ value }}) filter (where {{ condition }})
{%- endmacro %}

{#- Spark has no ordered aggregate: collect_list drops nulls, array_sort orders. -#}
{% macro spark__array_agg_where(value, condition) -%}
    case
        when count(case when {{ condition }} then {{ value }} end) > 0
            then array_sort(collect_list(case when {{ condition }} then {{ value }} end))
    end
{%- endmacro %}

{#- dbt.type_float() is `float` on every adapter: double precision on PostgreSQL, but a 4-byte
    REAL on DuckDB. The scores are doubles: DuckDB gets `double` (dbt_project.yml lets this
    project's implementation win the dispatch of the `dbt` namespace). -#}
{% macro duckdb__type_float() -%}
    double
{%- endmacro %}

{#- A 64-bit hash of a row's `columns` (a list of column names), summed per person by
    `person_diff` to tell whether a person's rows changed: only compared with hashes of the same
    adapter, never stored as data. -#}
{% macro row_hash(columns) -%}
    {{ return(adapter.dispatch('row_hash', 'cdp')(columns)) }}
{%- endmacro %}

{% macro default__row_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro postgres__row_hash(columns) -%}
    hashtextextended(row({{ columns | join(', ') }})::text, 0)
{%- endmacro %}

{% macro spark__row_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}
