"""Splink 5 (DuckDB backend) with the settings of Splink's own FEBRL examples.

Dedupe follows ``docs/demos/examples/duckdb/febrl3``, link follows the detailed model of
``febrl4``: same blocking rules, comparisons, deterministic rules and recall for the prior,
u by random sampling (1e6 pairs), m by EM on the documented blocking rules, predictions at the
documented match probability 0.2. Rules and comparisons on columns a data set lacks are dropped;
when a documented EM rule's column is missing (RLdata has no postcode), EM blocks on ``surname``
instead so that every comparison still gets its m values.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cdp_demo.linkbench.datasets import SOURCE

THRESHOLD = 0.2  # threshold_match_probability of both examples' predict()
DOB_FORMAT = "%Y%m%d"


def _rules(columns: set[str], link: bool) -> tuple[list[Any], list[Any], list[Any]]:
    """(prediction blocking rules, deterministic rules, EM blocking rules) for these columns."""
    from splink import block_on

    def has(*cols: str) -> bool:
        return set(cols) <= columns

    swapped = "l.given_name = r.surname and l.surname = r.given_name"
    if link:
        blocking = [
            block_on("given_name", "surname") if has("given_name", "surname") else None,
            swapped if has("given_name", "surname") else None,
            block_on("date_of_birth") if has("date_of_birth") else None,
            block_on("soc_sec_id") if has("soc_sec_id") else None,
            block_on("state", "address_1") if has("state", "address_1") else None,
            block_on("street_number", "address_1") if has("street_number", "address_1") else None,
            block_on("postcode") if has("postcode") else None,
        ]
        deterministic = [
            block_on("soc_sec_id") if has("soc_sec_id") else None,
            block_on("given_name", "surname", "date_of_birth"),
        ]
    else:
        blocking = [block_on(c) if has(c) else None for c in ("soc_sec_id", "given_name")]
        blocking += [block_on(c) if has(c) else None for c in ("surname", "date_of_birth")]
        blocking.append(block_on("postcode") if has("postcode") else None)
        deterministic = [
            block_on("soc_sec_id") if has("soc_sec_id") else None,
            block_on("given_name", "surname", "date_of_birth"),
            f"{swapped} and l.date_of_birth = r.date_of_birth",
        ]
    em = [block_on("date_of_birth"), block_on("postcode" if has("postcode") else "surname")]
    return [r for r in blocking if r], [r for r in deterministic if r], em


def _comparisons(columns: set[str], link: bool) -> list[Any]:
    import splink.comparison_library as cl

    dob = cl.DateOfBirthComparison(
        "date_of_birth",
        input_is_string=True,
        datetime_format=DOB_FORMAT,
        invalid_dates_as_null=True,
    )
    documented: dict[str, Any] = {
        "given_name": cl.NameComparison("given_name"),
        "surname": cl.NameComparison("surname"),
        "date_of_birth": dob,
        "soc_sec_id": cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2] if link else [2]),
        "street_number": cl.ExactMatch("street_number"),
        "postcode": (
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2])
            if link
            else cl.ExactMatch("postcode")
        ),
    }
    # term-frequency adjustments where the examples put them (febrl4 adds the names)
    with_tf = {"street_number", "postcode"} | ({"given_name", "surname"} if link else set())
    return [
        c.configure(term_frequency_adjustments=True) if name in with_tf else c
        for name, c in documented.items()
        if name in columns
    ]


def link_pairs(records: pd.DataFrame) -> pd.DataFrame:
    """Predicted pairs (``left, right``) of Splink on ``records`` (``source`` => link only)."""
    from splink import DuckDBAPI, Linker, SettingsCreator

    link = SOURCE in records.columns
    columns = set(records.columns) - {"rec_id", SOURCE}
    blocking, deterministic, em_rules = _rules(columns, link)
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="link_only" if link else "dedupe_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=_comparisons(columns, link),
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    if link:
        frames = [g.drop(columns=SOURCE) for _, g in records.groupby(SOURCE, sort=True)]
        tables = [db_api.register(f.reset_index(drop=True)) for f in frames]
    else:
        tables = [db_api.register(records)]
    linker = Linker(tables if link else tables[0], settings)
    linker.training.estimate_probability_two_random_records_match(
        deterministic, recall=0.8 if link else 0.9
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=link
        )
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    pairs = predictions.as_pandas_dataframe()[["rec_id_l", "rec_id_r"]]
    return pairs.rename(columns={"rec_id_l": "left", "rec_id_r": "right"})
