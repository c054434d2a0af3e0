"""Text hygiene of the file sources: encodings, null tokens, control characters, quotes.

Hand-kept files arrive in whatever encoding the last program saved them in (a Latin-1 list
re-saved as UTF-8 with a BOM, a cp1252 export with curly quotes), so each file's encoding is
detected rather than trusted, and a header that still looks wrong is a reject of the file, not
a load into wrongly named columns. Everything works on whole Arrow arrays; only the rare values
holding a newline (the trace of an unclosed quote) are looked at one by one.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.sources import _bytes

UTF8_BOM = codecs.BOM_UTF8
# Valid multi-byte UTF-8 sequences: their presence means the file was written as UTF-8.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
# Bytes 0x80-0x9f that cp1252 maps to printable characters (euro, curly quotes, oe ...);
# in Latin-1 they are C1 control characters, which hand-typed text never contains.
_CP1252_ONLY = re.compile(rb"[\x80\x82-\x8c\x8e\x91-\x9c\x9e\x9f]")
# C0 controls except tab, newline and carriage return; DEL; C1 controls.
CONTROL_CHARACTERS = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]"
# What UTF-8 read as Latin-1/cp1252 looks like: a lead byte shown as Ã/Â/â followed by a
# continuation byte shown as a Latin-1 symbol, or the BOM shown as ï»¿.
_MOJIBAKE = re.compile("ï»¿|[ÃÂâ][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]")
REPLACEMENT = "\ufffd"


def detect_encoding(data: bytes, declared: str) -> str:
    """The encoding of one file: UTF-8 (with or without BOM), cp1252 or Latin-1.

    A BOM decides. Otherwise a file that decodes as UTF-8, or holds more valid UTF-8
    sequences than stray high bytes (UTF-8 with a few corrupt bytes, which are then rejected
    row by row), is UTF-8. A file of single high bytes is cp1252 when it uses a byte cp1252
    prints and Latin-1 does not, else the declared single-byte encoding (default Latin-1).
    """
    if data.startswith(UTF8_BOM):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    sequences = len(_UTF8_SEQUENCE.findall(data))
    stray = len(_HIGH_BYTE.findall(data)) - sum(len(m) for m in _UTF8_SEQUENCE.findall(data))
    if sequences > stray:
        return "utf-8"
    if _CP1252_ONLY.search(data):
        return "cp1252"
    single_byte = codecs.lookup(declared).name not in ("utf-8", "utf-8-sig")
    return declared if single_byte else "latin-1"


def decode(data: bytes, encoding: str) -> str:
    """The file's text; bytes invalid in `encoding` become U+FFFD (their rows are rejected)."""
    return data.decode(encoding, errors="replace")


def header_problem(names: Sequence[str], encoding: str, expected: Sequence[str]) -> str | None:
    """Why a decoded header cannot be trusted, else None.

    The header must be readable (no replacement or control character, no UTF-8-as-Latin-1
    pattern) and, when `expected` is given, name at least one expected column: anything else
    means the columns would be loaded under the wrong names.
    """
    text = "\x1f".join(names)
    if _MOJIBAKE.search(text):
        return (
            f"header read as {encoding} looks like UTF-8 shown as Latin-1 "
            f"({', '.join(n for n in names if _MOJIBAKE.search(n))}): wrong encoding?"
        )
    if REPLACEMENT in text or re.search(CONTROL_CHARACTERS, text.replace("\x1f", "")):
        return f"header is not readable as {encoding} (invalid bytes or control characters)"
    if expected and not set(names) & set(expected):
        listed = ", ".join(repr(e) for e in list(expected)[:3])
        return f"expected columns ({listed}, ...) not found in the header (read as {encoding})"
    return None


def _string_columns(table: pa.Table) -> list[int]:
    return [
        i
        for i, f in enumerate(table.schema)
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]


