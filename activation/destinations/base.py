"""The destination interface the sync engine drives.

A destination receives batches of mapped records (dicts with `_key` plus the mapped fields)
and reports, per key, what it confirmed. The engine updates its state only for confirmed
keys, so anything a destination did not confirm is sent again on the next run.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

KEY = "_key"


class DestinationError(Exception):
    """Base of the errors a destination raises for a whole batch."""


class RateLimited(DestinationError):
    """HTTP 429 or equivalent: wait `retry_after` seconds and send the same batch again."""

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientError(DestinationError):
    """A 5xx, a timeout, a dropped connection: retried with exponential backoff."""


class BatchRejected(DestinationError):
    """The destination refused the whole batch because of its content (e.g. HTTP 400).

    The engine splits the batch to isolate the bad records.
    """


class DestinationConfigError(ValueError):
    """Bad options or a missing secret environment variable."""


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


class Destination(ABC):
    """One destination instance per sync run."""

    type: ClassVar[str]
    #: consent channel, fixed by the destination type; None: the `channel` option decides
    channel: ClassVar[str | None] = None
    supported_modes: ClassVar[frozenset[str]] = frozenset({"upsert"})
    default_batch_size: ClassVar[int] = 100
    max_batch_size: ClassVar[int] = 100
    required_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, options: Mapping[str, Any], sync_name: str, run_id: str) -> None:
        self.validate_options(options)
        self.options = dict(options)
        self.sync_name = sync_name
        self.run_id = run_id
        self.batch_size = int(options.get("batch_size", self.default_batch_size))

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        missing = [o for o in cls.required_options if o not in options]
        if missing:
            raise ValueError(f"{cls.type}: missing option(s) {', '.join(missing)}")
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

    def finish(self) -> None:  # noqa: B027 - optional hook
        """Called once after the last batch (e.g. to close connections)."""

    @abstractmethod
    def describe(self) -> str:
        """Where this destination writes, without secrets."""
