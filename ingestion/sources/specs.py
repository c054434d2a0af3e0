"""The raw schema of every source, read from the `TABLES` each source package declares.

Each `ingestion/sources/<source>/__init__.py` declares its raw tables once as `TableSpec`s
(columns and Arrow types, nested types included for JSON). This module is how the other
layers read them: the demo generator writes its files in that shape, the raw quality suites
check only declared columns, and the dbt sources YAML and docs/data_contract.md are checked
against `raw_tables()` by tests.
"""

from __future__ import annotations

import importlib

import pyarrow as pa

from ingestion.config import SOURCE_NAMES
from ingestion.sources._common import flatten_structs
from ingestion.sources._model import TableSpec

SOURCES = SOURCE_NAMES


def source_specs(source: str) -> tuple[TableSpec, ...]:
    """The `TABLES` declared by the source package `ingestion.sources.<source>`."""
    if source not in SOURCES:
        raise KeyError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    return tuple(importlib.import_module(f"ingestion.sources.{source}").TABLES)


def table_spec(source: str, table: str) -> TableSpec:
    """One declared table of `source`, by name."""
    for spec in source_specs(source):
        if spec.name == table:
            return spec
    raise KeyError(f"{source} declares no table {table!r}")


def raw_tables(source: str) -> dict[str, pa.Schema]:
    """The declared columns of each raw table of `source` as they land in the warehouse.

    Structs are flattened to `parent__child`, string arrays joined into text, and each nested
    array of `children` becomes the table `<parent>__<field>` led by its parent key (typed as
    the parent's first column, its key). Columns added by the loader (`_source_file`, dlt's
    `_dlt_*`) are not part of the declaration.
    """
    tables: dict[str, pa.Schema] = {}
    for spec in source_specs(source):
        nested = {c.field for c in spec.children}
        parent = spec.schema
        tables[spec.name] = flatten_structs(
            pa.schema([f for f in parent if f.name not in nested]).empty_table()
        ).schema
        for child in spec.children:
            values = parent.field(child.field).type.value_type
            fields = list(values) if pa.types.is_struct(values) else [pa.field("value", values)]
            flat = flatten_structs(pa.schema(fields).empty_table()).schema
            key = pa.field(child.parent_key, parent.field(0).type)
            tables[f"{spec.name}__{child.field}"] = pa.schema([key, *flat])
    return tables


_SQL_TYPES = {
    pa.string(): "varchar",
    pa.int64(): "bigint",
    pa.float64(): "double",
    pa.bool_(): "boolean",
    pa.timestamp("us", tz="UTC"): "timestamp with time zone",
}


def sql_type(arrow_type: pa.DataType) -> str:
    """The warehouse (DuckDB) type a declared Arrow type is loaded as."""
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision},{arrow_type.scale})"
    try:
        return _SQL_TYPES[arrow_type]
    except KeyError:
        raise ValueError(f"no warehouse type declared for the Arrow type {arrow_type}") from None


def declared_columns(source: str) -> dict[str, list[tuple[str, str]]]:
    """(column, warehouse type) of every raw table of `source`, in declaration order."""
    return {
        table: [(f.name, sql_type(f.type)) for f in schema]
        for table, schema in raw_tables(source).items()
    }
