"""The destination interface the sync engine drives.

A destination receives batches of mapped records (dicts with `_key` plus the mapped fields)
and reports, per key, what it confirmed. The engine updates its state only for confirmed
keys, so anything a destination did not confirm is sent again on the next run.
"""

from __future__ import annotations

import datetime as dt
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

KEY = "_key"


class DestinationError(Exception):
    """Base of the errors a destination raises for a whole batch."""


class RateLimited(DestinationError):
    """HTTP 429 or equivalent: wait `retry_after` seconds and send the same batch again."""

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientError(DestinationError):
    """A 5xx, a timeout, a dropped connection: retried with exponential backoff.

    `maybe_applied`: the request may have reached the destination (a read timeout, a
    connection dropped after sending), so a retry must not apply it twice.
    """

    def __init__(self, message: str, maybe_applied: bool = False) -> None:
        super().__init__(message)
        self.maybe_applied = maybe_applied


class AuthError(DestinationError):
    """401/403: wrong or revoked credentials, a missing scope. The sync stops at once:
    nothing is split, retried or recorded as a per-record failure."""


class BatchRejected(DestinationError):
    """The destination refused the whole batch because of its content (e.g. HTTP 400).

    The engine splits the batch to isolate the bad records.
    """


class DestinationConfigError(ValueError):
    """Bad options or a missing secret environment variable."""


class DeliveryOptions(BaseModel):
    """Network options every destination accepts (in `destination.options`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    connect_timeout: float = Field(10.0, gt=0, le=300, description="seconds to connect")
    read_timeout: float = Field(30.0, gt=0, le=3600, description="seconds to wait for an answer")
    max_retry_after: float = Field(
        300.0,
        ge=0,
        le=86_400,
        description="longest Retry-After the sync sleeps for; beyond it the rest is deferred",
    )

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """`Retry-After` as delta-seconds or as an HTTP-date (RFC 9110 10.2.3); None when absent
    or unreadable. A date in the past means 0."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def header(headers: Any, name: str) -> str | None:
    """Case-insensitive header look-up over any mapping (SDK exceptions carry plain dicts)."""
    for k, v in dict(headers or {}).items():
        if str(k).lower() == name.lower():
            return v
    return None


def http_error(
    vendor: str, status: int, headers: Any, detail: str = "", default_wait: float = 1.0
) -> DestinationError:
    """The one mapping of an HTTP error status to the engine's error kinds."""
    if status in (401, 403):
        return AuthError(f"{vendor} refused the credentials (HTTP {status})")
    if status == 429:
        wait = retry_after_seconds(header(headers, "Retry-After"))
        return RateLimited(default_wait if wait is None else wait)
    if status >= 500 or status in (0, 408):
        return TransientError(f"{vendor} HTTP {status}", maybe_applied=status in (0, 504))
    return BatchRejected(f"{vendor} HTTP {status}{': ' + detail if detail else ''}")


@dataclass
class BatchResult:
    """Per-key outcome of one batch. Keys in none of the three were not confirmed."""

    confirmed: dict[str, bool | None] = field(default_factory=dict)  # key -> created?
    failed: dict[str, str] = field(default_factory=dict)  # key -> error message (no PII)
    not_found: set[str] = field(default_factory=set)  # update_only: absent at destination


def secret_from_env(options: Mapping[str, Any], option: str) -> str:
    """Read the secret whose environment variable name is `options[option]`."""
    var = options.get(option)
    if not var:
        raise DestinationConfigError(
            f"option {option!r} (an environment variable name) is required"
        )
    value = os.environ.get(str(var))
    if not value:
        raise DestinationConfigError(f"environment variable {var} is not set")
    return value


