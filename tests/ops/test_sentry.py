"""With SENTRY_DSN set, an error reaches Sentry without the child in it.

A real sentry-sdk client sends its envelope over HTTP to a fake Sentry on loopback; the
test reads what arrived. The failing view's error message quotes the signed-in child's
name, the old username and the passcode they typed, as a careless message could.
"""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from carryover.ops import sentry as ops_sentry

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.ops.urls")]


class FakeSentry(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found]

            body = brotli.decompress(body)
        FakeSentry.received.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_sentry():
    FakeSentry.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSentry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    dsn = f"http://publickey@127.0.0.1:{server.server_address[1]}/42"
    ops_sentry.init(dsn=dsn, environment="test")
    yield FakeSentry.received
    import sentry_sdk

    sentry_sdk.flush(timeout=5)
    sentry_sdk.get_client().close()
    sentry_sdk.init(dsn=None)
    server.shutdown()


def _events(received: list[bytes]) -> list[dict]:
    events = []
    for envelope in received:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


def test_an_error_reaches_sentry_without_the_childs_details(
    client, rostered_student, legacy_student, fake_sentry
):
    import sentry_sdk

    client.raise_request_exception = False
    client.force_login(rostered_student)
    client.cookies["extra"] = "cookie-value"

    response = client.post(
        "/_tests/fails/?next=/me/",
        {"username": legacy_student.username, "passcode": "7788", "account_number": "314159"},
    )
    sentry_sdk.flush(timeout=10)

    assert response.status_code == 500
    events = _events(fake_sentry)
    assert events, "nothing reached the fake Sentry"
    raw = b"\n".join(fake_sentry).decode()
    for personal in ("Maya", "Ramirez", legacy_student.username, "7788", "cookie-value"):
        assert personal not in raw, personal
    error = next(e for e in events if e.get("exception"))
    exception = error["exception"]["values"][-1]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == "boom for [removed] [removed] ([removed]) with [removed]"
    assert error["tags"]["request_id"] == response["X-Request-ID"]
    assert error["tags"]["role"] == "student"
    assert error["user"] == {"id": str(rostered_student.pk)}
    assert (error["tags"]["method"], error["tags"]["path"]) == ("POST", "/_tests/fails/")
    assert all("vars" not in frame for frame in exception["stacktrace"]["frames"])


def test_the_scrubber_removes_secret_keys_anywhere():
    event = {
        "extra": {"anything": "x"},
        "contexts": {"form": {"passcode": "1234", "username": "mayar7", "grade": "3"}},
        "request": {
            "method": "POST",
            "url": "https://carryover.example.org/sso/clever/callback?code=abc&state=def",
            "headers": {"Cookie": "sessionid=s", "Authorization": "Bearer t", "Accept": "*/*"},
            "data": {"passcode": "1234"},
        },
    }

    scrubbed = ops_sentry.scrub_event(event)

    assert scrubbed["request"] == {
        "headers": {"Accept": "*/*"},
        "method": "POST",
        "url": "https://carryover.example.org/sso/clever/callback",
    }
    assert scrubbed["contexts"]["form"] == {
        "passcode": "[removed]",
        "username": "[removed]",
        "grade": "3",
    }
    assert "extra" not in scrubbed
