"""Stand-in for dbt's `adapter.dispatch`, for sqlfluff's jinja templater only.

The project's dispatched macros (macros/portable.sql) render to their `default__` SQL, the
form DuckDB runs.
"""

_DEFAULTS = {
    "array_agg_where": lambda value, condition: (
        f"array_agg({value} order by {value}) filter (where {condition})"
    ),
    "row_hash": lambda columns: f"hash({', '.join(columns)})",
}


def dispatch(macro_name, macro_namespace=None):
    return _DEFAULTS[macro_name]
