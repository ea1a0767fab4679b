"""Cache-backed attempt counters (Redis in production; local memory by default).

Used by Get Records (merging/getrecords.py), sign-in (accounts/signin.py) and password
resets: each is an oracle, so each counts before the expensive or revealing work runs.
(An old account's own count and lock live in the database: `carryover.merging.guard`.)

Fixed windows keyed by the window's index. An attempt is reserved (counted) before
any passcode hash runs; a success gives its reservation back, so the counters hold
failures only and a success never resets them. A reservation a killed request never
gave back simply ends with its window.

Subjects are whatever someone typed, already normalised by `carryover.identity`; they
are hashed into the key, so the cache never holds what was typed.

When the cache cannot be reached, every function here raises `LimitsUnavailable`: a
door that cannot count must not open (the pages answer 503, not 500).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from django.core.cache import cache

try:  # the Redis client is installed with the product; local memory never fails
    from redis.exceptions import RedisError as CacheError
except ImportError:  # pragma: no cover
    CacheError = OSError  # type: ignore[assignment,misc]

T = TypeVar("T")


class LimitsUnavailable(Exception):
    """The cache that holds the counters did not answer."""


@contextlib.contextmanager
def _cache_errors() -> Iterator[None]:
    try:
        yield
    except (CacheError, OSError) as exc:
        raise LimitsUnavailable(str(exc)) from exc


def _guarded(call: Callable[[], T]) -> T:
    with _cache_errors():
        return call()


@dataclass(frozen=True)
class Limit:
    name: str
    max_failures: int
    window_seconds: int


@dataclass(frozen=True)
class Reservation:
    keys: tuple[str, ...]
    refused_retry_after: int | None  # seconds, when a limit was already reached
    refused_by: str | None = None  # the name of the (longest-waiting) limit that refused

    @property
    def refused(self) -> bool:
        return self.refused_retry_after is not None


def _digest(subject: str) -> str:
    return hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def _key(limit: Limit, subject: str, now: float) -> tuple[str, int]:
    # The subject may be whatever someone typed: hashed, it is a safe, short cache key.
    window = int(now // limit.window_seconds)
    retry_after = int((window + 1) * limit.window_seconds - now) + 1
    return f"ratelimit:{limit.name}:{_digest(subject)}:{window}", retry_after


def _incr(key: str, ttl: int) -> int:
    cache.add(key, 0, timeout=ttl)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=ttl)
        return 1


def reserve(checks: list[tuple[Limit, str]], *, now: float | None = None) -> Reservation:
    """Count one attempt against every (limit, subject). If any limit is over, give all
    the counts back and answer how long to wait."""
    now = time.time() if now is None else now
    taken: list[str] = []
    retry_after: int | None = None
    refused_by: str | None = None
    with _cache_errors():
        for limit, subject in checks:
            key, wait = _key(limit, subject, now)
            count = _incr(key, limit.window_seconds + 5)
            taken.append(key)
            if count > limit.max_failures and wait > (retry_after or 0):
                retry_after, refused_by = wait, limit.name
        if retry_after is not None:
            release(Reservation(keys=tuple(taken), refused_retry_after=None))
            return Reservation(keys=(), refused_retry_after=retry_after, refused_by=refused_by)
    return Reservation(keys=tuple(taken), refused_retry_after=None)


def release(reservation: Reservation) -> None:
    """Give back the attempts of a reservation (the attempt was not a failure)."""
    with _cache_errors():
        for key in reservation.keys:
            with contextlib.suppress(ValueError):
                cache.decr(key)


@dataclass(frozen=True)
class LimitState:
    """Where one subject stands against one limit in the current window."""

    limit: Limit
    failures: int
    retry_after: int  # seconds until the window ends

    @property
    def reached(self) -> bool:
        return self.failures >= self.limit.max_failures


def peek(limit: Limit, subject: str, *, now: float | None = None) -> LimitState:
    """The current window's count, without counting anything."""
    now = time.time() if now is None else now
    key, wait = _key(limit, subject, now)
    failures = _guarded(lambda: cache.get(key))
    return LimitState(limit=limit, failures=int(failures or 0), retry_after=wait)


def clear(limit: Limit, subject: str, *, now: float | None = None) -> int:
    """Forget the current window's count (a teacher lets a child try again). Answers the
    count that was cleared."""
    now = time.time() if now is None else now
    key, _ = _key(limit, subject, now)
    with _cache_errors():
        failures = int(cache.get(key) or 0)
        cache.delete(key)
    return failures


# --- refusals, counted rather than audited one by one -------------------------------

# A refused attempt writes an audit row only when it is the 1st, 10th, 100th, ... refusal
# of that identity and address in the window: 500 throttled tries write 3 rows, each
# saying how many were refused so far, instead of 500 rows the append-only trail keeps
# forever.
SUMMARY_AT = frozenset(10**n for n in range(10))


@dataclass(frozen=True)
class Refusal:
    count: int  # refusals of this subject in this window, this one included
    window_start: int  # epoch seconds
    window_seconds: int

    @property
    def to_audit(self) -> bool:
        return self.count in SUMMARY_AT


def count_refusal(
    name: str, subject: str, *, window_seconds: int, now: float | None = None
) -> Refusal:
    """Count one refused attempt of `subject` (identity and address) in its window."""
    now = time.time() if now is None else now
    window = int(now // window_seconds)
    key = f"refused:{name}:{_digest(subject)}:{window}"
    count = _guarded(lambda: _incr(key, window_seconds + 5))
    return Refusal(count=count, window_start=window * window_seconds, window_seconds=window_seconds)
