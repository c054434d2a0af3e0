"""HubSpot contacts through the official `hubspot-api-client` SDK.

upsert: POST /crm/v3/objects/contacts/batch/upsert (idProperty = the key property, 100 inputs
per batch); update_only: POST /crm/v3/objects/contacts/batch/update with idProperty. A 200 or
207 response confirms the inputs in `results`; `errors` fail their inputs (identified through
`context.ids`). 401/403 -> AuthError, 429 -> RateLimited (Retry-After in either form, else the
X-HubSpot-RateLimit-Interval window), 5xx, timeouts and dropped connections -> TransientError,
other 4xx -> BatchRejected (the engine splits the batch).
HubSpot documents no idempotency key for CRM writes, so after a send whose outcome is unknown
(a read timeout, a connection dropped after sending, a crash) `reconcile` reads the contacts
back (POST /crm/v3/objects/contacts/batch/read with idProperty) and confirms those that
already hold the values sent; only the others are sent again.
Erasure: POST /crm/v3/objects/contacts/gdpr-delete ({"objectId": key, "idProperty"}), one
contact per call (the SDK's `basic_api.purge`); HubSpot answers 204 whether or not the contact
exists (an unknown e-mail goes on its blocklist), so each 204 confirms that key.
Leaving the audience or withdrawing consent (upsert and update_only): a batch update that sets
every mapped property to "" (HubSpot clears a property given an empty string); a contact
HubSpot no longer has needs nothing, so it is confirmed. With `unsubscribe_from` (a list of
subscription type ids), a withdrawal also unsubscribes the address from each type through the
Communication Preferences API (POST /communication-preferences/v3/unsubscribe, one address
and type per call, with `legal_basis` and `legal_basis_explanation`); a 400 saying the
address is already unsubscribed confirms it, so a retried batch is harmless.
Options: `token_env` (env var holding the private-app token), `id_property` (default email),
`host` (default https://api.hubapi.com; a local fake in tests and the demo), and the
DeliveryOptions (`connect_timeout`, `read_timeout`, `max_retry_after`).
"""

from __future__ import annotations

from typing import Any

from activation.destinations.base import (
    KEY,
    BatchRejected,
    BatchResult,
    Destination,
    TransientError,
    header,
    http_error,
    secret_from_env,
)

MAX_INPUTS = 100
#: the legal bases HubSpot accepts on a subscription status change
LEGAL_BASES = (
    "LEGITIMATE_INTEREST_PQL",
    "LEGITIMATE_INTEREST_CLIENT",
    "PERFORMANCE_OF_CONTRACT",
    "CONSENT_WITH_NOTICE",
    "NON_GDPR",
    "PROCESS_AND_STORE",
    "LEGITIMATE_INTEREST_OTHER",
)
DEFAULT_BASIS = "CONSENT_WITH_NOTICE"
DEFAULT_EXPLANATION = "Consent withdrawn; recorded in the customer data platform"


