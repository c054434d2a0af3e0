"""Column checks of a very large table computed by DuckDB instead of a pandas frame: the
unexpected-row counts, and the SQL of a few offending rows."""

from __future__ import annotations

import re
from typing import Any

from data_quality.suites.base import ColumnCheck, SuiteContext, q


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if re.match(r"^\d{4}-\d{2}-\d{2}T", text):
        return f"TIMESTAMPTZ '{text}'"
    return "'" + text.replace("'", "''") + "'"


def _pushdown_predicate(check: ColumnCheck, ctx: SuiteContext) -> tuple[str, str]:
    """(predicate true for an unexpected row, expression counted as the denominator)."""
    e = f"({check.expr or q(check.column)})"
    kwargs = check.build_kwargs(ctx)
    kind = check.expectation
    if kind == "ExpectColumnValuesToNotBeNull":
        return f"{e} IS NULL", "*"
    if kind == "ExpectColumnValuesToBeInSet":
        values = ", ".join(_literal(v) for v in kwargs["value_set"])
        return f"{e} IS NOT NULL AND NOT list_contains([{values}], {e})", e
    if kind == "ExpectColumnValuesToBeBetween":
        parts = []
        if kwargs.get("min_value") is not None:
            parts.append(f"{e} < {_literal(kwargs['min_value'])}")
        if kwargs.get("max_value") is not None:
            parts.append(f"{e} > {_literal(kwargs['max_value'])}")
        return f"{e} IS NOT NULL AND ({' OR '.join(parts) or 'false'})", e
    if kind == "ExpectColumnValuesToMatchRegex":
        regex = _literal(kwargs["regex"])
        return f"{e} IS NOT NULL AND NOT regexp_matches(CAST({e} AS VARCHAR), {regex})", e
    raise ValueError(f"no DuckDB form for {kind}")


def _key_exprs(check: ColumnCheck) -> list[str]:
    if check.is_compound:
        return [q(c) for c in check.needed]
    return [f"({check.expr or q(check.column)})"]


def _pushdown_counts(con, ctx: SuiteContext, check: ColumnCheck) -> tuple[int, int]:
    """(unexpected rows, rows counted) for one column check, computed by DuckDB."""
    if check.expectation in ("ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"):
        cols = _key_exprs(check)
        present = " OR ".join(f"{c} IS NOT NULL" for c in cols)
        row = con.execute(
            f"SELECT coalesce(sum(n) FILTER (WHERE n > 1), 0), coalesce(sum(n), 0) FROM ("
            f"SELECT count(*) AS n FROM {ctx.relation} WHERE {present} "
            f"GROUP BY {', '.join(cols)})"
        ).fetchall()[0]
        return int(row[0]), int(row[1])
    predicate, denominator = _pushdown_predicate(check, ctx)
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE {predicate}), count({denominator}) FROM {ctx.relation}"
    ).fetchall()[0]
    return int(row[0]), int(row[1])


def _pushdown_sample_sql(
    ctx: SuiteContext, check: ColumnCheck, key_columns: list[str], n: int
) -> str:
    """A few offending rows: the table key plus the checked value."""
    items = {k: q(k) for k in key_columns}
    if check.is_compound:
        items.update({c: q(c) for c in check.needed})
    else:
        items.setdefault(check.column, f"({check.expr or q(check.column)})")
    select = ", ".join(f"{sql} AS {q(alias)}" for alias, sql in items.items())
    if check.expectation in ("ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"):
        cols = _key_exprs(check)
        dupes = (
            f"SELECT {', '.join(cols)} FROM {ctx.relation} "
            f"GROUP BY {', '.join(cols)} HAVING count(*) > 1"
        )
        if len(cols) == 1:
            where = f"{cols[0]} IN ({dupes})"
        else:
            where = f"row({', '.join(cols)}) IN (SELECT row({', '.join(cols)}) FROM ({dupes}))"
        return f"SELECT {select} FROM {ctx.relation} WHERE {where} LIMIT {n}"
    predicate, _ = _pushdown_predicate(check, ctx)
    return f"SELECT {select} FROM {ctx.relation} WHERE {predicate} LIMIT {n}"
