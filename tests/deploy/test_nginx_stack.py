"""The deployment files, run for real on loopback: Debian's nginx with deploy/nginx/
carryover.conf in front of gunicorn (2 workers, deploy/gunicorn.conf.py, started by
carryover-web.service's ExecStart), one `carryover db_worker` (carryover-worker.service's
ExecStart, from another directory), PostgreSQL, Redis, and the provider sandbox as a
process of its own. Through nginx, over TLS: sign-in, Get Records after signing on with
Clever, a Plan B upload the worker matches, X-Forwarded-For trusted from nginx only, the
body limits, JSON logs with nginx's request id.

Needs nginx (`.ci/run` and `scripts/test` install Debian's when missing, as root) and
PostgreSQL (the stack's own database, created and dropped here).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from carryover.demo_world import people
from deploy.loopback import NGINX, Stack

pytestmark = pytest.mark.postgres

CLIENT_ADDRESS = "127.0.0.2"  # a client of nginx that is not in TRUSTED_PROXIES


class FromAddress(HTTPAdapter):
    """Connections from another loopback address, as a school's browser would come."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (CLIENT_ADDRESS, 0)
        super().init_poolmanager(*args, **kwargs)


def browser(stack: Stack) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no CA bundle or proxy from the environment: loopback only
    session.verify = str(stack.cert)
    session.mount("https://", FromAddress())
    session.mount("http://", FromAddress())
    return session


