"""GET JSON from a roster API; every failure becomes a SourceError naming the request.

Timeouts, refused connections, 401/403, other non-2xx answers, bodies that are not
(complete) JSON: each one stops the read, so a sync never applies a partial roster.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

from carryover.rostering.errors import SourceError


class JsonClient:
    def __init__(
        self,
        *,
        auth: requests.auth.AuthBase | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.session = requests.Session()
        self.session.auth = auth
        self.session.headers.update({"Accept": "application/json", **(headers or {})})
        self.timeout = timeout if timeout is not None else settings.ROSTER_HTTP_TIMEOUT
        self.requests = 0

    def close(self) -> None:
        self.session.close()

    def get(self, url: str, params: dict[str, Any] | None = None) -> tuple[Any, requests.Response]:
        request = requests.Request("GET", url, params=params).prepare()
        name = f"GET {_without_host(request.url or url)}"
        self.requests += 1
        try:
            response = self.session.get(url, params=params, timeout=self.timeout)
        except requests.Timeout as exc:
            raise SourceError(f"{name}: no answer within {self.timeout:g} s") from exc
        except requests.ConnectionError as exc:
            raise SourceError(f"{name}: could not connect ({_short(exc)})") from exc
        except requests.RequestException as exc:
            raise SourceError(f"{name}: {_short(exc)}") from exc
        if response.status_code in (401, 403):
            raise SourceError(
                f"{name}: {response.status_code} {response.reason or 'Unauthorized'} — the "
                "provider refused the credentials (token, key or secret); reconnect the account"
            )
        if not 200 <= response.status_code < 300:
            raise SourceError(
                f"{name}: HTTP {response.status_code} {response.reason or ''}".rstrip()
            )
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SourceError(
                f"{name}: the answer is not complete JSON (truncated page?): {exc}"
            ) from exc
        return body, response


def _without_host(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "..."
