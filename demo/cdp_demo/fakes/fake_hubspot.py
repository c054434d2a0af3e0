"""A fake of HubSpot's CRM contacts batch API, following the documented contract.

- `Authorization: Bearer <token>` required (401 otherwise);
- POST /crm/v3/objects/contacts/batch/upsert and /batch/update: at most 100 inputs (400
  VALIDATION_ERROR otherwise); an input whose email is invalid makes the whole batch fail
  with 400 (HubSpot validates property values per request); emails listed in
  `reject_in_207` come back as per-input errors in a 207 multi-status response;
- update of an unknown contact: 207 with an OBJECT_NOT_FOUND error for that input;
- POST /crm/v3/objects/contacts/batch/read with idProperty: the requested properties of
  the contacts found (values as strings), a 207 with OBJECT_NOT_FOUND for the others;
- POST /crm/v3/objects/contacts/gdpr-delete {"objectId", "idProperty"}: 204 without a body;
  the contact is deleted, and an e-mail without a contact goes on the blocklist (both are
  recorded in `gdpr_deleted`); a missing objectId is a 400 VALIDATION_ERROR;
- POST /communication-preferences/v3/unsubscribe {"emailAddress", "subscriptionId",
  "legalBasis", "legalBasisExplanation"}: 200 with the subscription's status object
  (`status: NOT_SUBSCRIBED`, `sourceOfStatus: SUBSCRIPTION_STATUS`); an unknown subscription
  id, a missing field or a legal basis outside HubSpot's list is a 400 VALIDATION_ERROR; an
  address already unsubscribed from that type is a 400 ("... is already unsubscribed ...");
  the statuses are kept in `subscriptions` (email -> {subscription id: status});
- every response carries X-HubSpot-RateLimit-* headers; `inject(429, Retry_After="2")`
  and `inject(503)` script faults; `fail_after = n` answers 503 after n accepted batches.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

from activation.destinations.hubspot import LEGAL_BASES  # HubSpot's documented list
from cdp_demo.fakes.http import FakeServer

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LIMIT = 100


class FakeHubSpot(FakeServer):
    def __init__(self, token: str = "test-token") -> None:
        super().__init__()
        self.token = token
        self.contacts: dict[str, dict[str, str]] = {}  # email -> properties
        self.ids: dict[str, str] = {}
        self.reject_in_207: set[str] = set()
        self.upserted: list[str] = []  # every email accepted, in order (duplicates visible)
        self.gdpr_deleted: list[str] = []  # every GDPR delete applied, in order
        self.blocklist: set[str] = set()
        #: the portal's subscription types (id -> name) and each address's status per type
        self.subscription_types: dict[str, str] = {"7": "Marketing Information"}
        self.subscriptions: dict[str, dict[str, str]] = {}

    ROUTES: ClassVar[dict[tuple[str, str], str]] = {
        ("POST", "/crm/v3/objects/contacts/batch/read"): "_read",
        ("POST", "/crm/v3/objects/contacts/gdpr-delete"): "_gdpr_delete",
        ("POST", "/communication-preferences/v3/unsubscribe"): "_unsubscribe",
    }

    def is_write(self, method: str, path: str) -> bool:
        return method == "POST" and not path.endswith("/batch/read")

    def _rate_headers(self) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": "100",
            "X-HubSpot-RateLimit-Remaining": "99",
        }

    def _error(self, status: int, category: str, message: str):
        return (
            status,
            self._rate_headers(),
            {
                "status": "error",
                "message": message,
                "correlationId": "00000000-0000-0000-0000-000000000000",
                "category": category,
            },
        )

    def handle(self, method: str, path: str, headers: Any, raw: bytes):
        if headers.get("Authorization") != f"Bearer {self.token}":
            return self._error(
                401, "INVALID_AUTHENTICATION", "Authentication credentials not found"
            )
        route = path.split("?")[0]
        if handler := self.route(method, route):
            return handler(raw)
        if method != "POST" or route not in (
            "/crm/v3/objects/contacts/batch/upsert",
            "/crm/v3/objects/contacts/batch/update",
        ):
            return self._error(404, "OBJECT_NOT_FOUND", "not found")
        try:
            inputs = json.loads(raw)["inputs"]
        except (ValueError, KeyError, TypeError):
            return self._error(400, "VALIDATION_ERROR", "Invalid input JSON")
        if len(inputs) > LIMIT:
            return self._error(400, "VALIDATION_ERROR", f"Batch size exceeds {LIMIT} inputs")
        for item in inputs:
            if item.get("idProperty") != "email":
                return self._error(400, "VALIDATION_ERROR", "idProperty must be email")
            if not EMAIL_RE.match(str(item.get("id", ""))):
                return self._error(400, "VALIDATION_ERROR", "Property values were not valid")
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        results, errors = [], []
        update = route.endswith("/update")
        for item in inputs:
            email = item["id"].lower()
            trace = item.get("objectWriteTraceId")
            if email in self.reject_in_207:
                errors.append(self._input_error("VALIDATION_ERROR", "Rejected", item["id"]))
                continue
            if update and email not in self.contacts:
                errors.append(self._input_error("OBJECT_NOT_FOUND", "Not found", item["id"]))
                continue
            new = email not in self.contacts
            if new:
                self.ids[email] = str(1000 + len(self.ids))
            self.contacts.setdefault(email, {}).update(item.get("properties") or {})
            self.upserted.append(email)
            obj = {
                "id": self.ids[email],
                "properties": dict(self.contacts[email]),
                "createdAt": now,
                "updatedAt": now,
                "archived": False,
                "objectWriteTraceId": trace,
            }
            if not update:
                obj["new"] = new
            results.append(obj)
        return self._batch_answer(results, errors, now)

    def _gdpr_delete(self, raw: bytes):
        try:
            req = json.loads(raw)
            object_id = str(req["objectId"])
        except (ValueError, KeyError, TypeError):
            return self._error(400, "VALIDATION_ERROR", "objectId is required")
        if req.get("idProperty") == "email":
            email = object_id.lower()
        else:
            email = next((e for e, i in self.ids.items() if i == object_id), None)
            if email is None:
                return self._error(404, "OBJECT_NOT_FOUND", "resource not found")
        if self.contacts.pop(email, None) is None:
            self.blocklist.add(email)
        self.ids.pop(email, None)
        self.gdpr_deleted.append(email)
        return 204, self._rate_headers(), None

    def _unsubscribe(self, raw: bytes):
        try:
            req = json.loads(raw)
            email, type_id = str(req["emailAddress"]).lower(), str(req["subscriptionId"])
        except (ValueError, KeyError, TypeError):
            return self._error(
                400,
                "VALIDATION_ERROR",
                "Cannot build PublicUpdateSubscriptionStatusRequest, some of required "
                "attributes are not set [emailAddress, subscriptionId]",
            )
        if type_id not in self.subscription_types:
            return self._error(400, "VALIDATION_ERROR", f"Subscription {type_id} does not exist")
        if req.get("legalBasis") is not None and req["legalBasis"] not in LEGAL_BASES:
            return self._error(400, "VALIDATION_ERROR", "Invalid legalBasis")
        statuses = self.subscriptions.setdefault(email, {})
        if statuses.get(type_id) == "NOT_SUBSCRIBED":
            return self._error(
                400,
                "VALIDATION_ERROR",
                f"{email} is already unsubscribed from subscription {type_id}",
            )
        statuses[type_id] = "NOT_SUBSCRIBED"
        return (
            200,
            self._rate_headers(),
            {
                "id": type_id,
                "name": self.subscription_types[type_id],
                "description": "",
                "status": "NOT_SUBSCRIBED",
                "sourceOfStatus": "SUBSCRIPTION_STATUS",
                "legalBasis": req.get("legalBasis"),
                "legalBasisExplanation": req.get("legalBasisExplanation"),
            },
        )

    def _batch_answer(self, results: list[Any], errors: list[Any], now: str):
        """200 with the results, or 207 multi-status when some inputs failed."""
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": now,
            "completedAt": now,
        }
        if errors:
            body.update(errors=errors, numErrors=len(errors))
            return 207, self._rate_headers(), body
        return 200, self._rate_headers(), body

    def _read(self, raw: bytes):
        try:
            req = json.loads(raw)
            inputs, names = req["inputs"], req.get("properties") or []
        except (ValueError, KeyError, TypeError):
            return self._error(400, "VALIDATION_ERROR", "Invalid input JSON")
        if len(inputs) > LIMIT:
            return self._error(400, "VALIDATION_ERROR", f"Batch size exceeds {LIMIT} inputs")
        if req.get("idProperty") != "email":
            return self._error(400, "VALIDATION_ERROR", "idProperty must be email")
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        results, errors = [], []
        for item in inputs:
            email = str(item.get("id", "")).lower()
            if email not in self.contacts:
                errors.append(self._input_error("OBJECT_NOT_FOUND", "Not found", item.get("id")))
                continue
            props = self.contacts[email]
            results.append(
                {
                    "id": self.ids[email],
                    "properties": {n: props.get(n) for n in names},
                    "createdAt": now,
                    "updatedAt": now,
                    "archived": False,
                }
            )
        return self._batch_answer(results, errors, now)

    @staticmethod
    def _input_error(category: str, message: str, key: str) -> dict[str, Any]:
        return {
            "status": "error",
            "category": category,
            "message": message,
            "context": {"ids": [key]},
            "errors": [],
            "links": {},
        }
