"""Klaviyo profiles through the official `klaviyo-api` SDK (Bulk Profile Import).

POST /api/profile-bulk-import-jobs takes up to 10,000 profiles and 5 MB per job; the job runs
asynchronously, so a batch is confirmed only after the job is `complete`: profiles listed by
GET /api/profile-bulk-import-jobs/{id}/import-errors fail, the others are confirmed.
401/403 -> AuthError, 429 -> RateLimited (Retry-After in either form), 5xx, timeouts and
dropped connections -> TransientError, other 4xx -> BatchRejected. Every call carries the
(connect, read) timeout of the DeliveryOptions. The SDK's own retry loop is disabled
(max_retries=0) so that the engine's injectable backoff applies. Klaviyo documents no
idempotency key for imports, so after a send whose outcome is unknown `reconcile` reads the
profiles back (GET /api/profiles, filter any(email, [...]), 100 per page) and confirms those
that already hold the values sent; only the others are imported again. Options: `api_key_env`, `test_host` (local fake), `batch_size`
(<= 10000), `poll_interval` seconds, `max_polls`, `connect_timeout`, `read_timeout`,
`max_retry_after`. Record fields named like Klaviyo profile attributes
(email, phone_number, first_name, last_name, external_id, ...) are sent as attributes, the
rest as custom `properties`.

Nulls: the Bulk Import API ignores null values ("does not support setting fields to null to
clear them"), so a changed record with a field that became null goes through Create or Update
Profile (POST /api/profile-import, one profile per call, 200/201) with that field sent as null,
which clears it; new records and records without nulls stay in bulk imports.
Erasure: Request Profile Deletion (POST /api/data-privacy-deletion-jobs, one identifier per
call, 202 Accepted, rate limit 3/s burst and 60/min steady) for each key.
Withdrawals (upsert mode): a person who withdrew e-mail consent is suppressed (Bulk Suppress
Profiles, POST /api/profile-suppression-bulk-create-jobs, up to 100 e-mails per job, 202); a
person who left the audience keeps their subscription and gets the mapped fields cleared
(Create or Update Profile with nulls).
"""

from __future__ import annotations

import json
import time
from typing import Any

from activation.destinations.base import (
    KEY,
    BatchRejected,
    BatchResult,
    Destination,
    TransientError,
    http_error,
    secret_from_env,
)

MAX_PROFILES = 10_000
MAX_SUPPRESS = 100  # Bulk Suppress Profiles: e-mails per job
MAX_BYTES = 5 * 1024 * 1024
READ_PAGE = 100  # Get Profiles: page[size] at most 100
ATTRIBUTES = {
    "email",
    "phone_number",
    "external_id",
    "first_name",
    "last_name",
    "organization",
    "locale",
    "title",
    "image",
}


def _job(job_type: str, relation: str, data: Any) -> dict[str, Any]:
    """The JSON:API body of a Klaviyo job whose attributes hold one relationship."""
    return {"data": {"type": job_type, "attributes": {relation: {"data": data}}}}


