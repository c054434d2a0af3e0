"""``cdp resolve``: identity resolution on any CSV file, with the pipeline's engine and config."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cdp.commands import add_command

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
    p = add_command(subparsers, "resolve", run)
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
    p.add_argument(
        "--personal-id",
        help="a personal number typed by hand (social security, passport...): compared "
        "exactly or with one typo, as evidence rather than as a key",
    )
    p.add_argument(
        "--date-order",
        choices=["auto", "day_first", "month_first"],
        default="auto",
        help="how NN/NN/YYYY birth dates are read (auto: detected from the values and printed)",
    )
    p.add_argument(
        "--link-column",
        metavar="COL",
        help="link the sources named in COL without deduplicating inside each "
        "(records with the same COL value are never linked to each other directly)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        metavar="P",
        help="match probability from which a pair is linked (default: the config's)",
    )
    p.add_argument(
        "--explain",
        action="store_true",
        help="print the fitted model: m, u and weight of every comparison level",
    )
    p.add_argument(
        "--explain-pair",
        nargs=2,
        metavar=("ID_A", "ID_B"),
        help="print each comparison's level and weight for two rows, and their match probability",
    )
    p.add_argument("--model-out", type=Path, metavar="F.json", help="save the fitted model")
    p.add_argument(
        "--review-out",
        type=Path,
        metavar="F.csv",
        help="write the pairs held for review (record ids, probability, reason)",
    )
    p.add_argument("--config", type=Path, help="identity YAML (default: config/identity.yaml)")


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

    from cdp.normalize import detect_date_order, fold_name, parse_birth_date_series

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
        parts = [frame[c].fillna("").astype(str).str.strip() for c in args.address]
        street = parts[0].str.cat(parts[1:], sep=" ").str.strip()
        street = street.where(street != "", None)
    country = col(args.country)
    if args.country:

        def to_iso(value: object) -> str | None:
            folded = fold_name(value) if isinstance(value, str) else None
            if not folded:
                return None
            return COUNTRY_NAMES.get(folded, folded.upper())

        country = country.astype(object).map(to_iso)
    birth = col(args.birth_date)
    order = args.date_order
    if args.birth_date and order == "auto":
        order = detect_date_order(birth)
    birth_iso = parse_birth_date_series(birth, order if order != "auto" else "day_first")
    records = pd.DataFrame(
        {
            "record_id": ids.to_numpy(),
            "source_system": frame[args.link_column].fillna("").astype(str).to_numpy()
            if args.link_column
            else "csv",
            "first_name": col(args.first_name).to_numpy(),
            "last_name": col(args.last_name).to_numpy(),
            "full_name": col(args.full_name).to_numpy(),
            "email": col(args.email).to_numpy(),
            "phone": col(args.phone).to_numpy(),
            "birth_date": birth_iso.to_numpy(),
            "street": street.to_numpy() if street is not None else None,
            "postcode": col(args.postcode).to_numpy(),
            "city": col(args.city).to_numpy(),
            "country": country.to_numpy(),
            "personal_id": col(args.personal_id).to_numpy(),
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
    unreadable = int((birth.notna() & birth_iso.isna()).sum())
    dates = {"order": order, "parsed": int(birth_iso.notna().sum()), "unreadable": unreadable}
    return records, identifiers, [f"key:{k}" for k in args.key], dates


def run(args: argparse.Namespace) -> int:
    """group the rows of a CSV file into persons (identity resolution)

    Identity resolution on a CSV file: writes record_id,person_id per input row, in input
    order. Any encoding (UTF-8, else cp1252/Latin-1) and delimiter (sniffed); every value is
    read as text; an absent option means the attribute is absent.
    """
    import time

    from cdp.config import ConfigError
    from identity.config import DeterministicRule, load_config
    from identity.engine import resolve
    from identity.explain import model_table

    started = time.perf_counter()
    try:
        config = load_config(args.config)
    except ConfigError as exc:
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
        args.link_column,
        args.personal_id,
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
    records, identifiers, key_types, dates = build_inputs(frame, args)
    # exact keys given on the command line are the strongest rules
    known = {r.id_type for r in config.deterministic}
    extra = [DeterministicRule(name=t, id_type=t) for t in key_types if t not in known]
    config = config.model_copy(update={"deterministic": [*extra, *config.deterministic]})
    if args.threshold is not None:
        prob = config.probabilistic
        bounded = min(prob.review_probability, args.threshold)
        prob = prob.model_copy(
            update={"match_probability": args.threshold, "review_probability": bounded}
        )
        config = config.model_copy(update={"probabilistic": prob})
    link = "source_system" if args.link_column else None
    result = resolve(records, identifiers, config, link_column=link)
    person = result.graph.set_index("record_id")["person_id"]
    out = frame[[args.id_col]].rename(columns={args.id_col: "record_id"})
    out["person_id"] = person.reindex(records["record_id"]).to_numpy()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(args.out, index=False)
    model = result.stats["model"]
    if args.model_out:
        args.model_out.write_text(json.dumps(model, indent=2))
    if args.review_out:
        result.possible_matches.to_csv(args.review_out, index=False)
    elapsed = time.perf_counter() - started
    print(f"records: {len(out)}")
    print(f"persons: {result.stats['persons']}")
    if args.birth_date:
        print(
            f"birth dates: {dates['parsed']} read ({dates['order'].replace('_', '-')}), "
            f"{dates['unreadable']} unreadable kept as missing"
        )
    print(
        f"model: prior {model['prior']:.4f} over {model['candidate_pairs']} candidate pairs, "
        f"{'estimated' if model['estimated'] else 'from the config'} "
        f"({model['iterations']} EM iterations, u from {model['u_sample_pairs']} random pairs)"
    )
    print(f"links: {result.stats['edges_per_rule']}")
    print(f"held for review: {result.stats['possible_matches']}")
    if args.explain:
        print(model_table(model).to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    if args.explain_pair:
        from identity.explain import explain_pair

        try:
            rows, totals = explain_pair(records, config, model, *args.explain_pair)
        except KeyError as exc:
            print(f"error: --explain-pair: {exc.args[0]}", file=sys.stderr)
            return 2
        print(rows.to_string(index=False))
        print(
            f"total {totals['weight']:.2f} bits, prior {totals['prior']:.4f} -> match probability "
            f"{totals['probability']:.6f}"
            + (
                f" (held for review: {totals['held_for_review']})"
                if totals["held_for_review"]
                else ""
            )
            + f"; same person: {person[args.explain_pair[0]] == person[args.explain_pair[1]]}"
        )
    print(f"time: {elapsed:.2f} s")
    print(f"written: {args.out}")
    return 0
