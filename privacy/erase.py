"""Right to erasure (GDPR art. 17) inside the warehouse and under data/.

For the persons a subject resolves to, every copy is deleted:
- rows of every base table with a `person_id` column (identity graph, golden, marts, ML
  features and scores, segment membership, ...), and the identity records of those persons;
- rows of every base table with an e-mail or phone column holding one of the persons'
  identifiers, compared normalised (raw and staging tables of every source);
- activation state, journal and failures whose key names them, once each key a destination
  holds is queued for deletion there (activation/erasures.py: the next run of each sync
  sends the vendor's deletion and records the confirmation with the key's hash only);
- quarantine rows whose raw record holds one of their identifiers;
- access exports written for them, any dlt load package kept on disk, and the models' shared
  inputs beside the warehouse (ml/inputs.py: the next run writes them again).
Every identifier of theirs then goes on the suppression list (salted hashes). `dry_run`
counts what would go and deletes nothing. The Data Docs and GE store hold masked samples
only (data_quality/redaction.py), so there is nothing of theirs to delete there.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from activation import erasures
from activation.journal import JOURNAL
from activation.state import STATE
from ml.artifact import load_named, rewrite_named
from ml.inputs import shared_path
from privacy import export, links, suppression
from privacy.schema import REQUESTS
from privacy.subjects import IDENTIFIER_COLUMNS, Subject, identifier_hash, matches, salt

QUARANTINE = "quality.quarantine_rows"
ERASURES_TABLE = erasures.ERASURES.split(".")[1]


@dataclass
class Erasure:
    persons: list[str]
    deleted: dict[str, int] = field(default_factory=dict)  # "schema.table" or "files" -> rows
    suppressed: int = 0
    queued: int = 0  # deletions queued for the destinations (activation.sync_erasures)

    def detail(self) -> str:
        rows = sum(v for k, v in self.deleted.items() if k != "files")
        return (
            f"{len(self.persons)} person(s), {rows} row(s) in {len(self.deleted)} place(s), "
            f"{self.suppressed} identifier(s) suppressed, "
            f"{self.queued} destination deletion(s) queued"
        )


def _base_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(schema, table, column) of every base-table column outside the privacy schema."""
    return con.execute(
        "SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_schema, table_name) "
        "WHERE t.table_type = 'BASE TABLE' AND c.table_schema <> 'privacy' "
        "AND (c.data_type = 'VARCHAR' OR c.column_name = 'person_id') ORDER BY 1, 2, 3"
    ).fetchall()


def _identifiers(con: duckdb.DuckDBPyConnection, persons: list[str]) -> dict[str, set[str]]:
    """The normalised e-mails and phones of every source record of `persons`."""
    out: dict[str, set[str]] = {"email": set(), "phone": set()}
    records = export._relation(con, export.RECORDS_MODEL)
    if not records or not persons:
        return out
    rows = con.execute(
        f"SELECT r.email, r.phone FROM {export.IDENTITY_GRAPH} g JOIN {records} r "
        "USING (record_id) WHERE g.person_id IN (SELECT unnest(?))",
        [persons],
    ).fetchall()
    out["email"] = {e for e, _ in rows if e}
    out["phone"] = {p for _, p in rows if p}
    return out


def _matching_values(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    column: str,
    kind: str,
    hashes: set[str],
    known: set[str] | None,
) -> list[str]:
    """Raw values of `column` whose normalised form hashes into `hashes`. When those are the
    hashes of the `known` normalised values, only the values that may normalise to one of them
    (`_may_be`, a superset checked in DuckDB) are normalised and hashed; otherwise (a subject
    hash no identity record explains) every distinct value is."""
    col = f'"{column}"'
    where = f"{col} IS NOT NULL" + (f" AND {_may_be(col, kind, known)}" if known else "")
    values = con.execute(f"SELECT DISTINCT {col} AS v FROM {relation} WHERE {where}").df()["v"]
    if values.empty:
        return []
    return values[matches(values, kind, salt(), hashes)].astype(str).tolist()


