"""Delivering one batch: retries (tenacity), Retry-After waits up to a cap, read-back of a
send whose outcome is unknown, and splitting a rejected batch to isolate its bad records.

Waits between attempts go through the engine's injectable `sleep`, so tests never wait.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from tenacity import RetryCallState, Retrying

from activation.destinations.base import (
    KEY,
    BatchRejected,
    BatchResult,
    Destination,
    RateLimited,
    TransientError,
)

if TYPE_CHECKING:
    from activation.config import Sync


class SyncEngine(Protocol):
    """What delivery needs of the sync engine (activation.engine.SyncEngine): its sync, its
    injectable sleep and its retry bounds. A protocol, so delivery does not import the engine
    that calls it."""

    sync: Sync
    sleep: Callable[[float], None]
    max_retries: int
    max_rate_limit_waits: int
    backoff_base: float
    backoff_max: float


log = logging.getLogger("activation.engine")


class DestinationUnavailable(Exception):
    """Retries exhausted: the run stops; unsent records are sent by the next run."""


class Deferred(Exception):
    """The destination asked for a wait longer than `max_retry_after`: the rest of the sync
    goes to a run after `retry_after` seconds instead of sleeping through it."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Retry-After {retry_after:.0f} s")
        self.retry_after = retry_after


class RetryPolicy:
    """tenacity callbacks for one batch: rate-limit waits and transient retries are
    counted apart (a 429 is not a failure), the wait is Retry-After or exponential."""

    def __init__(self, engine: SyncEngine, cap: float) -> None:
        self.engine, self.cap = engine, cap
        self.transient = 0
        self.waits = 0

    def retry(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited):
            self.waits += 1
            return True
        if isinstance(exc, TransientError):
            self.transient += 1
            return True
        return False

    def stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited):
            return exc.retry_after > self.cap or self.waits > self.engine.max_rate_limit_waits
        return self.transient > self.engine.max_retries

    def wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited):
            return max(0.0, float(exc.retry_after))
        e = self.engine
        return min(e.backoff_base * 2 ** (self.transient - 1), e.backoff_max)

    def before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.info("sync %s: %s, retrying in %.1fs", self.engine.sync.name, exc, wait)


def _call(
    engine: SyncEngine, dest: Destination, op: str, batch: list[dict[str, Any]]
) -> BatchResult:
    if op == "remove":
        return dest.delete([r[KEY] for r in batch])
    if op == "erase":
        return dest.erase([r[KEY] for r in batch])
    payload = [{k: v for k, v in r.items() if k != "_hash"} for r in batch]
    if op == "leave":
        return dest.leave(payload)
    if op == "unsubscribe":
        return dest.unsubscribe(payload)
    dest.operation = op
    if engine.sync.mode == "update_only":
        return dest.update(payload)
    if engine.sync.mode == "insert_only":
        return dest.insert(payload)
    return dest.upsert(payload)


def deliver(
    engine: SyncEngine,
    dest: Destination,
    op: str,
    batch: list[dict[str, Any]],
    batch_id: str,
    maybe_applied: bool = False,
) -> BatchResult:
    """Send one batch until the destination answers for it.

    `batch_id` is the idempotency key (split halves get derived ids). After a send whose
    outcome is unknown (`maybe_applied`), the destination is asked what it already holds
    before anything is sent again; a destination that cannot tell gets the same id.
    """
    held = BatchResult()
    todo = batch
    unknown = maybe_applied

    def attempt() -> BatchResult:
        nonlocal todo, unknown
        dest.batch_id = batch_id  # the file drops find a batch's file and receipt by it
        if unknown:
            payload = [{k: v for k, v in r.items() if k != "_hash"} for r in todo]
            found = dest.reconcile(op, payload) or {}
            held.confirmed.update(found)
            todo = [r for r in todo if r[KEY] not in found]
            unknown = False
        if not todo:
            return BatchResult()
        try:
            return _call(engine, dest, op, todo)
        except TransientError as exc:
            unknown = unknown or exc.maybe_applied
            raise

    policy = RetryPolicy(engine, dest.delivery.max_retry_after)
    retrying = Retrying(
        retry=policy.retry,
        stop=policy.stop,
        wait=policy.wait,
        sleep=engine.sleep,
        before_sleep=policy.before_sleep,
        reraise=True,
    )
    try:
        result = retrying(attempt)
    except RateLimited as exc:
        if exc.retry_after > policy.cap:
            raise Deferred(exc.retry_after) from exc
        raise DestinationUnavailable(
            f"still rate limited after {engine.max_rate_limit_waits} waits"
        ) from exc
    except TransientError as exc:
        raise DestinationUnavailable(f"{exc} (gave up after {engine.max_retries} retries)") from exc
    except BatchRejected as exc:
        if len(todo) == 1:
            result = BatchResult(failed={todo[0][KEY]: f"rejected: {exc}"})
        else:
            mid = len(todo) // 2
            left = deliver(engine, dest, op, todo[:mid], f"{batch_id}.1", unknown)
            right = deliver(engine, dest, op, todo[mid:], f"{batch_id}.2", unknown)
            result = BatchResult(
                confirmed={**left.confirmed, **right.confirmed},
                failed={**left.failed, **right.failed},
                not_found=left.not_found | right.not_found,
            )
    result.confirmed = {**held.confirmed, **result.confirmed}
    keys = {r[KEY] for r in batch}
    unconfirmed = keys - set(result.confirmed) - set(result.failed) - result.not_found
    for key in unconfirmed:
        result.failed[key] = "not confirmed by the destination"
    return result
