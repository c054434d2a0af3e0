"""A webhook receiver as docs/activation.md asks receivers to be: it verifies the
HMAC-SHA256 signature of every request and remembers the Idempotency-Key of every batch it
applied, answering a repeated key with the stored answer instead of applying it again."""

from __future__ import annotations

import json
from typing import Any

from activation.destinations.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify
from cdp_demo.fakes.http import FakeServer


class WebhookReceiver(FakeServer):
    def __init__(self, secret: str, reject_keys: set[str] | None = None) -> None:
        super().__init__()
        self.secret = secret
        self.reject_keys = reject_keys or set()  # any batch containing one -> 422
        self.batches: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.store: dict[str, dict[str, Any]] = {}
        self.applied: list[str] = []  # every record key applied, in order (duplicates visible)
        self.answers: dict[str, dict[str, Any]] = {}  # Idempotency-Key -> stored answer
        self.replays = 0  # requests answered from `answers` without applying
        self.erased: list[str] = []  # keys of every signed erase event applied
        self.withdrawn: list[tuple[str, str]] = []  # (leave|unsubscribe, key) applied

    def handle(self, method: str, path: str, headers: Any, raw: bytes):
        if method != "POST":
            return 405, {}, {"error": "method"}
        if not verify(self.secret, raw, headers.get(SIGNATURE_HEADER)):
            self.bad_signatures += 1
            return 401, {}, {"error": "bad signature"}
        idem = headers.get(IDEMPOTENCY_HEADER)
        if idem and idem in self.answers:
            self.replays += 1
            return 200, {}, self.answers[idem]
        payload = json.loads(raw)
        keys = [r["key"] for r in payload["records"]]
        if self.reject_keys.intersection(keys):
            return 422, {}, {"error": "invalid record in batch"}
        self.batches.append(payload)
        created = []
        for rec in payload["records"]:
            self.applied.append(rec["key"])
            if payload["operation"] in ("delete", "erase", "leave", "unsubscribe"):
                self.store.pop(rec["key"], None)
                if payload["operation"] == "erase":
                    self.erased.append(rec["key"])
                elif payload["operation"] != "delete":
                    self.withdrawn.append((payload["operation"], rec["key"]))
            else:
                if rec["key"] not in self.store:
                    created.append(rec["key"])
                self.store[rec["key"]] = rec
        answer = {"created": created}
        if idem:
            self.answers[idem] = answer
        return 200, {}, answer