def _may_be(expr: str, kind: str, known: set[str]) -> str:
    """SQL: the raw value `expr` may normalise to one of `known` (every value that does, and
    a few more), one regular-expression pass per row. An e-mail normalises by trimming,
    lower-casing and deleting characters (spaces, `<>`, a `mailto:` prefix), so the letters,
    digits and `@` of the normal form appear in order in the raw value, any other characters
    between them, case aside. A phone's last 7 digits (the subscriber number, which E.164
    formatting never rewrites) appear in order among the raw value's digits. The needles hold
    only `[a-z0-9@]`, so they are safe in the pattern."""
    if kind == "email":
        gap, flags = "[^a-z0-9@]*", "i"
        needles = {re.sub(r"[^a-z0-9@]", "", v) for v in known}
    else:
        gap, flags = "[^0-9]*", ""
        needles = {re.sub(r"[^0-9]", "", v)[-7:] for v in known}
    pattern = "|".join(gap.join(n) for n in sorted(needles))
    return f"regexp_matches({expr}, '{pattern}', '{flags}')"


def _delete(con, relation: str, where: str, params: list[Any], dry_run: bool) -> int:
    """Rows of `relation` matching `where`, deleted unless `dry_run`: one scan either way
    (DuckDB's DELETE returns the count)."""
    verb = "SELECT count(*) FROM" if dry_run else "DELETE FROM"
    return int(con.execute(f"{verb} {relation} WHERE {where}", params).fetchall()[0][0])


def _count(plan: Erasure, key: str, n: int) -> None:
    if n:
        plan.deleted[key] = plan.deleted.get(key, 0) + n


def erase(
    con: duckdb.DuckDBPyConnection,
    subject: Subject,
    request_id: str,
    data_dir: Path,
    dry_run: bool = False,
) -> Erasure:
    secret = salt()
    persons = export.persons_of(con, subject, secret)
    plan = Erasure(persons)
    ids = _identifiers(con, persons)
    keys = sorted(set(persons) | ids["email"] | ids["phone"])
    hashes = list(subject.hashes)
    for kind in ("email", "phone"):
        hashes += [(kind, identifier_hash(kind, v, secret)) for v in sorted(ids[kind])]
    hashes += [("person_id", identifier_hash("person_id", p, secret)) for p in persons]
    wanted = {k: {h for kk, h in hashes if kk == k} for k in ("email", "phone")}
    # the identifiers to look for are known in clear when every hash is one of the records'
    known = {
        k: ids[k] if wanted[k] <= {identifier_hash(k, v, secret) for v in ids[k]} else None
        for k in wanted
    }
    columns = _base_tables(con)
    record_ids: list[str] = []
    if persons:
        record_ids = [
            r[0]
            for r in con.execute(
                f"SELECT record_id FROM {export.IDENTITY_GRAPH} WHERE person_id IN (SELECT unnest(?))",
                [persons],
            ).fetchall()
        ]
    conditions: dict[str, list[tuple[str, list[Any]]]] = {}
    for schema, table, column in columns:
        where = conditions.setdefault(f'"{schema}"."{table}"', [])
        if column == "person_id" and persons:
            where.append(("person_id IN (SELECT unnest(?))", [persons]))
        elif column == "record_id" and record_ids:
            where.append(("record_id IN (SELECT unnest(?))", [record_ids]))
        elif column == "key" and schema == "activation" and keys and table != ERASURES_TABLE:
            where.append(("key IN (SELECT unnest(?))", [keys]))
        else:
            for kind, pattern in IDENTIFIER_COLUMNS:
                if pattern.search(column) and wanted[kind]:
                    raw = _matching_values(
                        con, f'"{schema}"."{table}"', column, kind, wanted[kind], known[kind]
                    )
                    if raw:
                        where.append((f'"{column}" IN (SELECT unnest(?))', [raw]))
    seeds = _linked_rows(con, conditions, record_ids)
    hashes += [
        (kind, identifier_hash(kind, v, secret))
        for entity, values in sorted(seeds.items())
        for kind in [links.KIND_PREFIX + entity]
        for v in sorted(values)
    ]
    plan.queued = _queue_destinations(con, keys, request_id, secret, dry_run)
    for relation, where in conditions.items():
        if where:
            sql = " OR ".join(f"({w})" for w, _ in where)
            params = [p for _, ps in where for p in ps]
            _count(plan, relation.replace('"', ""), _delete(con, relation, sql, params, dry_run))
    _erase_quarantine(con, plan, ids, dry_run)
    _count(plan, "files", _erase_files(con, subject, data_dir, dry_run))
    _count(plan, "files", _erase_models(data_dir, persons, dry_run))
    if not dry_run:
        plan.suppressed = suppression.add(con, Subject(tuple(dict.fromkeys(hashes))), request_id)
    return plan


