"""Render the declared raw schema into the dbt sources YAML and docs/data_contract.md.

The columns of every raw table are declared once, in `ingestion/sources/<source>/`. The
`columns:` block of each table in `dbt_project/models/staging/<source>/_<source>__sources.yml`
and the generated section of `docs/data_contract.md` are written from that declaration by
`scripts/sync_raw_schema.py`, and a test fails when the committed files drift from it. Only
those parts are rewritten: descriptions, meta and freshness stay as edited by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingestion.sources.specs import SOURCES, declared_columns

_TABLE = re.compile(r"^      - name: (\S+)\s*$")
_COLUMNS = "        columns:"
DOC_BEGIN = "<!-- raw-schema: generated from ingestion/sources by scripts/sync_raw_schema.py -->"
DOC_END = "<!-- raw-schema: end -->"


def sources_yaml_path(dbt_dir: Path, source: str) -> Path:
    """Where the dbt sources YAML of `source` lives."""
    return dbt_dir / "models" / "staging" / source / f"_{source}__sources.yml"


def _columns_block(columns: list[tuple[str, str]]) -> list[str]:
    lines = [_COLUMNS]
    for name, data_type in columns:
        lines += [f"          - name: {name}", f"            data_type: {data_type}"]
    return lines


def sync_sources_yaml(text: str, source: str) -> str:
    """`text` with the `columns:` block of each declared table rewritten from the declaration.

    The block sits right after the table's `description:` line (or its `name:` line). A table
    the declaration lacks keeps no `columns:` block; a declared table missing from the YAML
    raises, since its description, meta and freshness are written by hand.
    """
    declared = declared_columns(source)
    lines = text.splitlines()
    out: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line == _COLUMNS:  # an old block: skipped, rewritten below
            i += 1
            while i < len(lines) and lines[i].startswith("          "):
                i += 1
            continue
        out.append(line)
        match = _TABLE.match(line)
        i += 1
        if match:
            table = match.group(1)
            seen.add(table)
            if i < len(lines) and lines[i].startswith("        description:"):
                out.append(lines[i])
                i += 1
            if table in declared:
                out += _columns_block(declared[table])
    missing = sorted(set(declared) - seen)
    if missing:
        raise ValueError(
            f"{source}: declared tables without an entry in the sources YAML: {missing}"
        )
    return "\n".join(out) + "\n"


def raw_schema_markdown() -> str:
    """The raw tables and their declared columns, as the generated part of the contract page."""
    rows = ["| raw table | declared columns (warehouse type) |", "|---|---|"]
    for source in SOURCES:
        for table, columns in declared_columns(source).items():
            cells = ", ".join(f"`{name}` {data_type}" for name, data_type in columns)
            rows.append(f"| `raw_{source}.{table}` | {cells} |")
    return "\n".join(rows)


def sync_data_contract(text: str) -> str:
    """`text` with the part between the raw-schema markers rewritten from the declaration."""
    if DOC_BEGIN not in text or DOC_END not in text:
        raise ValueError(f"the page has no section between {DOC_BEGIN!r} and {DOC_END!r}")
    head, rest = text.split(DOC_BEGIN, 1)
    _, tail = rest.split(DOC_END, 1)
    return f"{head}{DOC_BEGIN}\n{raw_schema_markdown()}\n{DOC_END}{tail}"
