"""``cdp resolve``: identity resolution on any CSV file, with the pipeline's engine and config."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

COUNTRY_NAMES = {
    "france": "FR",
    "fra": "FR",
    "belgique": "BE",
    "belgium": "BE",
    "belgie": "BE",
    "suisse": "CH",
    "switzerland": "CH",
    "schweiz": "CH",
    "luxembourg": "LU",
    "monaco": "MC",
    "allemagne": "DE",
    "germany": "DE",
    "deutschland": "DE",
    "espagne": "ES",
    "spain": "ES",
    "espana": "ES",
    "italie": "IT",
    "italy": "IT",
    "italia": "IT",
    "royaume uni": "GB",
    "united kingdom": "GB",
    "uk": "GB",
    "england": "GB",
    "etats unis": "US",
    "united states": "US",
    "usa": "US",
    "canada": "CA",
    "pays bas": "NL",
    "netherlands": "NL",
    "portugal": "PT",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "resolve",
        help="group the rows of a CSV file into persons (identity resolution)",
        description="Identity resolution on a CSV file: writes record_id,person_id per input "
        "row, in input order. Any encoding (UTF-8, else cp1252/Latin-1) and delimiter (sniffed); "
        "every value is read as text; an absent option means the attribute is absent.",
    )
    p.add_argument("input", type=Path, metavar="INPUT.csv")
    p.add_argument("--out", type=Path, required=True, metavar="OUTPUT.csv")
    p.add_argument("--id", required=True, dest="id_col", help="column identifying a row")
    p.add_argument("--first-name")
    p.add_argument("--last-name")
    p.add_argument("--full-name", help="one free-text name column (used when first/last absent)")
    p.add_argument("--email")
    p.add_argument("--phone")
    p.add_argument("--birth-date")
    p.add_argument("--address", action="append", default=[], help="street column(s), repeatable")
    p.add_argument("--postcode")
    p.add_argument("--city")
    p.add_argument("--country", help="per-row country (ISO code or name), used to parse phones")
    p.add_argument(
        "--key", action="append", default=[], help="exact identifier column(s), repeatable"
    )
    p.add_argument("--config", type=Path, help="identity YAML (default: config/identity.yaml)")
    p.set_defaults(func=run)


def read_text_table(path: Path):
    """A CSV of unknown encoding and delimiter, every cell as text (missing -> NA)."""
    import csv
    import io

    import pandas as pd

    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    sample = text[:65536]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        delimiter = max(",;\t|", key=first.count)
    return pd.read_csv(
        io.StringIO(text),
        sep=delimiter,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        skipinitialspace=True,
    )


def build_inputs(frame, args):
    """(records, identifiers, key id_types) in the engine's shape from the CLI column options."""
    import pandas as pd

    from cdp.normalize import fold_name

    def col(name):
        if name is None:
            return pd.Series([None] * len(frame), index=frame.index, dtype=object)
        return frame[name]

    ids = frame[args.id_col].fillna("").astype(str).str.strip()
    ids = ids.where(
        ids != "", "row" + pd.Series(range(1, len(frame) + 1), index=frame.index).astype(str)
    )
    dup = ids.duplicated(keep=False)
    ids = ids.where(
        ~dup, ids + "#" + pd.Series(range(1, len(frame) + 1), index=frame.index).astype(str)
    )
    street = None
    if args.address:
        parts = frame[args.address].fillna("")
        street = parts.apply(lambda c: c.str.strip()).agg(" ".join, axis=1).str.strip()
        street = street.where(street != "", None)
    country = col(args.country)
    if args.country:

        def to_iso(value: object) -> str | None:
            folded = fold_name(value) if isinstance(value, str) else None
            if not folded:
                return None
            return COUNTRY_NAMES.get(folded, folded.upper())

        country = country.astype(object).map(to_iso)
    records = pd.DataFrame(
        {
            "record_id": ids.to_numpy(),
            "source_system": "csv",
            "first_name": col(args.first_name).to_numpy(),
            "last_name": col(args.last_name).to_numpy(),
            "full_name": col(args.full_name).to_numpy(),
            "email": col(args.email).to_numpy(),
            "phone": col(args.phone).to_numpy(),
            "birth_date": col(args.birth_date).to_numpy(),
            "street": street.to_numpy() if street is not None else None,
            "postcode": col(args.postcode).to_numpy(),
            "city": col(args.city).to_numpy(),
            "country": country.to_numpy(),
        }
    )
    id_parts = []
    for key in args.key:
        values = frame[key].astype(object)
        keep = values.notna()
        id_parts.append(
            pd.DataFrame(
                {
                    "record_id": ids[keep].to_numpy(),
                    "id_type": f"key:{key}",
                    "id_value": values[keep],
                }
            )
        )
    identifiers = (
        pd.concat(id_parts, ignore_index=True)
        if id_parts
        else pd.DataFrame({"record_id": [], "id_type": [], "id_value": []})
    )
    return records, identifiers, [f"key:{k}" for k in args.key]


def run(args: argparse.Namespace) -> int:
    import time

    from cdp.identity.config import DeterministicRule, IdentityConfigError, load_config
    from cdp.identity.engine import resolve

    started = time.perf_counter()
    try:
        config = load_config(args.config)
    except IdentityConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.input.exists():
        print(f"error: {args.input}: file not found", file=sys.stderr)
        return 2
    try:
        frame = read_text_table(args.input)
    except Exception as exc:
        print(f"error: {args.input}: cannot read as a delimited text file: {exc}", file=sys.stderr)
        return 2
    wanted = [
        args.id_col,
        args.first_name,
        args.last_name,
        args.full_name,
        args.email,
        args.phone,
        args.birth_date,
        args.postcode,
        args.city,
        args.country,
        *args.address,
        *args.key,
    ]
    missing = [c for c in wanted if c is not None and c not in frame.columns]
    if missing:
        print(
            f"error: {args.input}: no column(s) {missing}; columns are {list(frame.columns)}",
            file=sys.stderr,
        )
        return 2
    records, identifiers, key_types = build_inputs(frame, args)
    # exact keys given on the command line are the strongest rules
    known = {r.id_type for r in config.deterministic}
    extra = [DeterministicRule(name=t, id_type=t) for t in key_types if t not in known]
    config = config.model_copy(update={"deterministic": [*extra, *config.deterministic]})
    result = resolve(records, identifiers, config)
    person = result.graph.set_index("record_id")["person_id"]
    out = frame[[args.id_col]].rename(columns={args.id_col: "record_id"})
    out["person_id"] = person.reindex(records["record_id"]).to_numpy()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(args.out, index=False)
    elapsed = time.perf_counter() - started
    print(f"records: {len(out)}")
    print(f"persons: {result.stats['persons']}")
    print(f"time: {elapsed:.2f} s")
    print(f"written: {args.out}")
    return 0
