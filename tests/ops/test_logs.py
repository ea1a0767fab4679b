"""Log lines are one JSON object each and carry the request id, user id and role; the
access log has a line per request without the query string or anyone's details."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.urls import reverse

from carryover.ops.logs import JsonFormatter

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.ops.urls")]


@pytest.fixture
def log_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def lines() -> list[dict]:
        handler.flush()
        return [json.loads(line) for line in stream.getvalue().splitlines() if line]

    yield lines
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_every_line_of_a_request_carries_its_id_user_and_role(client, teacher, log_lines):
    client.force_login(teacher)

    response = client.get("/_tests/logs-inside/?code=s3cret-code")

    request_id = response["X-Request-ID"]
    lines = log_lines()
    inside = [line for line in lines if line["logger"] == "carryover.tests"]
    access = [line for line in lines if line["logger"] == "carryover.access"]
    assert len(inside) == 1 and len(access) == 1
    for line in (inside[0], access[0]):
        assert line["request_id"] == request_id
        assert line["user_id"] == teacher.pk
        assert line["role"] == "teacher"
        assert line["time"].endswith("Z") and line["level"] in ("INFO", "WARNING")
    assert inside[0]["message"] == "inside the view"
    assert access[0]["method"] == "GET"
    assert access[0]["path"] == "/_tests/logs-inside/"
    assert access[0]["status"] == 200
    assert access[0]["duration_ms"] >= 0
    assert "s3cret-code" not in json.dumps(lines)


def test_two_requests_get_two_ids(client, log_lines):
    first = client.get("/sign-in/")["X-Request-ID"]
    second = client.get("/sign-in/")["X-Request-ID"]

    assert first != second
    assert [line["request_id"] for line in log_lines() if line["logger"] == "carryover.access"] == [
        first,
        second,
    ]


def test_a_sign_in_logs_no_username_and_no_passcode(client, legacy_student, log_lines):
    response = client.post(
        reverse("web:sign_in"),
        {"panel": "student", "account_number": "314159", "username": "mayar7", "passcode": "1234"},
    )

    assert response.status_code == 302
    text = json.dumps(log_lines())
    assert '"path": "/sign-in/"' in text
    assert "mayar7" not in text and "1234" not in text


def test_a_request_id_is_taken_from_a_trusted_proxy_only(client, settings, log_lines):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    nginx_id = "0123456789abcdef0123456789abcdef"

    from_nginx = client.get("/sign-in/", REMOTE_ADDR="127.0.0.1", HTTP_X_REQUEST_ID=nginx_id)
    from_client = client.get("/sign-in/", REMOTE_ADDR="203.0.113.7", HTTP_X_REQUEST_ID=nginx_id)
    forged = client.get("/sign-in/", REMOTE_ADDR="127.0.0.1", HTTP_X_REQUEST_ID='x"}\n{"a')

    assert from_nginx["X-Request-ID"] == nginx_id
    assert from_client["X-Request-ID"] != nginx_id
    assert forged["X-Request-ID"] != 'x"}\n{"a' and len(forged["X-Request-ID"]) == 32


def test_an_error_is_one_json_line_with_its_traceback(client, rostered_student, log_lines):
    client.raise_request_exception = False
    client.force_login(rostered_student)

    response = client.post("/_tests/fails/", {"passcode": "7788"})

    assert response.status_code == 500
    errors = [line for line in log_lines() if line["level"] == "ERROR"]
    assert errors and errors[0]["logger"] == "django.request"
    assert "RuntimeError" in errors[0]["exc_info"]
    assert errors[0]["request_id"] == response["X-Request-ID"]
    # Django attaches the request object to its record; its text is not copied.
    assert "request" not in errors[0]
    # The error quoted the child's name, username and the passcode typed: taken out.
    text = json.dumps(log_lines())
    assert "boom for [removed] [removed] () with [removed]" in text
    for personal in ("Maya", "Ramirez", "7788"):
        assert personal not in text
