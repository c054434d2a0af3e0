"""Synthetic demo retailer ("Horizon"): nine source systems plus the ground truth.

`generate(customers, seed, out, end_date)` writes `out/landing/<source>/...` and
`out/ground_truth/...` as described in docs/data_contract.md and docs/generator.md.
"""

from ingestion.generator.core import generate

__all__ = ["generate"]
