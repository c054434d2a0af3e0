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
- POST /api/profile-import (Create or Update Profile): 201 created or 200 updated; an
  attribute or custom property given as null is cleared (the bulk import ignores nulls);
- POST /api/data-privacy-deletion-jobs: exactly one of email, phone_number or id (400
  otherwise), 202 without a body, the matching profiles deleted (`deletion_requests` keeps
  each identifier asked for); rate limit 3/s burst and 60/min steady: 429 with Retry-After;
- POST /api/profile-suppression-bulk-create-jobs: at most 100 e-mails (400 otherwise), 202
  with a job; each e-mail is added to `suppressed` (a missing profile is created suppressed);
- `inject(429, Retry_After="1")`, `inject(503)`, `fail_after` and the scripted faults of
  FakeServer (write requests are the import POSTs).
"""

from __future__ import annotations

import json
import re
import time
from collections import deque
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode

from cdp_demo.fakes.http import FakeServer

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LIMIT = 10_000
MAX_BYTES = 5 * 1024 * 1024
SUPPRESS_LIMIT = 100
DELETION_RATE = ((3, 1.0), (60, 60.0))  # (requests, seconds): burst and steady


class FakeKlaviyo(FakeServer):
    def __init__(self, api_key: str = "pk_test", polls_before_complete: int = 1) -> None:
        super().__init__()
        self.api_key = api_key
        self.polls_before_complete = polls_before_complete
        self.profiles: dict[str, dict[str, Any]] = {}
        self.imported: list[str] = []
        self.reject: set[str] = set()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.deletion_requests: list[str] = []  # identifiers of every deletion job accepted
        self.suppressed: set[str] = set()
        self._deletion_times: deque[float] = deque()

    ROUTES: ClassVar[dict[tuple[str, str], str]] = {
        ("POST", "/api/profile-import"): "_upsert_one",
        ("POST", "/api/data-privacy-deletion-jobs"): "_deletion_job",
        ("POST", "/api/profile-suppression-bulk-create-jobs"): "_suppress",
    }

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
        if handler := self.route(method, route):
            return handler(raw)
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
                self._merge(email.lower(), attrs, clear=False)
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

    def _merge(self, email: str, attrs: dict[str, Any], clear: bool) -> bool:
        """Apply a profile's attributes; custom properties merge. Nulls clear a value only
        when `clear` (Create or Update Profile). Returns whether the profile is new."""
        new = email not in self.profiles
        profile = self.profiles.setdefault(email, {})
        for k, v in attrs.items():
            if k == "properties":
                props = profile.setdefault("properties", {})
                for pk, pv in (v or {}).items():
                    if pv is not None:
                        props[pk] = pv
                    elif clear:
                        props.pop(pk, None)
            elif v is not None:
                profile[k] = v
            elif clear:
                profile.pop(k, None)
        return new

    def _upsert_one(self, raw: bytes):
        try:
            attrs = json.loads(raw)["data"]["attributes"]
        except (ValueError, KeyError, TypeError):
            return self._errors(400, "invalid", "Invalid payload")
        email = str(attrs.get("email") or "")
        if not EMAIL_RE.match(email):
            return self._errors(400, "invalid", "Invalid email address")
        created = self._merge(email.lower(), attrs, clear=True)
        body = {"type": "profile", "id": f"p-{email.lower()}", "attributes": {"email": email}}
        return (201 if created else 200), {}, {"data": body}

    def _rate_limited(self) -> float | None:
        """Seconds to wait when the deletion endpoint's burst or steady limit is reached."""
        now = time.monotonic()
        times = self._deletion_times
        while times and now - times[0] > DELETION_RATE[-1][1]:
            times.popleft()
        for limit, window in DELETION_RATE:
            recent = [t for t in times if now - t < window]
            if len(recent) >= limit:
                return window - (now - recent[0])
        times.append(now)
        return None

    def _deletion_job(self, raw: bytes):
        try:
            data = json.loads(raw)["data"]
            profile = data["attributes"]["profile"]["data"]
            assert data["type"] == "data-privacy-deletion-job"
        except (ValueError, KeyError, TypeError, AssertionError):
            return self._errors(400, "invalid", "Invalid payload")
        given = {k: v for k, v in (profile.get("attributes") or {}).items() if v}
        if profile.get("id"):
            given["id"] = profile["id"]
        if len(given) != 1 or not set(given) <= {"email", "phone_number", "id"}:
            return self._errors(400, "invalid", "Exactly one identifier is required")
        wait = self._rate_limited()
        if wait is not None:
            status, _, body = self._errors(429, "throttled", "Request was throttled")
            return status, {"Retry-After": str(max(1, round(wait)))}, body
        (kind, value) = next(iter(given.items()))
        for email, prof in list(self.profiles.items()):
            if (
                (kind == "email" and email == str(value).lower())
                or (kind == "id" and f"p-{email}" == value)
                or (kind == "phone_number" and prof.get("phone_number") == value)
            ):
                del self.profiles[email]
                self.suppressed.discard(email)
        self.deletion_requests.append(str(value))
        return 202, {}, None

    def _suppress(self, raw: bytes):
        try:
            data = json.loads(raw)["data"]
            profiles = data["attributes"]["profiles"]["data"]
            emails = [str(p["attributes"]["email"]).lower() for p in profiles]
        except (ValueError, KeyError, TypeError):
            return self._errors(400, "invalid", "Invalid payload")
        if len(emails) > SUPPRESS_LIMIT:
            return self._errors(400, "invalid", f"More than {SUPPRESS_LIMIT} profiles")
        for email in emails:
            self.profiles.setdefault(email, {"email": email})
            self.suppressed.add(email)
        job_id = f"sup{len(self.jobs) + 1}"
        job = {
            "type": "profile-suppression-bulk-create-job",
            "id": job_id,
            "attributes": {"status": "queued", "total_count": len(emails)},
        }
        return 202, {}, {"data": job}

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