def _linked_rows(con, conditions: dict[str, list[tuple[str, list[Any]]]], record_ids: list[str]):
    """Add to `conditions` the raw rows that belong to the persons through a key rather than
    an identifier (privacy/links.py): the rows their identity records name, the rows that
    reference those (a receipt naming their loyalty card), and so on to a fixpoint. Returns
    the keys found, per entity (they go on the suppression list)."""
    existing = {
        f"{s}.{t}.{c}"
        for s, t, c in con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns c "
            "JOIN information_schema.tables USING (table_schema, table_name) "
            "WHERE table_type = 'BASE TABLE' AND table_schema LIKE 'raw\\_%' ESCAPE '\\'"
        ).fetchall()
    }
    layout = {
        table: (
            [k for k in keys if all(f"{table}.{c}" in existing for c in k.columns)],
            [r for r in refs if f"{table}.{r.column}" in existing],
        )
        for table, (keys, refs) in links.by_table().items()
    }
    seeds: dict[str, set[str]] = {k.entity: set() for k in links.KEYS}
    for record_id in record_ids:
        system, _, source_key = record_id.partition(":")
        for key in links.KEYS:
            value = links.record_key(source_key, key) if key.entity == system else None
            if value:
                seeds[key.entity].add(value)
    referenced = {r.entity for r in links.REFERENCES}

    def where(table: str) -> list[tuple[str, list[Any]]]:
        keys, refs = layout[table]
        named = [(k.columns, k.entity) for k in keys] + [((r.column,), r.entity) for r in refs]
        return [
            (_key_in(table, columns), [sorted(seeds[entity])])
            for columns, entity in named
            if seeds[entity]
        ]

    for _ in range(len(links.KEYS) + 1):  # a row's keys only reach tables further down
        grown = False
        for table, (keys, _refs) in layout.items():
            relation = '"{}"."{}"'.format(*table.split("."))
            clauses = conditions.get(relation, []) + where(table)
            for key in (k for k in keys if k.entity in referenced and clauses):
                found = con.execute(
                    f"SELECT DISTINCT {links.key_sql(key)} FROM {relation} WHERE "
                    + " OR ".join(f"({w})" for w, _ in clauses),
                    [p for _, ps in clauses for p in ps],
                ).fetchall()
                new = {v for (v,) in found if v} - seeds[key.entity]
                if new:
                    seeds[key.entity] |= new
                    grown = True
        if not grown:
            break
    for table in layout:
        relation = '"{}"."{}"'.format(*table.split("."))
        if where(table):
            conditions.setdefault(relation, []).extend(where(table))
    return {entity: values for entity, values in seeds.items() if values}


def _key_in(table: str, columns: tuple[str, ...]) -> str:
    """SQL: the canonical key of a row of `table` (its `columns`) is in the list bound to `?`.
    A one-column key is put in canonical form once per distinct value of the column (a
    visitor id repeats on each of their events), not once per row."""
    if len(columns) > 1:
        return f"({links.key_sql(links.Key('', table, columns))}) IN (SELECT unnest(?))"
    column, relation = links.quoted(columns[0]), '"{}"."{}"'.format(*table.split("."))
    return (
        f"{column} IN (SELECT v FROM (SELECT DISTINCT {column} AS v FROM {relation}) "
        f"WHERE {links.canonical_sql('v')} IN (SELECT unnest(?)))"
    )


