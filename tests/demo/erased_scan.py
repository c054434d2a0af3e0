"""After the demo's erasure and a full re-run on the same landing files: where does anything of
the erased person remain? Their identifiers are found again from the landing files (every
e-mail and phone there whose salted hash is on the suppression list), then looked for in every
table of the warehouse and the serving snapshot (read through DuckDB), every Parquet file
(through DuckDB) and every other file under data/ (bytes), the landing files, the generator's
ground truth and the audience removal lists excepted."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb

from cdp.normalize import normalize_email, normalize_phone
from privacy.subjects import identifier_hash, salt

EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE = re.compile(rb"\+?\d[\d .-]{7,16}\d")


def erased_identifiers(con: duckdb.DuckDBPyConnection, landing: Path) -> dict[str, set[str]]:
    """The normalised e-mails and phones in the landing files that are suppressed."""
    secret = salt()
    wanted = {
        (k, h)
        for k, h in con.execute(
            "SELECT identifier_kind, identifier_hash FROM privacy.suppressions"
        ).fetchall()
    }
    found: dict[str, set[str]] = {"email": set(), "phone": set()}
    for path in landing.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for kind, pattern, norm in (
            ("email", EMAIL, normalize_email),
            ("phone", PHONE, normalize_phone),
        ):
            for raw in set(pattern.findall(data)):
                value = norm(raw.decode("utf-8", "ignore"))
                if value and (kind, identifier_hash(kind, value, secret)) in wanted:
                    found[kind].add(value)
    return found


def _needles(ids: dict[str, set[str]]) -> list[str]:
    """Lower-case e-mails, the last 9 digits of the phones, the SHA-256 of each e-mail
    (what audience files hold), and the person ids when `ids` has them."""
    emails = sorted(ids["email"])
    return [
        *emails,
        *(hashlib.sha256(e.encode()).hexdigest() for e in emails),
        *sorted(p[-9:] for p in ids["phone"]),
        *sorted(p.lower() for p in ids.get("person_id", ())),
    ]


def tables_holding(con: duckdb.DuckDBPyConnection, needles: list[str], catalog: str) -> list[str]:
    """`schema.table.column` of the text columns of `catalog` holding one of `needles`, compared
    lower-case and with separators removed (phones are typed in many ways)."""
    hits = []
    cols = con.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE table_catalog = ? AND data_type = 'VARCHAR' AND table_schema <> 'privacy'",
        [catalog],
    ).fetchall()
    for schema, table, column in cols:
        ref = f'"{catalog}"."{schema}"."{table}"'
        text = f'lower("{column}")'
        digits = f"regexp_replace({text}, '[ .()-]', '', 'g')"
        (n,) = con.execute(
            f"SELECT count(*) FROM {ref} WHERE EXISTS (SELECT 1 FROM unnest(?) t(v) "
            f"WHERE contains({text}, v) OR contains({digits}, v))",
            [needles],
        ).fetchall()[0]
        if n:
            hits.append(f"{schema}.{table}.{column}")
    return hits


def _source_side(path: Path) -> bool:
    """Files that are not the platform's copies: the generator's ground truth (evaluation data
    written with the landing files) and the audience removal lists (the deletion instruction
    for the ad platform, hashed e-mails only)."""
    return "ground_truth" in path.parts or path.name.endswith("_remove.csv")


def leftovers(
    data_dir: Path, landing: Path, warehouse: Path, ids: dict[str, set[str]]
) -> list[str]:
    """Every place under `data_dir` still holding one of the erased identifiers."""
    needles = _needles(ids)
    raw = [n.encode() for n in needles]
    out: list[str] = []
    with duckdb.connect() as con:
        for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
            if landing in path.parents or path.suffix == ".wal" or _source_side(path):
                continue
            if path.suffix == ".duckdb" or path == warehouse:
                con.execute(f"ATTACH '{path}' AS scan (READ_ONLY)")
                out += [f"{path.name}:{h}" for h in tables_holding(con, needles, "scan")]
                con.execute("DETACH scan")
            elif path.suffix == ".parquet":
                text = con.execute(
                    f"SELECT lower(CAST(to_json(t) AS VARCHAR)) FROM read_parquet('{path}') t"
                ).fetchall()
                flat = "\n".join(r[0] for r in text)
                digits = re.sub(r"[ .()-]", "", flat)
                if any(n in flat or n in digits for n in needles):
                    out.append(str(path.relative_to(data_dir)))
            else:
                data = path.read_bytes().lower()
                digits = re.sub(rb"[ .()-]", b"", data)
                if any(n in data or n in digits for n in raw):
                    out.append(str(path.relative_to(data_dir)))
    return out
