"""Stand-ins for dbt's cross-database macros, for sqlfluff's jinja templater only.

sqlfluff renders the models with plain Jinja (no dbt, no warehouse connection); this module is
exposed to the templates as `dbt` (sqlfluff `library_path`) so `{{ dbt.type_string() }}` and
`{{ dbt.listagg(...) }}` render to the DuckDB SQL dbt-duckdb would produce.
"""

from collections.abc import Callable


def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None) -> str:
    order = f" {order_by_clause}" if order_by_clause else ""
    return f"string_agg({measure}, {delimiter_text}{order})"


def dateadd(datepart, interval, from_date_or_timestamp) -> str:
    return f"date_add({from_date_or_timestamp}, interval ({interval}) {datepart})"


def datediff(first_date, second_date, datepart) -> str:
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def date_trunc(datepart, date) -> str:
    return f"date_trunc('{datepart}', {date})"


def current_timestamp() -> str:
    return "now()"


def safe_cast(field, type) -> str:
    return f"try_cast({field} as {type})"


def concat(fields) -> str:
    return " || ".join(fields)


def split_part(string_text, delimiter_text, part_number) -> str:
    return f"split_part({string_text}, {delimiter_text}, {part_number})"


def hash(field) -> str:
    return f"md5(cast({field} as varchar))"


def cast_bool_to_text(field) -> str:
    return f"cast({field} as varchar)"


def array_agg(field) -> str:
    return f"array_agg({field})"


#: dbt's `type_<name>()` macros and the DuckDB type each renders to
TYPES = {
    "string": "varchar",
    "timestamp": "timestamp",
    "int": "integer",
    "bigint": "bigint",
    "numeric": "numeric(28, 6)",
    "float": "double",
    "boolean": "boolean",
}


def __getattr__(name: str) -> Callable[[], str]:
    """`dbt.type_<name>()` of the templates: a macro without arguments rendering TYPES[name]."""
    kind = name.removeprefix("type_")
    if kind == name or kind not in TYPES:
        raise AttributeError(name)
    return lambda: TYPES[kind]