def _queue_destinations(con, keys: list[str], request_id: str, secret: str, dry_run: bool) -> int:
    """Queue a deletion at every destination that holds one of `keys`: confirmed in the
    sync state, or sent in a batch whose outcome is unknown (unresolved journal rows)."""
    if not keys or not export._exists(con, STATE):
        return 0
    sql = f"SELECT sync_name, key FROM {STATE} WHERE key IN (SELECT unnest(?))"
    params = [keys]
    if export._exists(con, JOURNAL):
        sql += (
            f" UNION SELECT sync_name, key FROM {JOURNAL} WHERE key IN (SELECT unnest(?))"
            " AND resolved_at IS NULL AND op IN ('add', 'change')"
        )
        params.append(keys)
    held = con.execute(f"SELECT DISTINCT * FROM ({sql}) ORDER BY 1, 2", params).fetchall()
    if dry_run:
        return len(held)
    rows = [(sync, key, identifier_hash("key", key, secret)) for sync, key in held]
    return erasures.queue(con, request_id, rows, dt.datetime.now(dt.UTC))


def _erase_quarantine(con, plan: Erasure, ids: dict[str, set[str]], dry_run: bool) -> None:
    """Quarantined rows whose raw record holds one of the e-mails, or the last 9 digits of
    one of the phones once separators are removed (raw phones are rarely in E.164)."""
    if not (ids["email"] or ids["phone"]) or not export._exists(con, QUARANTINE):
        return
    text = "CAST(raw_record AS VARCHAR)"
    where = (
        f"EXISTS (SELECT 1 FROM unnest(?) t(v) WHERE contains(lower({text}), v)) OR "
        f"EXISTS (SELECT 1 FROM unnest(?) t(v) "
        f"WHERE contains(regexp_replace({text}, '[^0-9]', '', 'g'), v))"
    )
    params = [sorted(ids["email"]) or [""], sorted({p[-9:] for p in ids["phone"]}) or [""]]
    _count(plan, QUARANTINE, _delete(con, QUARANTINE, where, params, dry_run))


def _erase_models(data_dir: Path, persons: list[str], dry_run: bool) -> int:
    """Model versions whose files hold one of the person ids (a recommendation model keeps
    its users' ids and rows): a model that can drop persons (``without``) is rewritten in
    place, with a new SHA-256, and stays usable; any other such version is deleted whole
    (the next training writes one without them). Returns the versions touched."""
    needles = [p.encode() for p in persons]
    models = data_dir / "models"

    def holds(path: Path) -> bool:
        return path.is_file() and any(n in path.read_bytes() for n in needles)

    found = [path for path in models.rglob("*") if needles and holds(path)]
    # <model>/<version>/<file>: the version folder; anything else: the file alone
    touched = {p.parent if len(p.relative_to(models).parts) >= 3 else p for p in found}
    if dry_run:
        return len(touched)
    for path in touched:
        if (
            path.is_dir()
            and _rewrite_model(models, path, persons)
            and not any(holds(f) for f in path.iterdir())
        ):
            continue
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return len(touched)


def _rewrite_model(models: Path, version_dir: Path, persons: list[str]) -> bool:
    """Rewrite one version's model without ``persons``; False when it cannot drop persons or
    its artifact does not verify (it is then deleted)."""
    name, version = version_dir.parent.name, version_dir.name
    try:
        model, _card = load_named(models, name, version)
    except (FileNotFoundError, ValueError):  # ValueError: ArtifactError, an unreadable card
        return False
    if not hasattr(model, "without"):
        return False
    rewrite_named(models, name, version, model.without(persons), "erasure")
    return True


def _erase_files(con, subject: Subject, data_dir: Path, dry_run: bool) -> int:
    """Access exports of this subject's earlier requests, any kept dlt package and the
    models' shared inputs of this warehouse."""
    gone = 0
    (warehouse,) = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    inputs = shared_path(Path(warehouse)) if warehouse else None
    if inputs is not None and inputs.exists():
        gone += 1
        if not dry_run:
            inputs.unlink()
    stored = subject.stored()
    rows = (
        con.execute(
            f"SELECT request_id FROM {REQUESTS} WHERE kind = 'access' AND list_has_any(subject, ?)",
            [stored],
        ).fetchall()
        if export._exists(con, REQUESTS)
        else []
    )
    for (request_id,) in rows:
        path = data_dir / "privacy" / "exports" / f"{request_id}.json"
        if path.exists():
            gone += 1
            if not dry_run:
                path.unlink()
    for package in (data_dir / "dlt").glob("*/load/loaded/*"):
        gone += 1
        if not dry_run:
            shutil.rmtree(package)
    return gone