def rate_window_seconds(headers: Any, default: float = 1.0) -> float:
    """HubSpot's fallback wait when a 429 carries no Retry-After: the rate-limit window."""
    try:
        return float(header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")) / 1000.0
    except (TypeError, ValueError):
        return default


def _stringify(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


#: the SDK's batch and input types of each batch write
_WRITE_TYPES = {
    "upsert": (
        "BatchInputSimplePublicObjectBatchInputUpsert",
        "SimplePublicObjectBatchInputUpsert",
    ),
    "update": ("BatchInputSimplePublicObjectBatchInput", "SimplePublicObjectBatchInput"),
}


class HubSpotContacts(Destination):
    type = "hubspot"
    channel = "email"
    supported_modes = frozenset({"upsert", "update_only"})
    withdraws = True
    default_batch_size = MAX_INPUTS
    max_batch_size = MAX_INPUTS
    required_options = ("token_env",)
    url_options = ("host",)

    def __init__(self, options, sync_name, run_id):
        super().__init__(options, sync_name, run_id)
        from hubspot import Client
        from urllib3.util.retry import Retry

        token = secret_from_env(options, "token_env")
        # urllib3 must not retry on its own: the engine owns retries (and reconciliation)
        kwargs: dict[str, Any] = {"access_token": token, "retry": Retry(0, read=False)}
        if options.get("host"):
            kwargs["host"] = str(options["host"]).rstrip("/")
        self.id_property = str(options.get("id_property", "email"))
        self._client = Client.create(**kwargs)
        self._batch = self._client.crm.contacts.batch_api
        self._basic = self._client.crm.contacts.basic_api
        self.unsubscribe_from = [str(v) for v in options.get("unsubscribe_from") or []]
        self.legal_basis = str(options.get("legal_basis", DEFAULT_BASIS))
        self.explanation = str(options.get("legal_basis_explanation", DEFAULT_EXPLANATION))

    @classmethod
    def validate_options(cls, options) -> None:
        super().validate_options(options)
        ids = options.get("unsubscribe_from")
        if ids is None:
            return
        if not isinstance(ids, list) or not ids or not all(isinstance(v, str | int) for v in ids):
            raise ValueError(
                "hubspot: option 'unsubscribe_from' must be a list of subscription type ids"
            )
        if options.get("id_property", "email") != "email":
            raise ValueError(
                "hubspot: option 'unsubscribe_from' needs id_property email (the Communication "
                "Preferences API takes the e-mail address)"
            )
        if options.get("legal_basis", DEFAULT_BASIS) not in LEGAL_BASES:
            raise ValueError(
                f"hubspot: option 'legal_basis' must be one of {', '.join(LEGAL_BASES)}"
            )

    def describe(self) -> str:
        return f"HubSpot contacts at {self.options.get('host', 'https://api.hubapi.com')}"

    def _properties(self, record: dict[str, Any]) -> dict[str, str]:
        props = {k: _stringify(v) for k, v in record.items() if k != KEY}
        props.setdefault(self.id_property, record[KEY])
        return props

    def _send(self, call, body, answered=lambda status, body: False) -> Any:
        """`call(body)`, HubSpot's errors mapped to the engine's (http_error), except those
        `answered(status, body)` accepts as the outcome wanted (None is returned)."""
        from hubspot.communication_preferences.exceptions import ApiException as PrefsError
        from hubspot.crm.contacts.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return call(body, _request_timeout=self.delivery.timeout)
        except (ApiException, PrefsError) as exc:
            if answered(exc.status or 0, str(exc.body or "")):
                return None
            raise http_error(
                "HubSpot",
                exc.status or 0,
                exc.headers,
                _category(exc.body),
                rate_window_seconds(exc.headers),
            ) from None
        except (HTTPError, OSError) as exc:  # timeouts, refused or dropped connections
            raise TransientError(
                f"HubSpot connection error: {type(exc).__name__}", maybe_applied=True
            ) from None

    def _result(self, records, response, key_of_result) -> BatchResult:
        keys = {r[KEY] for r in records}
        result = BatchResult()
        for err in getattr(response, "errors", None) or []:
            ids = (err.context or {}).get("ids") or []
            for key in ids:
                if key in keys:
                    if err.category == "OBJECT_NOT_FOUND":
                        result.not_found.add(key)
                    else:
                        result.failed[key] = f"{err.category}: {err.message}"[:300]
        for obj in response.results or []:
            key = key_of_result(obj)
            if key in keys and key not in result.failed:
                result.confirmed[key] = bool(getattr(obj, "new", False))
        return result

    def upsert(self, records):
        return self._write(records, "upsert")

    def update(self, records):
        return self._write(records, "update")

    def _write(self, records, operation: str):
        """One batch `operation` (upsert or update: same body shape, other SDK types) by
        id_property."""
        import hubspot.crm.contacts as sdk

        batch_type, input_type = (getattr(sdk, name) for name in _WRITE_TYPES[operation])
        body = batch_type(
            inputs=[
                input_type(
                    id=r[KEY],
                    id_property=self.id_property,
                    object_write_trace_id=r[KEY],
                    properties=self._properties(r),
                )
                for r in records
            ]
        )
        call = getattr(self._batch, operation)
        response = self._send(call, body)
        return self._result(records, response, self._key_of)

    def erase(self, keys):
        from hubspot.crm.contacts import PublicGdprDeleteInput

        result = BatchResult()
        for key in keys:  # a 429 or 5xx raises: the whole batch is sent again (idempotent)
            body = PublicGdprDeleteInput(object_id=key, id_property=self.id_property)
            self._send(self._basic.purge, body)
            result.confirmed[key] = None
        return result

    def leave(self, records):
        result = self.update(records)
        result.confirmed.update(dict.fromkeys(result.not_found))  # nothing left to clear
        result.not_found = set()
        return result

    def unsubscribe(self, records):
        """Clear the properties, then unsubscribe each address from the configured types."""
        result = self.leave(records)
        for key in list(result.confirmed) if self.unsubscribe_from else []:
            for type_id in self.unsubscribe_from:
                error = self._unsubscribe_one(key, type_id)
                if error:
                    result.failed[key] = error
                    del result.confirmed[key]
                    break
        return result

    def _unsubscribe_one(self, email: str, type_id: str) -> str | None:
        """None once HubSpot has the address unsubscribed from the type; the reason otherwise.
        A 429, 5xx, 401/403 or a lost connection raises (the batch is sent again)."""
        from hubspot.communication_preferences import PublicUpdateSubscriptionStatusRequest

        body = PublicUpdateSubscriptionStatusRequest(
            email_address=email,
            subscription_id=type_id,
            legal_basis=self.legal_basis,
            legal_basis_explanation=self.explanation,
        )
        status_api = self._client.communication_preferences.status_api
        try:
            self._send(
                lambda b, **kw: status_api.unsubscribe(
                    public_update_subscription_status_request=b, **kw
                ),
                body,
                answered=lambda status, text: status == 400 and "already unsubscribed" in text,
            )
        except BatchRejected as exc:  # another 4xx: this address only
            return f"unsubscribe from subscription type {type_id}: {exc}"
        return None

    def reconcile(self, op, records):
        from hubspot.crm.contacts import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

        if op not in ("add", "change") or not records:
            return None
        wanted = {r[KEY]: self._properties(r) for r in records}
        names = sorted({n for props in wanted.values() for n in props})
        body = BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=k) for k in wanted],
            id_property=self.id_property,
            properties=names,
            properties_with_history=[],
        )
        response = self._send(self._batch.read, body)
        held: dict[str, bool | None] = {}
        for obj in response.results or []:
            props = obj.properties or {}
            key = props.get(self.id_property)
            if key in wanted and all(props.get(n) == v for n, v in wanted[key].items()):
                # created by the lost send if HubSpot created it just now; unknown otherwise
                held[key] = None
        return held

    def _key_of(self, obj) -> str | None:
        trace = getattr(obj, "object_write_trace_id", None)
        if trace:
            return trace
        return (obj.properties or {}).get(self.id_property)


def _category(body: Any) -> str:
    import json

    try:
        data = json.loads(body) if body else {}
        return str(data.get("category") or data.get("status") or "error")
    except (ValueError, TypeError, AttributeError):
        return "error"
