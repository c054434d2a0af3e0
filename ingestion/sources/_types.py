"""Undeclared columns keep the type they were first loaded with.

A column the source package does not declare is loaded as found (schema evolution). When a
later file brings it with another type (an integer column that turns into text in the next
Parquet file), the values are cast to the type the warehouse already has; a value that cannot
be cast rejects its row. dlt's `data_type: freeze` contract would otherwise fail the whole
source on the first such file.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cdp.pii import value_shape

_CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)


def known_types(table_name: str, seen: dict[str, pa.DataType]) -> dict[str, pa.DataType]:
    """Arrow types of the columns dlt's schema already holds for `table_name`, plus `seen`."""
    import dlt
    from dlt.common.destination.capabilities import DestinationCapabilitiesContext
    from dlt.common.libs.pyarrow import get_py_arrow_datatype

    types = dict(seen)
    try:
        columns = dlt.current.source_schema().tables.get(table_name, {}).get("columns", {})
    except Exception:  # no schema in context (a unit test calling the generator directly)
        columns = {}
    caps = DestinationCapabilitiesContext.generic_capabilities()
    for name, column in columns.items():
        if column.get("data_type") in (None, "json") or name.startswith("_dlt"):
            continue
        try:
            types[name] = get_py_arrow_datatype(column, caps, "UTC")
        except Exception:  # a dlt type without an Arrow twin: leave the column as found
            continue
    return types


def _dlt_type(arrow_type: pa.DataType) -> Any:
    from dlt.common.libs.pyarrow import get_column_type_from_py_arrow

    return get_column_type_from_py_arrow(arrow_type).get("data_type")


def pin_types(
    table: pa.Table, declared: set[str], known: dict[str, pa.DataType]
) -> tuple[pa.Table, dict[int, list[str]]]:
    """Cast undeclared columns whose type changed to the known type; returns failing rows."""
    reasons: dict[int, list[str]] = {}
    for i, f in enumerate(table.schema):
        target = known.get(f.name)
        if f.name in declared or target is None or pa.types.is_null(f.type):
            continue
        if _dlt_type(f.type) == _dlt_type(target):
            continue
        column = table.column(i).combine_chunks()
        try:
            cast = pc.cast(column, target)
        except _CAST_ERRORS:
            values = column.to_pylist()
            bad = []
            for row, value in enumerate(values):
                try:
                    pc.cast(pa.array([value], column.type), target)
                except _CAST_ERRORS:
                    bad.append(row)
                    reasons.setdefault(row, []).append(
                        f"column {f.name}: {value_shape(value)} does not fit its type {target} "
                        f"(loaded as {target} from an earlier file)"
                    )
            mask = pa.array([r in set(bad) for r in range(len(values))])
            cast = pc.cast(pc.if_else(mask, pa.scalar(None, column.type), column), target)
        table = table.set_column(i, pa.field(f.name, target), cast)
    return table, reasons