def _server_url(name: str) -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not Path(NGINX).exists():
        pytest.fail(
            "The deployment test needs nginx (apt-get install -y nginx); .ci/run installs it.",
            pytrace=False,
        )
    name = f"{os.environ.get('TEST_DATABASE_NAME', 'test_carryover')}_stack"
    admin = settings.DATABASES["default"].get("NAME") or "postgres"
    with psycopg.connect(_server_url(str(admin)), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    workdir = tmp_path_factory.mktemp("stack")
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    running = Stack(
        workdir,
        database_url=_server_url(name),
        redis_url=redis_url,
        # Every Plan B file goes to the worker, as a district's large file would. The
        # staff's second factor (TOTP) has tests of its own; here the admin signs in with
        # the password alone.
        extra_env={"PLAN_B_MATCH_IN_REQUEST_ROWS": "1", "STAFF_SECOND_FACTOR": "0"},
    )
    try:
        running.prepare()
        demo_env = running.env()
        demo_env["CARRYOVER_MODE"] = "development"
        running.run("demo", "--no-server", env=demo_env)
        running.start()
        yield running
    finally:
        running.stop()
        with psycopg.connect(_server_url(str(admin)), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sql(stack: Stack, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(stack.database_url) as conn:
        return conn.execute(query, params).fetchall()


def csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=30)
    assert page.status_code == 200, page.text[:500]
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in_legacy(stack: Stack, session: requests.Session, username: str, passcode: str):
    token = csrf(session, stack.url("/sign-in/"))
    return session.post(
        stack.url("/sign-in/"),
        data={
            "csrfmiddlewaretoken": token,
            "panel": "student",
            "account_number": "424242",
            "username": username,
            "passcode": passcode,
        },
        headers={"Referer": stack.url("/sign-in/")},
        allow_redirects=False,
        timeout=30,
    )


def test_the_probes_answer_through_nginx(stack: Stack) -> None:
    session = browser(stack)

    assert session.get(stack.url("/healthz"), timeout=10).json() == {"status": "ok"}
    ready = session.get(stack.url("/readyz"), timeout=30)
    checks = ready.json()["checks"]
    assert checks["database"] == checks["migrations"] == checks["cache"] == "ok"
    from carryover.ops import health

    if health._worker_alive() is not None:  # carryover.jobs provides the heartbeat
        assert ready.status_code == 200, ready.text
    else:
        assert checks["worker"] == "this version records no worker heartbeat"


def test_a_student_signs_in_through_nginx_over_https(stack: Stack) -> None:
    session = browser(stack)

    response = sign_in_legacy(stack, session, "mayar7", "1234")

    assert response.status_code == 302, response.text[:500]
    me = session.get(stack.url("/me/"), timeout=30)
    assert me.status_code == 200
    assert "mayar7" in me.text
    # Production settings are in force behind the proxy.
    assert "Content-Security-Policy" in me.headers
    assert me.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = next(c for c in session.cookies if c.name == "sessionid")
    assert cookie.secure


def _failed_sign_in_address(stack: Stack, username: str) -> list[str]:
    return [
        row[0]
        for row in sql(
            stack,
            "SELECT host(ip_address) FROM audit_auditevent "
            "WHERE event_type = 'user_sign_in_failed' AND data->>'username' = %s",
            username,
        )
    ]


def test_x_forwarded_for_through_nginx_counts_the_real_client(stack: Stack) -> None:
    session = browser(stack)
    token = csrf(session, stack.url("/sign-in/"))

    # The client writes its own header; nginx appends the address it really saw.
    session.post(
        stack.url("/sign-in/"),
        data={
            "csrfmiddlewaretoken": token,
            "panel": "student",
            "account_number": "424242",
            "username": "xff-through-nginx",
            "passcode": "wrong",
        },
        headers={"Referer": stack.url("/sign-in/"), "X-Forwarded-For": "203.0.113.66"},
        timeout=30,
    )

    assert _failed_sign_in_address(stack, "xff-through-nginx") == [CLIENT_ADDRESS]


def test_x_forwarded_for_from_a_client_that_is_no_trusted_proxy_is_ignored(stack: Stack) -> None:
    """Straight to gunicorn from 127.0.0.2 (not in TRUSTED_PROXIES) with a spoofed header.
    It claims HTTPS too, so the production app reads the form at all."""
    direct = browser(stack)
    origin = f"https://127.0.0.1:{stack.app_port}"
    claims = {"X-Forwarded-For": "203.0.113.77", "X-Forwarded-Proto": "https"}
    page = direct.get(f"{stack.app_url}/sign-in/", headers=claims, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert page.status_code == 200 and token
    cookie = page.cookies.get("csrftoken") or ""  # Secure: requests keeps it off plain HTTP

    answer = direct.post(
        f"{stack.app_url}/sign-in/",
        data={
            "csrfmiddlewaretoken": token.group(1),
            "panel": "student",
            "account_number": "424242",
            "username": "xff-direct",
            "passcode": "wrong",
        },
        headers={**claims, "Referer": f"{origin}/sign-in/", "Cookie": f"csrftoken={cookie}"},
        allow_redirects=False,
        timeout=30,
    )

    assert answer.status_code == 200, answer.text[:300]
    assert _failed_sign_in_address(stack, "xff-direct") == [CLIENT_ADDRESS]


def test_a_rostered_student_signs_on_with_clever_and_gets_their_records(stack: Stack) -> None:
    session = browser(stack)
    maya = people.clever_id(people.LEGACY_TO_ROSTERED["mayar7"])
    # The sign-on: nginx -> carryover -> the Clever sandbox (another process) and back.
    landed = session.get(
        stack.url(f"/sso/clever/login?login_hint={maya}"), timeout=60, allow_redirects=True
    )
    assert landed.status_code == 200, landed.text[:500]
    assert landed.url.startswith(stack.origin)
    token = csrf(session, stack.url("/me/get-records/"))

    preview = session.post(
        stack.url("/me/get-records/"),
        data={
            "csrfmiddlewaretoken": token,
            "username": "mayar7",
            "passcode": "1234",
            "account_number": "424242",
        },
        headers={"Referer": stack.url("/me/get-records/")},
        timeout=60,
    )
    assert preview.status_code == 200, preview.text[:500]
    confirm_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', preview.text)
    assert confirm_token
    done = session.post(
        stack.url("/me/get-records/confirm/"),
        data={"csrfmiddlewaretoken": confirm_token.group(1)},
        headers={"Referer": stack.url("/me/get-records/")},
        timeout=60,
    )

    assert done.status_code == 200, done.text[:500]
    merges = sql(
        stack,
        "SELECT m.method, l.username FROM merging_merge m "
        "JOIN accounts_user l ON l.id = m.legacy_id WHERE m.undone_at IS NULL",
    )
    assert ("self_service", "mayar7") in merges


def test_a_plan_b_upload_is_matched_by_the_worker(stack: Stack) -> None:
    session = browser(stack)
    token = csrf(session, stack.url("/sign-in/"))
    signed_in = session.post(
        stack.url("/sign-in/"),
        data={
            "csrfmiddlewaretoken": token,
            "panel": "staff",
            "email": "grace.holloway@riverside.example",
            "password": "riverside-admin",
        },
        headers={"Referer": stack.url("/sign-in/")},
        allow_redirects=False,
        timeout=30,
    )
    assert signed_in.status_code == 302
    token = csrf(session, stack.url("/plan-b/"))
    filled_in = stack.workdir / "var" / "demo" / "plan-b-filled-in.csv"

    with filled_in.open("rb") as handle:
        uploaded = session.post(
            stack.url("/plan-b/upload/"),
            data={"csrfmiddlewaretoken": token},
            files={"file": ("plan-b-filled-in.csv", handle, "text/csv")},
            headers={"Referer": stack.url("/plan-b/")},
            allow_redirects=False,
            timeout=60,
        )
    assert uploaded.status_code == 302, uploaded.text[:800]
    job_url = stack.url(uploaded.headers["Location"].rstrip("/") + ".json")
    deadline = time.monotonic() + 120
    while True:
        status = session.get(job_url, timeout=30).json()
        if status["finished"]:
            break
        assert time.monotonic() < deadline, f"the worker did not match the file: {status}"
        time.sleep(0.5)

    assert status["status"] == "matched", status
    assert sql(stack, "SELECT count(*) FROM matching_namematchrow")[0][0] > 10


def test_nginx_enforces_the_products_body_limits(stack: Stack) -> None:
    session = browser(stack)

    form = session.post(stack.url("/sign-in/"), data=b"x" * (4 * 1024 * 1024), timeout=60)
    plan_b = session.post(stack.url("/plan-b/upload/"), data=b"x" * (22 * 1024 * 1024), timeout=60)

    assert form.status_code == 413
    assert plan_b.status_code == 413


def _complete_lines(stack: Stack, name: str) -> list[str]:
    # Another process may be half-way through writing the last line: only whole ones.
    text = stack.tail(name, size=10**9)
    return [line for line in text.split("\n")[:-1] if line.strip()]


def test_every_log_line_is_json_and_carries_nginxs_request_id(stack: Stack) -> None:
    session = browser(stack)
    response = session.get(stack.url("/sign-in/?next=/me/"), timeout=30)
    request_id = response.headers["X-Request-ID"]

    deadline = time.monotonic() + 15
    while True:
        lines = [json.loads(line) for n in ("web", "worker0") for line in _complete_lines(stack, n)]
        mine = [
            line
            for line in lines
            if line.get("logger") == "carryover.access" and line.get("request_id") == request_id
        ]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.25)

    assert len(mine) == 1
    assert mine[0]["path"] == "/sign-in/" and mine[0]["client_ip"] == CLIENT_ADDRESS
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id
    # nginx writes its line once the response is out: give it a moment.
    nginx_log = stack.workdir / "nginx-access.log"
    deadline = time.monotonic() + 10
    while f"rid={request_id}" not in nginx_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert f"rid={request_id}" in nginx_log.read_text()
    assert any(line["logger"].startswith("gunicorn") for line in lines)
    # What was typed (passcodes, passwords) is in no message or traceback. (Checked in
    # the text fields only: a duration or a pid may well contain the digits 1234.)
    text = "\n".join(str(line.get(key, "")) for line in lines for key in ("message", "exc_info"))
    assert not re.search(r"\b1234\b|riverside-admin|riverside-teacher", text)


def test_the_worker_ran_from_its_own_directory(stack: Stack) -> None:
    assert stack.processes["worker0"].args[0].endswith("carryover")
    assert (
        Path(f"/proc/{stack.processes['worker0'].pid}/cwd").resolve()
        == (stack.workdir / "worker-home").resolve()
    )
    assert shutil.which("nginx") or Path(NGINX).exists()
