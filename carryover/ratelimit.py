"""Cache-backed attempt counters (Redis in production; local memory by default).

Used by Get Records (merging/getrecords.py) and by sign-in (accounts/signin.py): both
forms are password oracles, so both count failures before any hash runs.

Fixed windows keyed by the window's index. An attempt is reserved (counted) before
any passcode hash runs; a success gives its reservation back, so the counters hold
failures only and a success never resets them.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    name: str
    max_failures: int
    window_seconds: int


@dataclass(frozen=True)
class Reservation:
    keys: tuple[str, ...]
    refused_retry_after: int | None  # seconds, when a limit was already reached

    @property
    def refused(self) -> bool:
        return self.refused_retry_after is not None


def _key(limit: Limit, subject: str, now: float) -> tuple[str, int]:
    # The subject may be whatever someone typed: hashed, it is a safe, short cache key.
    window = int(now // limit.window_seconds)
    retry_after = int((window + 1) * limit.window_seconds - now) + 1
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"ratelimit:{limit.name}:{digest}:{window}", retry_after


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
    for limit, subject in checks:
        key, wait = _key(limit, subject, now)
        count = _incr(key, limit.window_seconds + 5)
        taken.append(key)
        if count > limit.max_failures:
            retry_after = max(retry_after or 0, wait)
    if retry_after is not None:
        release(Reservation(keys=tuple(taken), refused_retry_after=None))
        return Reservation(keys=(), refused_retry_after=retry_after)
    return Reservation(keys=tuple(taken), refused_retry_after=None)


def release(reservation: Reservation) -> None:
    """Give back the attempts of a reservation (the attempt was not a failure)."""
    for key in reservation.keys:
        with contextlib.suppress(ValueError):
            cache.decr(key)
