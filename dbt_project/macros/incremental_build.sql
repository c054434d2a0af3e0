{#- dbt's `is_incremental()`, asked only by the commands that build or unit-test models (run,
    build, retry, test). `is_incremental()` looks the model's table up in the warehouse, so any
    compile of an incremental model needs a connection; `dbt compile`, `show` and `docs`
    render the full build instead, which needs none (the marts compile for PostgreSQL and Spark
    without a server: tests/dbt/test_marts_portable.py).

    In a file of its own: sqlfluff's templater (make lint) handles dbt's `return` only in a
    macro called from another file. -#}
{% macro incremental_build() -%}
    {{ return(flags.WHICH in ('run', 'build', 'retry', 'test') and is_incremental()) }}
{%- endmacro %}
