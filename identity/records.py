"""Stage 1 of the identity engine: the input records checked, ordered and normalised into match
keys (cdp.normalize, once per distinct value), plus the link groups of ``link_column``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdp import normalize as nz
from identity.blocking import blocking_fields
from identity.config import IdentityConfig
from identity.distinct import per_distinct
from identity.pairs import finding

#: the columns of a record frame (``updated_at`` optional), as ``resolve`` reads them
RECORD_COLUMNS = (
    "record_id",
    "source_system",
    "first_name",
    "last_name",
    "full_name",
    "email",
    "phone",
    "birth_date",
    "street",
    "postcode",
    "city",
    "country",
    "updated_at",
)


def read_inputs(con) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(records, identifiers) of the pipeline's identity inputs, from a DuckDB connection to
    the warehouse (the dbt models ``int_identity_records_unioned`` and
    ``int_identifiers_unioned``)."""
    # in record_id order, the engine's (``valid_records``), so that it needs no sorted copy
    records = con.execute(
        f"select {', '.join(RECORD_COLUMNS)} from intermediate.int_identity_records_unioned "
        "order by record_id"
    ).df()
    identifiers = con.execute(
        "select record_id, id_type, id_value from intermediate.int_identifiers_unioned"
    ).df()
    return records, identifiers


def valid_records(records: pd.DataFrame, report: list[dict]) -> pd.DataFrame:
    """The records that can be resolved, in record_id order; the others are reported.

    Rows without a record_id are dropped, a repeated record_id keeps its first row.
    """
    if "record_id" not in records.columns:
        raise ValueError("records: missing column 'record_id'")
    rid = records["record_id"]
    bad = rid.isna()
    if bad.any():
        report.append(
            finding("missing_record_id", bad.sum(), "records without record_id are not resolved")
        )
        records = records[~bad]
    dup = records["record_id"].astype("str").duplicated()
    if dup.any():
        report.append(
            finding(
                "duplicate_record_id",
                dup.sum(),
                "repeated record_id: the first row is used",
                value=str(records["record_id"][dup].iloc[0]),
            )
        )
        records = records[~dup.to_numpy()]
    # the same records give the same persons whatever order they come in (a SQL read has
    # none): the random pairs of the estimation are drawn over record_id order
    ids = records["record_id"].astype("str").to_numpy()
    if (ids[1:] > ids[:-1]).all():  # already in order (``read_inputs``): no copy
        return records.reset_index(drop=True)
    order = np.argsort(ids, kind="stable")
    return records.iloc[order].reset_index(drop=True)


def prepare(records: pd.DataFrame, config: IdentityConfig) -> pd.DataFrame:
    """Normalised match keys, one row per record, positional index 0..n-1.

    Columns: ``record_id, first_name, last_name, swappable, birth_date, street, postcode, city,
    email, email_display, phone, name_key``. Missing input columns are treated as absent values.
    """
    n = len(records)
    idx = pd.RangeIndex(n)

    def col(name: str) -> pd.Series:
        if name in records.columns:
            return pd.Series(records[name].array, index=idx)
        return pd.Series([None] * n, index=idx, dtype=object)

    first_raw, last_raw = col("first_name"), col("last_name")
    full = col("full_name")
    no_names = first_raw.isna() & last_raw.isna() & full.notna()
    swappable = pd.Series(False, index=idx)
    if no_names.any():
        split = nz._map_unique(nz._as_text_series(full[no_names]), nz.split_full_name)
        first_raw = first_raw.astype(object)
        last_raw = last_raw.astype(object)
        first_raw[no_names] = split.map(lambda t: t[0] if isinstance(t, tuple) else None)
        last_raw[no_names] = split.map(lambda t: t[1] if isinstance(t, tuple) else None)
        swappable = no_names
    country = col("country")
    email = col("email")
    out = pd.DataFrame(
        {
            "record_id": col("record_id").astype("str"),
            "first_name": per_distinct(nz.first_name_key_series, first_raw),
            "last_name": per_distinct(nz.name_key_series, last_raw),
            "swappable": swappable.to_numpy(),
            "birth_date": per_distinct(nz.parse_birth_date_series, col("birth_date")),
            "street": per_distinct(nz.normalize_street_series, col("street")),
            "postcode": per_distinct(nz.normalize_postcode_series, col("postcode"), country),
            "city": per_distinct(nz.normalize_city_series, col("city")),
            "email": per_distinct(
                lambda v: nz.email_match_key_series(v, config.email_ignore_gmail_dots), email
            ),
            "email_display": per_distinct(nz.normalize_email_series, email),
            "phone": per_distinct(
                lambda v, c: nz.normalize_phone_series(v, c, config.default_region),
                col("phone"),
                country,
            ),
            "personal_id": per_distinct(nz.normalize_identifier_series, col("personal_id")),
        },
        index=idx,
    )
    out = out.join(blocking_fields(out))
    has_name = out["first_name"].notna() & out["last_name"].notna()
    # order-independent (first and last are swapped in some sources) for frequency caps
    f = out["first_name"].astype("str")
    la = out["last_name"].astype("str")
    lo = f.where(f <= la, la)
    hi = la.where(f <= la, f)
    out["name_key"] = (lo + "|" + hi).where(has_name)
    out["names_any_order"] = out["name_key"]
    return out


def link_groups(records: pd.DataFrame, link_column: str | None) -> np.ndarray | None:
    """Group number of each record by ``link_column`` (None: no groups)."""
    if link_column is None:
        return None
    if link_column not in records.columns:
        raise ValueError(f"records: missing link column {link_column!r}")
    return pd.factorize(records[link_column].astype("str"))[0]
