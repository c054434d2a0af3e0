"""`cdp privacy request|requests|process|export|harden`: data-subject requests from the shell.

Identifiers typed here are hashed at once (privacy/subjects.py) and never printed back; the
output names requests by id and counts rows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cdp.commands import add_command


def _subject_args(p: argparse.ArgumentParser) -> None:
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--email")
    who.add_argument("--phone")
    who.add_argument("--person-id", dest="person_id")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers, "privacy", help="data-subject requests (access, erasure, suppression)"
    )
    sub = parser.add_subparsers(dest="action", required=True)

    from privacy.requests import KINDS

    p = add_command(sub, "request", _request)
    p.add_argument("kind", choices=KINDS)
    _subject_args(p)

    add_command(sub, "requests", _requests)

    add_command(sub, "process", _process)

    p = add_command(sub, "export", _export)
    _subject_args(p)
    p.add_argument("--out", required=True, type=Path, help="the JSON file to write (0600)")

    p = add_command(sub, "erase", _erase)
    _subject_args(p)
    p.add_argument("--dry-run", action="store_true", help="count what would go, delete nothing")

    add_command(sub, "harden", _harden)


def _open(read_only: bool = False):
    from cdp.settings import get_settings
    from cdp.warehouse import connect as duckdb_connect

    settings = get_settings()
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    return settings, duckdb_connect(str(settings.warehouse), read_only=read_only)


def _subject(args: argparse.Namespace):
    from privacy.subjects import Subject

    return Subject.from_values(args.email, args.phone, args.person_id)


def _request(args: argparse.Namespace) -> int:
    """record a request (processed by `process` or Dagster)"""
    from cdp.warehouse_lock import warehouse_lock
    from privacy import requests

    subject = _subject(args)
    settings, con = _open()
    with warehouse_lock(settings.warehouse), con:
        request_id = requests.record(con, args.kind, subject, "cli")
    print(f"recorded {args.kind} request {request_id} (due in 30 days)")
    return 0


def _requests(args: argparse.Namespace) -> int:
    """list the requests and the overdue ones"""
    from privacy import requests

    _, con = _open()
    with con:
        listing = requests.listing(con)
        late = requests.overdue(con)
    if listing.empty:
        print("no privacy requests")
        return 0
    print(listing.to_string(index=False))
    print(f"\n{len(late)} overdue request(s)")
    return 1 if len(late) else 0


def _process(args: argparse.Namespace) -> int:
    """take the landing drop and process the open requests"""
    from cdp.warehouse_lock import warehouse_lock
    from privacy.process import process_open

    settings, con = _open()
    with warehouse_lock(settings.warehouse), con:
        outcome = process_open(con, settings.landing_dir, settings.data_dir)
    intake = outcome.intake
    print(
        f"landing: {intake.get('files', 0)} file(s), {intake.get('recorded', 0)} request(s) "
        f"recorded, {intake.get('rejected', 0)} rejected"
    )
    for request_id, status in outcome.processed.items():
        print(f"{request_id}: {status}")
    if outcome.erased:
        _republish(settings)
    return 0 if all(s == "done" for s in outcome.processed.values()) else 1


def _export(args: argparse.Namespace) -> int:
    """right of access: everything about one person as JSON"""
    from cdp.warehouse_lock import warehouse_lock
    from privacy import export, requests

    subject = _subject(args)
    settings, con = _open()
    with warehouse_lock(settings.warehouse), con:
        request_id = requests.record(con, "access", subject, "cli")
        data = export.collect(con, subject)
        path = export.write_export(data, args.out)
        rows = sum(len(v) for v in data["tables"].values())
        detail = f"{path.name}: {len(data['persons'])} person(s), {rows} table row(s)"
        requests.finish(con, request_id, {"export": {"status": "done", "detail": detail}})
    print(f"access request {request_id}: {detail}")
    return 0 if data["persons"] else 1


def _erase(args: argparse.Namespace) -> int:
    """right to erasure: delete every copy, suppress identifiers"""
    from cdp.warehouse_lock import warehouse_lock
    from privacy import erase, requests

    subject = _subject(args)
    settings, con = _open()
    with warehouse_lock(settings.warehouse), con:
        if args.dry_run:
            plan = erase.erase(con, subject, "dry-run", settings.data_dir, dry_run=True)
            print(f"dry run: would erase {plan.detail()}")
        else:
            request_id = requests.record(con, "erase", subject, "cli")
            plan = erase.erase(con, subject, request_id, settings.data_dir)
            requests.finish(con, request_id, {"erase": {"status": "done", "detail": plan.detail()}})
            print(f"erasure request {request_id}: {plan.detail()}")
    for place, n in sorted(plan.deleted.items()):
        print(f"  {place}: {n}")
    if not args.dry_run:
        _republish(settings)
    return 0 if plan.persons else 1


def _republish(settings) -> None:
    from privacy.serving import republish

    print(f"serving snapshot republished; {republish(settings)} older snapshot(s) deleted")


def _harden(args: argparse.Namespace) -> int:
    """make every file under the data folder 0600 (dirs 0700)"""
    from cdp.private_files import harden
    from cdp.settings import get_settings

    changed = harden(get_settings().data_dir)
    print(f"{changed} file(s) and folder(s) made private")
    return 0
