"""A webhook receiver that verifies the HMAC-SHA256 signature of every request."""

from __future__ import annotations

import json
from typing import Any

from activation.destinations.webhook import SIGNATURE_HEADER, verify
from activation.testing.http import FakeServer


class WebhookReceiver(FakeServer):
    def __init__(self, secret: str, reject_keys: set[str] | None = None) -> None:
        super().__init__()
        self.secret = secret
        self.reject_keys = reject_keys or set()  # any batch containing one -> 422
        self.batches: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.store: dict[str, dict[str, Any]] = {}

    def handle(self, method: str, path: str, headers: Any, raw: bytes):
        if method != "POST":
            return 405, {}, {"error": "method"}
        if not verify(self.secret, raw, headers.get(SIGNATURE_HEADER)):
            self.bad_signatures += 1
            return 401, {}, {"error": "bad signature"}
        payload = json.loads(raw)
        keys = [r["key"] for r in payload["records"]]
        if self.reject_keys.intersection(keys):
            return 422, {}, {"error": "invalid record in batch"}
        self.batches.append(payload)
        created = []
        for rec in payload["records"]:
            if payload["operation"] == "delete":
                self.store.pop(rec["key"], None)
            else:
                if rec["key"] not in self.store:
                    created.append(rec["key"])
                self.store[rec["key"]] = rec
        return 200, {}, {"created": created}
