"""A fake of Klaviyo's Bulk Profile Import API (revision header, Klaviyo-API-Key auth).

- POST /api/profile-bulk-import-jobs: at most 10,000 profiles (400 otherwise) and 5 MB
  (413); answers 202 with a queued job;
- GET /api/profile-bulk-import-jobs/{id}: `processing` for `polls_before_complete` polls,
  then `complete`;
- GET /api/profile-bulk-import-jobs/{id}/import-errors: one import-error per profile whose
  email is invalid or listed in `reject`, 20 per page by default (page[size] <= 100), the
  next page in `links.next` (page[cursor]);
- GET /api/profiles?filter=any(email,[...])&page[size]=n (n <= 100, default 20): the
  profiles with those e-mails, `links.next` while more remain;
- `inject(429, Retry_After="1")`, `inject(503)`, `fail_after` and the scripted faults of
  FakeServer (write requests are the import POSTs).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlencode

from cdp_demo.fakes.http import FakeServer

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LIMIT = 10_000
MAX_BYTES = 5 * 1024 * 1024


class FakeKlaviyo(FakeServer):
    def __init__(self, api_key: str = "pk_test", polls_before_complete: int = 1) -> None:
        super().__init__()
        self.api_key = api_key
        self.polls_before_complete = polls_before_complete
        self.profiles: dict[str, dict[str, Any]] = {}
        self.imported: list[str] = []
        self.reject: set[str] = set()
        self.jobs: dict[str, dict[str, Any]] = {}

    @staticmethod
    def _errors(status: int, code: str, detail: str):
        return (
            status,
            {},
            {
                "errors": [
                    {"id": "e", "status": status, "code": code, "title": code, "detail": detail}
                ]
            },
        )

    def handle(self, method: str, path: str, headers: Any, raw: bytes):
        if headers.get("Authorization") != f"Klaviyo-API-Key {self.api_key}":
            return self._errors(401, "not_authenticated", "Missing or invalid API key")
        if not headers.get("revision"):
            return self._errors(400, "invalid", "revision header required")
        route = path.split("?")[0].rstrip("/")
        parts = route.split("/")
        if method == "GET" and route == "/api/profiles":
            return self._profiles(parse_qs(path.partition("?")[2]))
        if method == "POST" and route == "/api/profile-bulk-import-jobs":
            if len(raw) > MAX_BYTES:
                return self._errors(413, "payload_too_large", "Payload exceeds 5MB")
            try:
                profiles = json.loads(raw)["data"]["attributes"]["profiles"]["data"]
            except (ValueError, KeyError, TypeError):
                return self._errors(400, "invalid", "Invalid payload")
            if len(profiles) > LIMIT:
                return self._errors(400, "invalid", f"More than {LIMIT} profiles")
            job_id = f"job{len(self.jobs) + 1}"
            errors = []
            for i, prof in enumerate(profiles):
                attrs = prof.get("attributes") or {}
                email = str(attrs.get("email", ""))
                if not EMAIL_RE.match(email) or email.lower() in self.reject:
                    errors.append(
                        {
                            "type": "import-error",
                            "id": f"{job_id}-{i}",
                            "attributes": {
                                "code": "invalid",
                                "title": "Invalid email address",
                                "detail": "The email is invalid",
                                "source": {"pointer": f"/data/attributes/profiles/data/{i}"},
                                "original_payload": attrs,
                            },
                        }
                    )
                    continue
                self.profiles.setdefault(email.lower(), {}).update(
                    {k: v for k, v in attrs.items() if v is not None}
                )
                self.imported.append(email.lower())
            self.jobs[job_id] = {"total": len(profiles), "errors": errors, "polls": 0}
            return 202, {}, self._job(job_id, "queued")
        if (
            method == "GET"
            and len(parts) >= 4
            and parts[:3] == ["", "api", "profile-bulk-import-jobs"]
        ):
            job_id = parts[3]
            if job_id not in self.jobs:
                return self._errors(404, "not_found", "job not found")
            if len(parts) == 5 and parts[4] == "import-errors":
                query = parse_qs(path.partition("?")[2])
                return self._page(self.jobs[job_id]["errors"], query, route)
            job = self.jobs[job_id]
            job["polls"] += 1
            done = job["polls"] > self.polls_before_complete
            return 200, {}, self._job(job_id, "complete" if done else "processing")
        return self._errors(404, "not_found", "unknown route")

    def _profiles(self, query: dict[str, list[str]]):
        match = re.fullmatch(r"any\(email,(\[.*\])\)", (query.get("filter") or [""])[0])
        if not match:
            return self._errors(400, "invalid", "unsupported filter")
        try:
            emails = [str(e).lower() for e in json.loads(match.group(1))]
        except ValueError:
            return self._errors(400, "invalid", "invalid filter")
        found = [
            {"type": "profile", "id": f"p-{e}", "attributes": {"email": e, **self.profiles[e]}}
            for e in emails
            if e in self.profiles
        ]
        return self._page(found, query, "/api/profiles")

    def _page(self, items: list[Any], query: dict[str, list[str]], route: str = ""):
        """One page of `items` (page[size] default 20, at most 100) with `links.next`."""
        size = int((query.get("page[size]") or ["20"])[0])
        if not 1 <= size <= 100:
            return self._errors(400, "invalid", "page[size] must be between 1 and 100")
        start = int((query.get("page[cursor]") or ["0"])[0])
        links: dict[str, Any] = {"self": route}
        if start + size < len(items):
            nxt = {**{k: v[0] for k, v in query.items()}, "page[cursor]": str(start + size)}
            links["next"] = f"{self.url}{route}?{urlencode(nxt)}"
        return 200, {}, {"data": items[start : start + size], "links": links}

    def _job(self, job_id: str, status: str) -> dict[str, Any]:
        job = self.jobs[job_id]
        failed = len(job["errors"])
        return {
            "data": {
                "type": "profile-bulk-import-job",
                "id": job_id,
                "attributes": {
                    "status": status,
                    "created_at": "2026-11-01T00:00:00+00:00",
                    "total_count": job["total"],
                    "completed_count": job["total"] - failed if status == "complete" else 0,
                    "failed_count": failed if status == "complete" else 0,
                    "completed_at": None,
                    "expires_at": "2026-11-08T00:00:00+00:00",
                    "started_at": None,
                },
                "links": {"self": f"/api/profile-bulk-import-jobs/{job_id}"},
            },
            "links": {"self": f"/api/profile-bulk-import-jobs/{job_id}"},
        }
