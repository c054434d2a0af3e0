"""Processing of the open requests: intake of the landing drop, then each request's steps.

Each step records `{"status": "done"|"failed", "detail": ...}` in the request's `steps`; a
request whose steps are all done is `done`, otherwise `failed` and tried again on the next
run. Details hold counts and file names only, never identifiers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from cdp.pii import mask_error_text
from privacy import erase, export, requests, suppression
from privacy.requests import Request

log = logging.getLogger(__name__)
Step = dict[str, Any]


@dataclass
class Outcome:
    intake: dict[str, int] = field(default_factory=dict)
    processed: dict[str, str] = field(default_factory=dict)  # request id -> status
    erased: int = 0  # erasures done: the serving snapshots must be republished


def _suppress(con, req: Request, data_dir: Path) -> dict[str, Step]:
    added = suppression.add(con, req.subject, req.request_id)
    return {"suppress": {"status": "done", "detail": f"{added} identifier(s) added"}}


def _unsuppress(con, req: Request, data_dir: Path) -> dict[str, Step]:
    removed = suppression.remove(con, req.subject)
    return {"unsuppress": {"status": "done", "detail": f"{removed} identifier(s) removed"}}


def _access(con, req: Request, data_dir: Path) -> dict[str, Step]:
    data = export.collect(con, req.subject)
    path = export.write_export(data, exports_dir(data_dir) / f"{req.request_id}.json")
    rows = sum(len(v) for v in data["tables"].values())
    return {
        "export": {
            "status": "done",
            "detail": f"{path.name}: {len(data['persons'])} person(s), {rows} table row(s)",
        }
    }


def _erase(con, req: Request, data_dir: Path) -> dict[str, Step]:
    done = erase.erase(con, req.subject, req.request_id, data_dir)
    return {"erase": {"status": "done", "detail": done.detail()}}


HANDLERS: dict[str, Callable[[duckdb.DuckDBPyConnection, Request, Path], dict[str, Step]]] = {
    "access": _access,
    "erase": _erase,
    "suppress": _suppress,
    "unsuppress": _unsuppress,
}


def exports_dir(data_dir: Path) -> Path:
    return data_dir / "privacy" / "exports"


def process_open(con: duckdb.DuckDBPyConnection, landing_dir: Path, data_dir: Path) -> Outcome:
    """Take the landing drop, then run every open request; returns what happened."""
    out = Outcome(intake=requests.take_landing(con, landing_dir))
    for req in requests.open_requests(con):
        handler = HANDLERS.get(req.kind)
        if handler is None:
            steps = {"process": {"status": "failed", "detail": f"no handler for {req.kind}"}}
        else:
            try:
                steps = handler(con, req, data_dir)
            except Exception as exc:  # one request failing must not stop the others
                log.exception("privacy request %s failed", req.request_id)
                detail = mask_error_text(f"{type(exc).__name__}: {exc}")
                steps = {req.kind: {"status": "failed", "detail": detail}}
        out.processed[req.request_id] = requests.finish(con, req.request_id, steps)
        if req.kind == "erase" and out.processed[req.request_id] == "done":
            out.erased += 1
    return out
