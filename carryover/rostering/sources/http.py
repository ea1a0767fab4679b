"""GET JSON from a roster API; every failure becomes a SourceError naming the request.

A 429 or 5xx is first sent again with backoff, honouring Retry-After (a bounded number
of times: carryover/http_retry.py). Then timeouts, refused connections, 401/403, other
non-2xx answers, bodies that are not (complete) JSON: each one stops the read, so a
sync never applies a partial roster.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

from carryover import http_retry
from carryover.rostering.errors import SourceError


class JsonClient:
    """`session`: a prepared session (OneRoster 1.2: Authlib's OAuth2Session, which adds
    the bearer token). `reauthorize`: called once when a request is answered 401 (fetch
    a new token); the request is then sent again, and a second 401 is the error."""

    def __init__(
        self,
        *,
        auth: requests.auth.AuthBase | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        session: requests.Session | None = None,
        reauthorize: Callable[[], None] | None = None,
    ) -> None:
        self.session = http_retry.mount(
            session if session is not None else requests.Session(), http_retry.roster_policy()
        )
        if auth is not None:
            self.session.auth = auth
        self.session.headers.update({"Accept": "application/json", **(headers or {})})
        self.timeout = timeout if timeout is not None else settings.ROSTER_HTTP_TIMEOUT
        self.reauthorize = reauthorize
        self.requests = 0

    def close(self) -> None:
        self.session.close()

    def _send(self, name: str, url: str, params: dict[str, Any] | None) -> requests.Response:
        self.requests += 1
        try:
            return self.session.get(url, params=params, timeout=self.timeout)
        except requests.Timeout as exc:
            raise SourceError(f"{name}: no answer within {self.timeout:g} s") from exc
        except requests.ConnectionError as exc:
            raise SourceError(f"{name}: could not connect ({_short(exc)})") from exc
        except requests.RequestException as exc:
            raise SourceError(f"{name}: {_short(exc)}") from exc

    def get(
        self, url: str, params: dict[str, Any] | None = None, *, allow: tuple[int, ...] = ()
    ) -> tuple[Any, requests.Response]:
        """(JSON body, response); an answer whose status is in `allow` is (None, response)."""
        request = requests.Request("GET", url, params=params).prepare()
        name = f"GET {without_host(request.url or url)}"
        response = self._send(name, url, params)
        if response.status_code == 401 and self.reauthorize is not None:
            self.reauthorize()
            response = self._send(name, url, params)
        if response.status_code in allow:
            return None, response
        if response.status_code in (401, 403):
            raise SourceError(
                f"{name}: {response.status_code} {response.reason or 'Unauthorized'} — the "
                "provider refused the credentials (token, key or secret); reconnect the account"
            )
        if not 200 <= response.status_code < 300:
            tries = http_retry.attempts(response)
            raise SourceError(
                f"{name}: HTTP {response.status_code} {response.reason or ''}".rstrip()
                + (f" (after {tries} tries)" if tries > 1 else "")
                + _wait_asked(response)
            )
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SourceError(
                f"{name}: the answer is not complete JSON (truncated page?): {exc}"
            ) from exc
        return body, response


def _wait_asked(response: requests.Response) -> str:
    wait = (response.headers.get("Retry-After") or "").strip()[:40]
    if response.status_code not in (429, 503) or not wait:
        return ""
    return f"; the server asks to wait {wait + ' s' if wait.isdigit() else 'until ' + wait}"


def without_host(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "..."
