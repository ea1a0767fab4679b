"""Retrying the providers' 429 and 5xx answers, as Clever and OneRoster servers ask.

urllib3's `Retry` through a `requests` `HTTPAdapter` mounted on the session: 429, 500,
502, 503 and 504 are sent again a bounded number of times, after an exponential backoff
with jitter (`backoff * 2**(n-1)` plus up to `backoff` at random, so a district's
schools don't all come back in the same second), or after exactly the `Retry-After`
the server sent. A `Retry-After` longer than the policy allows is not shortened: the
call gives up at once and the caller reports the answer (a sync fails naming the
request; a sign-on says the provider is busy). Connection refusals are retried too; a
read timeout is not (it has waited its whole timeout already).

Two policies: roster syncs run in the background and may wait (PROVIDER_HTTP_*); a
sign-on has a child waiting at the screen (SSO_HTTP_*).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Token requests are POSTs; retrying one the server refused with 429/5xx is safe.
RETRY_METHODS = frozenset({"GET", "HEAD", "POST"})


class ProviderRetry(Retry):
    """`Retry` that gives up instead of waiting less than a server's Retry-After asks."""

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> ProviderRetry:
        if response is not None and self.respect_retry_after_header:
            raw = response.headers.get("Retry-After")
            if raw is not None:
                uncapped = Retry(retry_after_max=10**9)
                try:
                    wait = uncapped.parse_retry_after(raw)
                except Exception:
                    wait = None
                if wait is not None and wait > self.retry_after_max:
                    raise MaxRetryError(
                        _pool,  # type: ignore[arg-type]
                        url or "",
                        ResponseError(f"the server asks to wait {wait:g} s"),
                    )
        return super().increment(method, url, response, error, _pool, _stacktrace)


@dataclass(frozen=True)
class Policy:
    retries: int
    backoff_seconds: float
    retry_after_max: float

    def retry(self) -> ProviderRetry:
        return ProviderRetry(
            total=self.retries,
            connect=self.retries,
            read=0,
            other=0,
            redirect=3,
            status=self.retries,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=RETRY_METHODS,
            backoff_factor=self.backoff_seconds,
            backoff_jitter=self.backoff_seconds,
            backoff_max=max(self.retry_after_max, self.backoff_seconds),
            retry_after_max=int(self.retry_after_max),
            respect_retry_after_header=True,
            # The last answer goes back to the caller, who names the request in its error.
            raise_on_status=False,
        )


def roster_policy() -> Policy:
    return Policy(
        retries=settings.PROVIDER_HTTP_RETRIES,
        backoff_seconds=settings.PROVIDER_HTTP_BACKOFF_SECONDS,
        retry_after_max=settings.PROVIDER_HTTP_RETRY_AFTER_MAX,
    )


def sign_on_policy() -> Policy:
    return Policy(
        retries=settings.SSO_HTTP_RETRIES,
        backoff_seconds=settings.SSO_HTTP_BACKOFF_SECONDS,
        retry_after_max=settings.SSO_HTTP_RETRY_AFTER_MAX,
    )


def mount(session: requests.Session, policy: Policy) -> requests.Session:
    adapter = HTTPAdapter(max_retries=policy.retry())
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def attempts(response: requests.Response) -> int:
    """How many times the request behind `response` was sent (1 when never retried)."""
    retries = getattr(getattr(response, "raw", None), "retries", None)
    history = getattr(retries, "history", None) or ()
    return 1 + len(history)
