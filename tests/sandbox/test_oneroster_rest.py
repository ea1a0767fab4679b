"""The ClassLink sandbox's OneRoster 1.1 REST: OAuth 1.0a HMAC-SHA256 signatures
(checked, replay-proof), limit/offset paging with X-Total-Count and Link headers."""

from __future__ import annotations

import time

import pytest
import requests
from authlib.integrations.requests_client import OAuth1Auth
from django.conf import settings

from carryover.sandbox.oauth1 import HMAC_SHA256, verify_request

pytestmark = pytest.mark.django_db

BASE = "http://testserver/sandbox/classlink/ims/oneroster/v1p1"


@pytest.fixture(autouse=True)
def plain_http_test_server(monkeypatch: pytest.MonkeyPatch) -> None:
    # Authlib's OAuth 1 client signs only https or loopback URLs; the in-process test
    # server is http://testserver.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


def signed(secret: str | None = None, method: str = HMAC_SHA256) -> OAuth1Auth:
    return OAuth1Auth(
        settings.SANDBOX_ONEROSTER_KEY,
        secret if secret is not None else settings.SANDBOX_ONEROSTER_SECRET,
        signature_method=method,
    )


def get(path: str, auth: OAuth1Auth | None = None, **params: str) -> requests.Response:
    return requests.get(f"{BASE}/{path}", params=params, auth=auth or signed(), timeout=5)


def test_pages_every_user_once_by_offset() -> None:
    seen: list[str] = []
    offset, total = 0, None
    while True:
        response = get("users", limit="10", offset=str(offset))
        assert response.status_code == 200
        total = int(response.headers["X-Total-Count"])
        page = response.json()["users"]
        seen.extend(u["sourcedId"] for u in page)
        if 'rel="next"' not in response.headers["Link"]:
            break
        offset += 10
    assert total == 42 + 3 + 1
    assert len(seen) == total == len(set(seen))


def test_objects_have_the_oneroster_shape() -> None:
    user = get("users/RUSD-10001").json()["user"]
    assert user["givenName"] == "Maya" and user["role"] == "student"
    assert user["orgs"] == [
        {
            "href": "/ims/oneroster/v1p1/orgs/org-riverside-elementary",
            "sourcedId": "org-riverside-elementary",
            "type": "org",
        }
    ]
    classes = get("classes").json()["classes"]
    assert {c["title"] for c in classes} == {"Room 12", "Room 14", "Room 3", "Room 5"}
    enrollments = get("enrollments", limit="1000").json()["enrollments"]
    assert len(enrollments) == 42 + 4
    orgs = {o["sourcedId"]: o for o in get("orgs").json()["orgs"]}
    assert orgs["org-riverside-unified"]["type"] == "district"
    assert len(orgs["org-riverside-unified"]["children"]) == 2
    assert get("users/nobody").status_code == 404


@pytest.mark.parametrize(
    "auth",
    [
        None,
        "wrong-secret",
        "HMAC-SHA1",
    ],
)
def test_unsigned_or_badly_signed_requests_are_refused(auth: str | None) -> None:
    if auth is None:
        response = requests.get(f"{BASE}/users", timeout=5)
    elif auth == "HMAC-SHA1":
        response = get("users", auth=signed(method="HMAC-SHA1"))
    else:
        response = get("users", auth=signed(secret=auth))
    assert response.status_code == 401
    assert "users" not in response.json()


def test_signature_covers_the_query() -> None:
    request = requests.Request("GET", f"{BASE}/users", params={"limit": "5"}, auth=signed())
    prepared = request.prepare()
    tampered = prepared.url.replace("limit=5", "limit=50")  # type: ignore[union-attr]
    response = requests.get(
        tampered, headers={"Authorization": prepared.headers["Authorization"]}, timeout=5
    )
    assert response.status_code == 401
    assert "does not match" in response.json()["imsx_description"]


def test_a_signed_request_cannot_be_replayed() -> None:
    prepared = requests.Request("GET", f"{BASE}/orgs", auth=signed()).prepare()
    headers = {"Authorization": prepared.headers["Authorization"]}
    assert requests.get(prepared.url, headers=headers, timeout=5).status_code == 200
    again = requests.get(prepared.url, headers=headers, timeout=5)
    assert again.status_code == 401 and "nonce" in again.json()["imsx_description"]


def test_old_timestamps_are_refused() -> None:
    prepared = requests.Request("GET", f"{BASE}/orgs", auth=signed()).prepare()
    check = verify_request(
        method="GET",
        url=f"{BASE}/orgs",
        query="",
        authorization=prepared.headers["Authorization"],
        consumer_key=settings.SANDBOX_ONEROSTER_KEY,
        consumer_secret=settings.SANDBOX_ONEROSTER_SECRET,
        now=time.time() + 3600,
    )
    assert not check.ok and "timestamp" in check.reason


def test_bad_paging_is_refused() -> None:
    assert get("users", limit="0").status_code == 400
    assert get("users", offset="-1").status_code == 400
