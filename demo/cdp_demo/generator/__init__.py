"""Synthetic demo retailer ("Horizon"): nine source systems plus the ground truth.

`generate(customers, seed, out, end_date)` writes `out/landing/<source>/...` and
`out/ground_truth/...` as described in docs/data_contract.md and docs/generator.md.
The import is lazy so that `cdp --help` does not load numpy and pandas.
"""

from typing import Any

__all__ = ["generate"]


def __getattr__(name: str) -> Any:
    if name == "generate":
        from cdp_demo.generator.core import generate

        return generate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
