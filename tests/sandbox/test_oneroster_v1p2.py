"""The ClassLink sandbox's OneRoster 1.2 REST: the client credentials token endpoint
(HTTP Basic only), bearer tokens checked on every request (forged, expired, missing,
wrong scope), limit/offset paging, and the 1.2 shape of objects from the 1.1 CSV data."""

from __future__ import annotations

import base64
import time

import pytest
import requests
from django.conf import settings
from pytest_django.fixtures import Settings as SettingsWrapper

from carryover.sandbox import store
from carryover.sandbox.oneroster_v1p2 import PROVIDER

pytestmark = pytest.mark.django_db

ROOT = "http://testserver/sandbox/classlink"
BASE = f"{ROOT}/ims/oneroster/rostering/v1p2"
CORE = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"
DEMOGRAPHICS = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly"


def basic(client_id: str | None = None, secret: str | None = None) -> str:
    client_id = client_id or settings.SANDBOX_ONEROSTER_KEY
    pair = f"{client_id}:{secret or settings.SANDBOX_ONEROSTER_SECRET}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def token_request(authorization: str | None = None, **form: str) -> requests.Response:
    body = {"grant_type": "client_credentials", "scope": CORE, **form}
    headers = {"Authorization": authorization} if authorization is not None else {}
    return requests.post(f"{ROOT}/token", data=body, headers=headers, timeout=5)


def access_token(scope: str = CORE) -> str:
    response = token_request(basic(), scope=scope)
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


def get(path: str, token: str | None = None, **params: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token if token is not None else access_token()}"}
    return requests.get(f"{BASE}/{path}", params=params, headers=headers, timeout=5)


def test_the_token_endpoint_grants_a_bearer_token_for_the_asked_scope() -> None:
    response = token_request(basic())

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.SANDBOX_ONEROSTER_TOKEN_SECONDS
    assert body["scope"] == CORE
    assert len(body["access_token"]) >= 32
    assert "no-store" in response.headers["Cache-Control"]
    issued = store.lookup_token(PROVIDER, body["access_token"])
    assert issued is not None and issued.client_id == settings.SANDBOX_ONEROSTER_KEY


@pytest.mark.parametrize(
    ("authorization", "form", "status", "error"),
    [
        (None, {}, 401, "invalid_client"),
        ("wrong-secret", {}, 401, "invalid_client"),
        # client_secret_post: the credentials in the body are not HTTP Basic.
        (
            None,
            {"client_id": "sandbox-oneroster-key", "client_secret": "sandbox-oneroster-secret"},
            401,
            "invalid_client",
        ),
        ("ok", {"grant_type": "authorization_code"}, 400, "unsupported_grant_type"),
        ("ok", {"scope": "https://example.org/scope/everything"}, 400, "invalid_scope"),
    ],
)
def test_the_token_endpoint_refuses(
    authorization: str | None, form: dict[str, str], status: int, error: str
) -> None:
    header = {None: None, "ok": basic(), "wrong-secret": basic(secret="nope")}[authorization]

    response = token_request(header, **form)

    assert response.status_code == status
    assert response.json()["error"] == error
    assert "access_token" not in response.json()


def test_users_have_the_1p2_shape() -> None:
    token = access_token()
    student = get("users/RUSD-10001", token).json()["user"]
    admin = get("users/RUSD-A001", token).json()["user"]

    assert "role" not in student and "orgs" not in student
    assert student["givenName"] == "Maya" and student["familyName"] == "Ramirez"
    assert student["grades"] == ["03"]
    assert student["roles"] == [
        {
            "roleType": "primary",
            "role": "student",
            "org": {
                "href": "/ims/oneroster/rostering/v1p2/orgs/org-riverside-elementary",
                "sourcedId": "org-riverside-elementary",
                "type": "org",
            },
        }
    ]
    assert student["primaryOrg"]["sourcedId"] == "org-riverside-elementary"
    assert [(r["roleType"], r["role"], r["org"]["sourcedId"]) for r in admin["roles"]] == [
        ("primary", "siteAdministrator", "org-riverside-elementary"),
        ("secondary", "siteAdministrator", "org-hilltop-elementary"),
    ]


