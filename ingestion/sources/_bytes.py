"""Byte-level screens of Arrow string columns: which text checks have anything to find.

The text checks of `_text.py` (undecodable bytes, control characters, null tokens) run Arrow
string kernels over every value. Most columns of machine-written files (ids, codes, URLs) are
printable ASCII throughout, where none of them can find anything; NumPy tells so from the
column's data buffer at memory speed (the minimum and maximum byte), and for the other columns
whether the bytes a finding needs are there at all. A screen only says "look closer": the
string kernels still decide, so the results are those of running them on every column.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

_PRINTABLE = (0x20, 0x7E)  # space to tilde
_C1_LEAD = 0xC2  # U+0080-U+009F are 0xC2 0x80-0xBF ...
_C1_LAST = 0x9F  # ... up to 0xC2 0x9F
_KEPT_CONTROLS = (0x09, 0x0A, 0x0D)  # tab and newlines stay in text
_REPLACEMENT_LEAD = 0xEF  # U+FFFD is 0xEF 0xBF 0xBD


def _layout(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data) of one string chunk, without copies: value i is
    data[offsets[i]:offsets[i + 1]]."""
    offset_type = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    _, offsets_buffer, data_buffer = chunk.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=offset_type)[
        chunk.offset : chunk.offset + len(chunk) + 1
    ]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, np.uint8)
    )
    return offsets, data


def _spans(column: pa.ChunkedArray) -> Iterator[np.ndarray]:
    """The bytes the values of each chunk cover (a slice's buffer may hold more)."""
    for chunk in column.chunks:
        if len(chunk):
            offsets, data = _layout(chunk)
            yield data[offsets[0] : offsets[-1]]


def printable_ascii(column: pa.ChunkedArray) -> bool:
    """Every byte of every value is printable ASCII: valid UTF-8 in any encoding read here,
    no control character, no replacement character."""
    return all(
        not len(span) or (span.min() >= _PRINTABLE[0] and span.max() <= _PRINTABLE[1])
        for span in _spans(column)
    )


def may_hold_replacement(column: pa.ChunkedArray) -> bool:
    """A value may hold U+FFFD (the mark of a byte the file's encoding could not decode)."""
    return any(bool((span == _REPLACEMENT_LEAD).any()) for span in _spans(column))


def may_hold_control(column: pa.ChunkedArray) -> bool:
    """A value holds a C0 control other than tab and newlines, DEL, or a C1 control."""
    for span in _spans(column):
        if not len(span):
            continue
        if span.min() < _PRINTABLE[0]:
            low = span < _PRINTABLE[0]
            for kept in _KEPT_CONTROLS:
                low &= span != kept
            if low.any():
                return True
        if span.max() > _PRINTABLE[1]:
            if (span == 0x7F).any():
                return True
            leads = np.flatnonzero(span[:-1] == _C1_LEAD)
            if len(leads) and (span[leads + 1] <= _C1_LAST).any():
                return True
    return False


def token_candidates(column: pa.ChunkedArray, longest: int) -> np.ndarray:
    """Mask of the values that may equal a token of at most `longest` bytes once trimmed:
    those that short, and those that start or end with a byte that is not printable,
    non-space ASCII (a space, a control, any non-ASCII character: maybe Unicode space).
    Nulls are not candidates."""
    masks = []
    for chunk in column.chunks:
        offsets, data = _layout(chunk)
        lengths = np.diff(offsets)
        mask = lengths <= longest
        span = data[offsets[0] : offsets[-1]]
        # a span of printable ASCII without a space: no value starts or ends with a space
        bare = not len(span) or (span.min() > _PRINTABLE[0] and span.max() <= _PRINTABLE[1])
        if not bare:
            longer = np.flatnonzero(~mask)  # values of one byte or more
            first = data[offsets[longer]]
            last = data[offsets[longer + 1] - 1]
            edge = (first <= _PRINTABLE[0]) | (first > _PRINTABLE[1])
            edge |= (last <= _PRINTABLE[0]) | (last > _PRINTABLE[1])
            mask[longer[edge]] = True
        if chunk.null_count and mask.any():
            mask &= np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False))
        masks.append(mask)
    return np.concatenate(masks) if masks else np.zeros(0, dtype=bool)
