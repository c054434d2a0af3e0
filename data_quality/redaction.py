"""Keep personal data out of the Great Expectations validation store and the Data Docs.

GE writes the failing values of a check (`partial_unexpected_list`, `_counts`,
`_index_list`, `unexpected_rows`) into every stored validation result, and the Data Docs
render them as HTML. The run itself needs them (the masked samples of Dagster metadata and
the CLI are taken from them), so the result in memory is left whole and only the copy handed
to the store is redacted: record ids kept (masked when the key is itself an e-mail or phone),
every value masked, whole unexpected rows dropped, counts kept.
"""

from __future__ import annotations

import copy
from typing import Any

from cdp.pii import mask_free_text
from data_quality.masking import mask_value

_VALUE_LISTS = ("partial_unexpected_list", "unexpected_list")
_ROW_LISTS = ("partial_unexpected_index_list", "unexpected_index_list")


def _mask(column: str, value: Any) -> Any:
    masked = mask_value(column, value)
    return mask_free_text(masked) if isinstance(masked, str) and masked == value else masked


def _mask_item(column: str, value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _mask(str(k), v) for k, v in value.items()}
    return _mask(column, value)


def redact_result(result: dict[str, Any], column: str, index_columns: list[str]) -> None:
    """Mask, in place, the sample values of one expectation's `result` dict."""
    for name in _VALUE_LISTS:
        if isinstance(result.get(name), list):
            result[name] = [_mask_item(column, v) for v in result[name]]
    if isinstance(result.get("partial_unexpected_counts"), list):
        result["partial_unexpected_counts"] = [
            {**c, "value": _mask_item(column, c.get("value"))} if isinstance(c, dict) else c
            for c in result["partial_unexpected_counts"]
        ]
    for name in _ROW_LISTS:
        rows = result.get(name)
        if isinstance(rows, list):
            result[name] = [
                {
                    str(k): (mask_value(k, v) if k in index_columns else _mask(str(k), v))
                    for k, v in row.items()
                }
                if isinstance(row, dict)
                else _mask_item(column, row)
                for row in rows
            ]
    result.pop("unexpected_rows", None)
    observed = result.get("observed_value")
    if isinstance(observed, str | list | dict):
        result["observed_value"] = (
            [_mask_item(column, v) for v in observed]
            if isinstance(observed, list)
            else _mask_item(column, observed)
        )


def redacted(suite_result: Any) -> Any:
    """A copy of a GE suite validation result with every sample value masked."""
    out = copy.deepcopy(suite_result)
    for r in out.results:
        if not r.result:
            continue
        kwargs = r.expectation_config.kwargs if r.expectation_config else {}
        column = str(kwargs.get("column") or "")
        index_columns = list(r.result.get("unexpected_index_column_names") or [])
        redact_result(r.result, column, index_columns)
    return out


def redact_store(store: Any) -> None:
    """Make `store` (a ValidationResultsStore) write redacted copies only."""
    if getattr(store, "_cdp_redacting", False):
        return
    original = store.store_validation_results

    def store_redacted(suite_validation_result, *args, **kwargs):
        return original(redacted(suite_validation_result), *args, **kwargs)

    store.store_validation_results = store_redacted
    store._cdp_redacting = True