def test_classes_and_enrollments_have_the_1p2_shape() -> None:
    token = access_token()
    room = get("classes/cls-room-12", token).json()["class"]
    enrollments = get("enrollments", token, limit="1000").json()["enrollments"]

    assert room["school"]["sourcedId"] == "org-riverside-elementary"
    assert room["school"]["href"].startswith("/ims/oneroster/rostering/v1p2/")
    assert [t["sourcedId"] for t in room["terms"]] == ["as-2025-26"]
    assert len(enrollments) == 42 + 4
    first = next(e for e in enrollments if e["sourcedId"] == "enr-room-12-rusd-10001")
    assert first["role"] == "student"
    assert first["user"]["sourcedId"] == "RUSD-10001"
    assert first["class"]["sourcedId"] == "cls-room-12"
    assert first["school"]["sourcedId"] == "org-riverside-elementary"
    assert (first["beginDate"], first["endDate"]) == ("2025-08-15", "2026-06-10")
    assert {e["status"] for e in enrollments} <= {"active", "tobedeleted"}


def test_pages_every_user_once_with_the_total_count() -> None:
    token = access_token()
    seen: list[str] = []
    offset = 0
    while True:
        response = get("users", token, limit="10", offset=str(offset))
        assert response.status_code == 200
        seen.extend(u["sourcedId"] for u in response.json()["users"])
        if 'rel="next"' not in response.headers["Link"]:
            break
        offset += 10
    assert int(response.headers["X-Total-Count"]) == 42 + 3 + 1
    assert len(seen) == 46 == len(set(seen))


def test_a_forged_token_is_refused() -> None:
    access_token()  # a real one exists: the forged one is still unknown

    response = get("users", "forged-" + "x" * 40)

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.json()["imsx_description"] == "unknown access token"
    assert "users" not in response.json()


def test_an_expired_token_is_refused(settings: SettingsWrapper) -> None:
    token = access_token()
    # The server's own clock moves past the token's lifetime.
    settings.SANDBOX_ONEROSTER_TOKEN_SECONDS = 0
    expired = access_token()

    assert get("orgs", token).status_code == 200
    response = get("orgs", expired)
    assert response.status_code == 401
    assert response.json()["imsx_description"] == "the access token expired"


def test_a_missing_token_and_a_1p1_signature_are_refused() -> None:
    missing = requests.get(f"{BASE}/orgs", timeout=5)
    signed_like_1p1 = requests.get(
        f"{BASE}/orgs", headers={"Authorization": 'OAuth oauth_consumer_key="k"'}, timeout=5
    )

    assert missing.status_code == signed_like_1p1.status_code == 401
    assert missing.json()["imsx_description"] == "no bearer token"


def test_a_token_without_a_rostering_scope_is_forbidden() -> None:
    response = get("users", access_token(scope=DEMOGRAPHICS))

    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_a_1p2_token_does_not_open_1p1_and_issued_tokens_expire(settings: SettingsWrapper) -> None:
    token = access_token()
    one_one = requests.get(
        f"{ROOT}/ims/oneroster/v1p1/orgs", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    issued = store.lookup_token(PROVIDER, token)

    assert one_one.status_code == 401
    assert issued is not None
    lifetime = settings.SANDBOX_ONEROSTER_TOKEN_SECONDS
    assert abs(issued.expires_at - (time.time() + lifetime)) < 5


def test_unknown_objects_and_bad_paging() -> None:
    token = access_token()
    assert get("users/nobody", token).status_code == 404
    assert get("users", token, limit="0").status_code == 400
    assert get("users", token, offset="-1").status_code == 400
