"""Run HTTP calls made with `requests` against this Django project, in process.

The sign-on code and the roster clients talk to Clever and ClassLink with `requests`
(Authlib's OAuth2Session is a requests.Session). In tests their base URLs point at
http://testserver/sandbox/...; this adapter hands every request for that host to a
fresh Django test client, so the sandbox views answer inside the test's own
transaction (works on SQLite and PostgreSQL, no server thread, no port), and anything
else is refused, so no test can reach the internet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from django.test import Client
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

TEST_ORIGIN = "http://testserver"
_SKIPPED_HEADERS = {"content-length", "content-type", "host", "connection", "accept-encoding"}


@dataclass
class DjangoTestClientAdapter(BaseAdapter):
    calls: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        # One client (building its middleware stack is the slow part); server-to-server
        # calls carry no cookies, so they are dropped before every request.
        self.client = Client()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != TEST_ORIGIN:
            raise requests.ConnectionError(f"tests may not reach {url}")
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _SKIPPED_HEADERS}
        self.calls.append((request.method or "GET", parts.path))
        self.client.cookies.clear()
        answer = self.client.generic(
            request.method or "GET",
            path,
            data=body,
            content_type=request.headers.get("Content-Type", ""),
            headers=headers,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.content
        response.headers = CaseInsensitiveDict(dict(answer.items()))
        response.url = url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        return None


@contextmanager
def requests_to_django() -> Iterator[DjangoTestClientAdapter]:
    adapter = DjangoTestClientAdapter()
    original = requests.Session.get_adapter

    def get_adapter(self: requests.Session, url: str) -> BaseAdapter:
        return adapter

    requests.Session.get_adapter = get_adapter  # type: ignore[method-assign]
    try:
        yield adapter
    finally:
        requests.Session.get_adapter = original  # type: ignore[method-assign]