def _is_utf8(value: bytes | None) -> bool:
    try:
        value is None or value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def invalid_text_rows(table: pa.Table, encoding: str) -> tuple[pa.Table, dict[int, list[str]]]:
    """Rows holding bytes that are not valid in the file's encoding, with the reasons.

    Returns the table with those values set to NULL (Arrow's string kernels refuse invalid
    UTF-8; the rows are rejected anyway) and the reasons by row index.
    """
    reasons: dict[int, list[str]] = {}
    for i in _string_columns(table):
        name = table.column_names[i]
        column = table.column(i)
        if _bytes.printable_ascii(column):
            continue
        try:
            column.validate(full=True)
            if not _bytes.may_hold_replacement(column):
                continue
            bad = pc.fill_null(pc.match_substring(column, REPLACEMENT), False)
        except pa.ArrowInvalid:  # invalid UTF-8 inside Arrow itself (e.g. from a Parquet file)
            bad = pa.array([not _is_utf8(v) for v in column.cast(pa.binary()).to_pylist()])
            cleaned = pc.if_else(bad, pa.scalar(None, pa.binary()), column.cast(pa.binary()))
            table = table.set_column(i, table.field(i), cleaned.cast(column.type))
        for row in np.flatnonzero(np.asarray(bad.to_numpy(zero_copy_only=False))):
            reasons.setdefault(int(row), []).append(
                f"column {name}: bytes not valid in the file's encoding ({encoding})"
            )
    return table, reasons


def apply_null_tokens(table: pa.Table, tokens: Sequence[str]) -> pa.Table:
    """Text columns: a value equal (after trimming) to a configured token becomes NULL."""
    if not tokens:
        return table
    value_set = pa.array(sorted(set(tokens)), pa.string())
    longest = max(len(t.encode()) for t in value_set.to_pylist())
    for i in _string_columns(table):
        column = table.column(i)
        candidates = np.flatnonzero(_bytes.token_candidates(column, longest))
        if not len(candidates):
            continue
        values = column.take(pa.array(candidates))
        hit = pc.fill_null(pc.is_in(pc.utf8_trim_whitespace(values), value_set=value_set), False)
        hits = candidates[np.asarray(hit.to_numpy(zero_copy_only=False))]
        if len(hits):
            mask = np.zeros(table.num_rows, dtype=bool)
            mask[hits] = True
            column = pc.if_else(pa.array(mask), pa.scalar(None, column.type), column)
            table = table.set_column(i, table.field(i), column)
    return table


def strip_control_characters(table: pa.Table) -> tuple[pa.Table, dict[str, int]]:
    """Remove NUL, other C0 (tab and newlines kept), DEL and C1 characters; count per column."""
    counts: dict[str, int] = {}
    for i in _string_columns(table):
        column = table.column(i)
        if not _bytes.may_hold_control(column):
            continue
        found = pc.sum(pc.count_substring_regex(column, CONTROL_CHARACTERS)).as_py() or 0
        if found:
            counts[table.column_names[i]] = int(found)
            cleaned = pc.replace_substring_regex(column, CONTROL_CHARACTERS, "")
            table = table.set_column(i, table.field(i), cleaned)
    return table, counts


def control_note(counts: dict[str, int]) -> str:
    listed = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
    return f"control characters stripped: {sum(counts.values())} ({listed})"


def record_lines(newlines: np.ndarray, first_line: int = 2) -> np.ndarray:
    """First physical line of each CSV record, given the newlines inside each record."""
    starts = np.empty(len(newlines), dtype=np.int64)
    if len(newlines):
        starts[0] = first_line
        starts[1:] = first_line + np.cumsum(1 + newlines[:-1])
    return starts


def newlines_per_row(table: pa.Table) -> np.ndarray:
    total = np.zeros(table.num_rows, dtype=np.int64)
    for i in _string_columns(table):
        counted = pc.fill_null(pc.count_substring(table.column(i), "\n"), 0)
        total += np.asarray(counted.to_numpy(zero_copy_only=False), dtype=np.int64)
    return total


def swallowed_lines(value: str, delimiter: str, width: int) -> list[str] | None:
    """The lines an unclosed quote swallowed into `value`, or None for a genuine multi-line text.

    A value is taken for the trace of an unclosed quote when one of its inner lines has as
    many delimiters as a whole record (width - 1): a note typed over two lines does not.
    """
    lines = value.split("\n")[1:]
    if any(line.count(delimiter) >= max(width - 1, 1) for line in lines):
        return [line.rstrip("\r") for line in lines]
    return None
