"""The Clever sandbox's Data API: every answer checked against Clever's published
OpenAPI description, paging by `links`, and who may read what."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from django.test import Client

from carryover.sandbox.clever import data
from tests.sandbox.openapi import validate_clever
from tests.sandbox.support import DEMO_DISTRICT

pytestmark = pytest.mark.django_db


def district_get(client: Client, path: str, **params: str) -> tuple[int, Any]:
    response = client.get(
        path, params, headers={"Authorization": f"Bearer {settings.SANDBOX_CLEVER_DISTRICT_TOKEN}"}
    )
    body = response.json()
    validate_clever(path, params, response.status_code, body)
    return response.status_code, body


def follow_next(client: Client, path: str, **params: str) -> list[dict[str, Any]]:
    """Every object of a list endpoint, following rel=next links; each page validated."""
    seen: list[dict[str, Any]] = []
    while True:
        status, body = district_get(client, path, **params)
        assert status == 200
        seen.extend(item["data"] for item in body["data"])
        nxt = [link["uri"] for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            return seen
        parts = urlsplit(nxt[0])
        # Links are host-relative paths under the sandbox prefix, as Clever's are under
        # https://api.clever.com.
        assert parts.path == path and not parts.netloc
        params = dict(parse_qsl(parts.query))


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/sandbox/clever/v3.0/schools", "schools"),
        ("/sandbox/clever/v3.0/sections", "sections"),
        ("/sandbox/clever/v3.0/users", "users"),
    ],
)
def test_paging_by_next_links_returns_every_object_once(
    client: Client, path: str, kind: str
) -> None:
    objects = follow_next(client, path, limit="3")
    expected = sorted(str(o["id"]) for o in getattr(data(), kind).items)
    assert [o["id"] for o in objects] == expected
    assert len(expected) >= 2


def test_users_by_role_pages_students_and_teachers(client: Client) -> None:
    students = follow_next(client, "/sandbox/clever/v3.0/users", role="student", limit="7")
    teachers = follow_next(client, "/sandbox/clever/v3.0/users", role="teacher", limit="2")
    assert len(students) == 42 and all("student" in u["roles"] for u in students)
    assert sorted(u["name"]["last"] for u in teachers) == ["Bell", "Ortiz", "Patel"]
    assert all("teacher" in u["roles"] for u in teachers)


def test_prev_link_walks_back(client: Client) -> None:
    path = "/sandbox/clever/v3.0/users"
    _, first = district_get(client, path, role="student", limit="5")
    after = first["data"][-1]["data"]["id"]
    _, second = district_get(client, path, role="student", limit="5", starting_after=after)
    prev = next(link["uri"] for link in second["links"] if link["rel"] == "prev")
    params = dict(parse_qsl(urlsplit(prev).query))
    _, back = district_get(client, path, **params)
    assert [d["data"]["id"] for d in back["data"]] == [d["data"]["id"] for d in first["data"]]
    assert not [link for link in first["links"] if link["rel"] == "prev"]


def test_district_and_single_objects(client: Client) -> None:
    _, districts = district_get(client, "/sandbox/clever/v3.0/districts")
    assert [d["data"]["id"] for d in districts["data"]] == [DEMO_DISTRICT]
    _, district = district_get(client, f"/sandbox/clever/v3.0/districts/{DEMO_DISTRICT}")
    assert district["data"]["name"] == "Riverside Unified"
    _, user = district_get(client, "/sandbox/clever/v3.0/users/clever-rusd-10001")
    assert user["data"]["name"]["first"] == "Maya"
    assert user["data"]["roles"]["student"]["sis_id"] == "RUSD-10001"
    _, section = district_get(client, "/sandbox/clever/v3.0/sections/clever-section-room-12")
    assert "clever-rusd-10001" in section["data"]["students"]
    _, school = district_get(
        client, "/sandbox/clever/v3.0/schools/clever-school-hilltop-elementary"
    )
    assert school["data"]["name"] == "Hilltop Elementary"


def test_unknown_objects_are_404_in_the_published_shape(client: Client) -> None:
    status, body = district_get(client, "/sandbox/clever/v3.0/users/nobody")
    assert status == 404 and body == {"message": "user not found"}
    status, _ = district_get(client, "/sandbox/clever/v3.0/sections/nothing")
    assert status == 404


@pytest.mark.parametrize(
    "params",
    [{"limit": "0"}, {"limit": "many"}, {"limit": "10001"}, {"starting_after": "no-such-id"}],
)
def test_bad_paging_is_a_400_bad_request(client: Client, params: dict[str, str]) -> None:
    status, body = district_get(client, "/sandbox/clever/v3.0/users", **params)
    assert status == 400 and body["message"]


def test_unknown_role_is_refused(client: Client) -> None:
    response = client.get(
        "/sandbox/clever/v3.0/users",
        {"role": "parent"},
        headers={"Authorization": f"Bearer {settings.SANDBOX_CLEVER_DISTRICT_TOKEN}"},
    )
    assert response.status_code == 400


def test_data_api_needs_the_district_token(client: Client) -> None:
    assert client.get("/sandbox/clever/v3.0/users").status_code == 401
    wrong = client.get("/sandbox/clever/v3.0/users", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_district_token_me_names_the_district(client: Client) -> None:
    response = client.get(
        "/sandbox/clever/v3.0/me",
        headers={"Authorization": f"Bearer {settings.SANDBOX_CLEVER_DISTRICT_TOKEN}"},
    )
    assert response.json()["data"] == {"id": DEMO_DISTRICT, "type": "district"}


def test_district_tokens_listed_with_basic_auth(client: Client) -> None:
    import base64

    good = base64.b64encode(
        f"{settings.SANDBOX_CLEVER_CLIENT_ID}:{settings.SANDBOX_CLEVER_CLIENT_SECRET}".encode()
    ).decode()
    response = client.get(
        "/sandbox/clever/oauth/tokens",
        {"owner_type": "district"},
        headers={"Authorization": f"Basic {good}"},
    )
    assert response.status_code == 200
    [token] = response.json()["data"]
    assert token["owner"] == {"type": "district", "id": DEMO_DISTRICT}
    assert token["access_token"] == settings.SANDBOX_CLEVER_DISTRICT_TOKEN
    bad = base64.b64encode(f"{settings.SANDBOX_CLEVER_CLIENT_ID}:wrong".encode()).decode()
    refused = client.get("/sandbox/clever/oauth/tokens", headers={"Authorization": f"Basic {bad}"})
    assert refused.status_code == 401 and "access_token" not in refused.content.decode()


def test_the_description_check_catches_what_it_does_not_allow(client: Client) -> None:
    """The checker itself: an invented field, a wrong enum value, a missing `data`
    wrapper each fail, so the sandbox tests above can fail too."""
    import jsonschema

    _, good = district_get(client, "/sandbox/clever/v3.0/users/clever-rusd-10001")
    invented = {"data": {**good["data"], "nickname": "May"}}
    wrong_grade = {"data": {**good["data"], "roles": {"student": {"grade": "third"}}}}
    for body in (invented, wrong_grade, good["data"]):
        with pytest.raises(jsonschema.ValidationError):
            validate_clever("/sandbox/clever/v3.0/users/x", {}, 200, body)
    with pytest.raises(AssertionError):
        validate_clever("/sandbox/clever/v3.0/users", {"page": "2"}, 200, {"data": []})
