"""Benchmark of person linkage on public data sets that ship inside PyPI packages.

Scores ``cdp resolve`` (called through its CLI, as a new user would) next to other open-source
linkers run with their own documented settings, on the same files: pairwise precision, recall,
F1, predicted pairs, wall time and peak memory. Entry point: ``scripts/identity_benchmark.py``.
"""