class KlaviyoProfiles(Destination):
    type = "klaviyo"
    channel = "email"
    supported_modes = frozenset({"upsert"})
    withdraws = True
    default_batch_size = 1_000
    max_batch_size = MAX_PROFILES
    required_options = ("api_key_env",)
    url_options = ("test_host",)

    def __init__(self, options, sync_name, run_id, sleep=time.sleep):
        super().__init__(options, sync_name, run_id)
        from klaviyo_api import KlaviyoAPI

        self.key_attribute = str(options.get("key_attribute", "email"))
        self.poll_interval = float(options.get("poll_interval", 2.0))
        self.max_polls = int(options.get("max_polls", 300))
        self._sleep = sleep
        self._api = KlaviyoAPI(
            secret_from_env(options, "api_key_env"),
            max_retries=0,
            test_host=str(options.get("test_host", "")).rstrip("/"),
            options={"USE_DICTIONARY_FOR_RESPONSE_DATA": True},
        )

    def describe(self) -> str:
        return f"Klaviyo profiles at {self.options.get('test_host') or 'https://a.klaviyo.com'}"

    def _profile(self, record: dict[str, Any], nulls: bool = False) -> dict[str, Any]:
        """The profile resource; with `nulls`, fields that are None are sent as null."""
        attrs: dict[str, Any] = {self.key_attribute: record[KEY]}
        props = {}
        for k, v in record.items():
            if k == KEY or (v is None and not nulls):
                continue
            if k in ATTRIBUTES:
                attrs[k] = v
            else:
                props[k] = v
        if props:
            attrs["properties"] = props
        return {"type": "profile", "attributes": attrs}

    def _call(self, fn, *args, **kwargs):
        from openapi_client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return fn(*args, _request_timeout=self.delivery.timeout, **kwargs)
        except ApiException as exc:
            raise http_error("Klaviyo", exc.status or 0, exc.headers) from None
        except (HTTPError, OSError) as exc:  # timeouts, refused or dropped connections
            raise TransientError(
                f"Klaviyo connection error: {type(exc).__name__}", maybe_applied=True
            ) from None

    def reconcile(self, op, records):
        if op not in ("add", "change") or not records or self.key_attribute != "email":
            return None
        wanted = {r[KEY]: self._profile(r)["attributes"] for r in records}
        held: dict[str, bool | None] = {}
        keys = list(wanted)
        for i in range(0, len(keys), READ_PAGE):
            chunk = keys[i : i + READ_PAGE]
            page = self._call(
                self._api.Profiles.get_profiles,
                filter=f"any(email,{json.dumps(chunk)})",
                page_size=READ_PAGE,
            )
            for prof in page.get("data") or []:
                attrs = prof.get("attributes") or {}
                key = attrs.get("email")
                if key in wanted and _holds(attrs, wanted[key]):
                    held[key] = None
        return held

    def _write_one(self, record: dict[str, Any]) -> None:
        """Create or Update Profile: the only write that clears a field given null."""
        from openapi_client.models import ProfileUpsertQuery

        body = {"data": self._profile(record, nulls=True)}
        # model_validate keeps only the fields given: unset attributes are not sent as null
        self._call(
            self._api.Profiles.create_or_update_profile, ProfileUpsertQuery.model_validate(body)
        )

    def upsert(self, records):
        if self.operation == "change":
            cleared = [r for r in records if any(v is None for k, v in r.items() if k != KEY)]
            if cleared:
                for r in cleared:
                    self._write_one(r)
                rest = [r for r in records if r not in cleared]
                result = self._import(rest) if rest else BatchResult()
                result.confirmed.update({r[KEY]: False for r in cleared})
                return result
        return self._import(records)

    def leave(self, records):
        for r in records:
            self._write_one(r)
        return BatchResult(confirmed={r[KEY]: None for r in records})

    def unsubscribe(self, records):
        from openapi_client.models import SuppressionCreateJobCreateQuery

        if self.key_attribute != "email":
            return BatchResult(
                failed={r[KEY]: "Klaviyo suppresses by e-mail only" for r in records}
            )
        for i in range(0, len(records), MAX_SUPPRESS):
            profiles = [
                {"type": "profile", "attributes": {"email": r[KEY]}}
                for r in records[i : i + MAX_SUPPRESS]
            ]
            body = _job("profile-suppression-bulk-create-job", "profiles", profiles)
            query = SuppressionCreateJobCreateQuery.model_validate(body)
            self._call(self._api.Profiles.bulk_suppress_profiles, query)
        return BatchResult(confirmed={r[KEY]: None for r in records})

    def erase(self, keys):
        from openapi_client.models import DataPrivacyCreateDeletionJobQuery

        for key in keys:  # one identifier per job; a retry asks again (idempotent)
            profile = {"type": "profile", "attributes": {self.key_attribute: key}}
            body = _job("data-privacy-deletion-job", "profile", profile)
            query = DataPrivacyCreateDeletionJobQuery.model_validate(body)
            self._call(self._api.Data_Privacy.request_profile_deletion, query)
        return BatchResult(confirmed=dict.fromkeys(keys))

    def _import(self, records):
        from openapi_client.models import ProfileImportJobCreateQuery

        profiles = [self._profile(r) for r in records]
        body = _job("profile-bulk-import-job", "profiles", profiles)
        if len(json.dumps(body, default=str).encode()) > MAX_BYTES:
            raise BatchRejected("payload larger than 5 MB")
        query = ProfileImportJobCreateQuery.from_dict(body)
        created = self._call(self._api.Profiles.bulk_import_profiles, query)
        job_id = created["data"]["id"]
        for _ in range(self.max_polls):
            job = self._call(self._api.Profiles.get_bulk_import_profiles_job, job_id)
            status = job["data"]["attributes"]["status"]
            if status in ("complete", "cancelled"):
                break
            self._sleep(self.poll_interval)
        else:
            raise TransientError("Klaviyo import job did not complete in time")
        if status == "cancelled":
            raise TransientError("Klaviyo import job was cancelled")
        failed: dict[str, str] = {}
        cursor = None
        while True:
            kwargs = {"page_cursor": cursor} if cursor else {}
            page = self._call(
                self._api.Profiles.get_errors_for_bulk_import_profiles_job, job_id, **kwargs
            )
            for err in page.get("data") or []:
                attrs = err.get("attributes") or {}
                original = (attrs.get("original_payload") or {}).get(self.key_attribute)
                pointer = ((attrs.get("source") or {}).get("pointer")) or ""
                key = original
                if key is None and pointer.rsplit("/", 1)[-1].isdigit():
                    idx = int(pointer.rsplit("/", 1)[-1])
                    key = records[idx][KEY] if idx < len(records) else None
                if key is not None:
                    failed[str(key)] = f"{attrs.get('code', 'error')}: {attrs.get('title', '')}"
            nxt = (page.get("links") or {}).get("next")
            if not nxt:
                break
            from urllib.parse import parse_qs, urlparse

            cursor = (parse_qs(urlparse(nxt).query).get("page[cursor]") or [None])[0]
            if not cursor:
                break
        confirmed = {r[KEY]: None for r in records if r[KEY] not in failed}
        return BatchResult(confirmed=confirmed, failed=failed)


def _holds(stored: dict[str, Any], sent: dict[str, Any]) -> bool:
    """Every attribute and custom property sent is stored with the same value."""
    props = stored.get("properties") or {}
    for name, value in sent.items():
        if name == "properties":
            if any(props.get(k) != v for k, v in value.items()):
                return False
        elif stored.get(name) != value:
            return False
    return True
