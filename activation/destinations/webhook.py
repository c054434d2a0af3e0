"""Generic webhook: JSON batches POSTed to a URL, signed with HMAC-SHA256.

Body: {"sync": name, "run_id": id, "operation": "upsert"|"insert"|"update"|"delete"|"erase"|
"leave"|"unsubscribe", "records": [...]}. `delete` (mirror) and `erase` carry only `key`;
`erase` is a GDPR erasure: the receiver must delete everything it holds about the key, not
only the record. `leave` (left the audience) and `unsubscribe` (consent withdrawn), sent in
the modes without removals, carry the key and every mapped field as null. Header `X-CDP-Signature: t=<unix seconds>,v1=<hex>`
is HMAC-SHA256 over `<t>.` followed by the exact body bytes, with the secret from the env var
`secret_env`; a receiver recomputes it and refuses a timestamp more than `TOLERANCE` seconds
from its clock, so a captured request cannot be replayed later (see `verify`).
Header `Idempotency-Key` names the batch in the engine's journal: a retry, or the resend of
a batch interrupted by a crash, carries the same key (and the same or fewer records), so a
receiver that remembers the keys it applied never applies a batch twice.
2xx confirms the batch; a JSON answer may list per-record `errors: [{"key", "error"}]`
and `not_found: [key]`. 401/403 -> AuthError, 429 -> RateLimited (Retry-After in either
form), 5xx, timeouts and dropped connections -> TransientError, other 4xx -> BatchRejected.
Options: `url`, `secret_env`, `channel` (consent channel), `batch_size`, `connect_timeout`,
`read_timeout`, `max_retry_after`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from activation.destinations.base import (
    KEY,
    BatchResult,
    Destination,
    TransientError,
    http_error,
    secret_from_env,
)

SIGNATURE_HEADER = "X-CDP-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TOLERANCE = 300  # seconds a receiver accepts between the signed timestamp and its clock


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header: the timestamp and the HMAC over timestamp + body."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},v1={_digest(secret, t, body)}"


def verify(
    secret: str,
    body: bytes,
    header: str | None,
    tolerance: int = TOLERANCE,
    now: float | None = None,
) -> bool:
    """What a receiver does: the HMAC matches and the timestamp is within `tolerance`."""
    if not header:
        return False
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    return hmac.compare_digest(_digest(secret, t, body), parts.get("v1", ""))


class Webhook(Destination):
    type = "webhook"
    channel = None
    supported_modes = frozenset({"upsert", "insert_only", "update_only", "mirror"})
    withdraws = True
    default_batch_size = 500
    max_batch_size = 10_000
    required_options = ("url", "secret_env", "channel")
    url_options = ("url",)

    def __init__(self, options, sync_name, run_id):
        super().__init__(options, sync_name, run_id)
        import requests

        self._secret = secret_from_env(options, "secret_env")
        self._session = requests.Session()
        self.url = str(options["url"])

    def describe(self) -> str:
        return f"webhook {self.url.split('?')[0]}"

    def _post(self, operation: str, records: list[dict[str, Any]]) -> BatchResult:
        import requests

        payload = {
            "sync": self.sync_name,
            "run_id": self.run_id,
            "operation": operation,
            "records": [
                {"key": r[KEY], **{k: v for k, v in r.items() if k != KEY}} for r in records
            ],
        }
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, body),
            IDEMPOTENCY_HEADER: self.batch_id,
        }
        try:
            resp = self._session.post(
                self.url, data=body, headers=headers, timeout=self.delivery.timeout
            )
        except requests.ConnectTimeout as exc:  # nothing reached the receiver
            raise TransientError(f"webhook connection error: {type(exc).__name__}") from None
        except requests.RequestException as exc:
            raise TransientError(
                f"webhook connection error: {type(exc).__name__}", maybe_applied=True
            ) from None
        if resp.status_code >= 400:
            raise http_error("webhook", resp.status_code, resp.headers)
        answer: dict[str, Any] = {}
        if resp.content:
            try:
                answer = resp.json() or {}
            except ValueError:
                answer = {}
        failed = {str(e["key"]): str(e.get("error", "rejected")) for e in answer.get("errors", [])}
        not_found = {str(k) for k in answer.get("not_found", [])}
        created = answer.get("created")
        created_set = {str(k) for k in created} if isinstance(created, list) else None
        confirmed = {
            r[KEY]: (r[KEY] in created_set if created_set is not None else None)
            for r in records
            if r[KEY] not in failed and r[KEY] not in not_found
        }
        return BatchResult(confirmed=confirmed, failed=failed, not_found=not_found)

    def upsert(self, records):
        return self._post("upsert", records)

    def insert(self, records):
        return self._post("insert", records)

    def update(self, records):
        return self._post("update", records)

    def delete(self, keys):
        return self._post("delete", [{KEY: k} for k in keys])

    def erase(self, keys):
        return self._post("erase", [{KEY: k} for k in keys])

    def leave(self, records):
        return self._post("leave", records)

    def unsubscribe(self, records):
        return self._post("unsubscribe", records)