def require_https(kind: str, option: str, url: str) -> None:
    """A token or personal data goes over TLS; plain http only to this machine (a fake)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    host = (parts.hostname or "").lower()
    loopback = host == "localhost" or host == "::1" or host.startswith("127.")
    if parts.scheme == "http" and loopback:
        return
    raise ValueError(f"{kind}: option {option!r} must be an https:// URL (http only to loopback)")


class Destination(ABC):
    """One destination instance per sync run."""

    type: ClassVar[str]
    #: consent channel, fixed by the destination type; None: the `channel` option decides
    channel: ClassVar[str | None] = None
    supported_modes: ClassVar[frozenset[str]] = frozenset({"upsert"})
    default_batch_size: ClassVar[int] = 100
    max_batch_size: ClassVar[int] = 100
    required_options: ClassVar[tuple[str, ...]] = ()
    #: options holding a URL a token is sent to: https only, http for loopback (local fakes)
    url_options: ClassVar[tuple[str, ...]] = ()
    #: timeouts and Retry-After cap (defaults until the options say otherwise)
    delivery: DeliveryOptions = DeliveryOptions()
    #: the journal's id of the batch being sent, set by the engine before each call; a
    #: destination that supports idempotency keys sends it (retries reuse it)
    batch_id: str = ""
    #: the diff operation of the records being written ("add" or "change"), set by the engine
    operation: str = ""
    #: sends `leave` / `unsubscribe` when a record leaves the audience or loses consent in the
    #: modes without removals (upsert, update_only, insert_only)
    withdraws: ClassVar[bool] = False

    def __init__(self, options: Mapping[str, Any], sync_name: str, run_id: str) -> None:
        self.validate_options(options)
        self.options = dict(options)
        self.sync_name = sync_name
        self.run_id = run_id
        self.batch_size = int(options.get("batch_size", self.default_batch_size))
        self.delivery = DeliveryOptions.model_validate(options)

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        missing = [o for o in cls.required_options if o not in options]
        if missing:
            raise ValueError(f"{cls.type}: missing option(s) {', '.join(missing)}")
        try:
            DeliveryOptions.model_validate(options)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ValueError(f"{cls.type}: option {err['loc'][0]!r}: {err['msg']}") from None
        size = int(options.get("batch_size", cls.default_batch_size))
        if not 1 <= size <= cls.max_batch_size:
            raise ValueError(f"{cls.type}: batch_size must be between 1 and {cls.max_batch_size}")
        if cls.channel is None:
            ch = options.get("channel")
            if ch not in ("email", "sms", "phone", "ads"):
                raise ValueError(
                    f"{cls.type}: option 'channel' must be one of email, sms, phone, ads "
                    "(consent is checked for that channel)"
                )
        for name in cls.url_options:
            if options.get(name):
                require_https(cls.type, name, str(options[name]))

    @classmethod
    def consent_channel(cls, options: Mapping[str, Any]) -> str:
        return cls.channel or str(options["channel"])

    def upsert(self, records: list[dict[str, Any]]) -> BatchResult:
        raise NotImplementedError(f"{self.type} does not support upsert")

    def insert(self, records: list[dict[str, Any]]) -> BatchResult:
        raise NotImplementedError(f"{self.type} does not support insert_only")

    def update(self, records: list[dict[str, Any]]) -> BatchResult:
        raise NotImplementedError(f"{self.type} does not support update_only")

    def delete(self, keys: list[str]) -> BatchResult:
        raise NotImplementedError(f"{self.type} does not support deletes (mirror)")

    def erase(self, keys: list[str]) -> BatchResult:
        """Delete erased persons (GDPR art. 17) with the vendor's deletion path; by default
        the destination's own delete."""
        return self.delete(keys)

    def leave(self, records: list[dict[str, Any]]) -> BatchResult:
        """The records left the audience: their mapped fields, all None, are cleared."""
        raise NotImplementedError(f"{self.type} does not support withdrawals")

    def unsubscribe(self, records: list[dict[str, Any]]) -> BatchResult:
        """The records' persons withdrew consent for the channel."""
        raise NotImplementedError(f"{self.type} does not support withdrawals")

    def reconcile(self, op: str, records: list[dict[str, Any]]) -> dict[str, bool | None] | None:
        """Keys of `records` the destination already holds exactly as sent (key -> created?),
        read back after a send whose outcome is unknown; None when it cannot tell."""
        return None

    def committed(self) -> None:  # noqa: B027 - optional hook
        """Called once the warehouse has recorded the answer to the batches sent so far (the
        file drops delete their receipts then)."""

    def finish(self) -> None:  # noqa: B027 - optional hook
        """Called once after the last batch (e.g. to close connections)."""

    @abstractmethod
    def describe(self) -> str:
        """Where this destination writes, without secrets."""
