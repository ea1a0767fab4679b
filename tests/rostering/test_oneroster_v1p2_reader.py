"""The OneRoster 1.2 reader against a fake server (responses): how it asks for a token
(client_secret_basic, the roster-core scope), keeps it until it expires, maps 1.2 users
(`roles`), and names the request of every failure."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from carryover.rostering.errors import SourceError
from carryover.rostering.snapshot import Kind
from carryover.rostering.sources.oneroster_rest import (
    SCOPE_V1P2,
    ClientCredentials,
    OneRosterV1p2Reader,
)

ROSTER = "https://roster.test"
TOKEN = "https://auth.test/oauth2/token"
PREFIX = "/ims/oneroster/rostering/v1p2"


def ref(sourced_id: str, kind: str = "org") -> dict[str, str]:
    return {"href": f"{PREFIX}/{kind}s/{sourced_id}", "sourcedId": sourced_id, "type": kind}


def role(name: str, org: str, role_type: str = "primary") -> dict[str, Any]:
    return {"roleType": role_type, "role": name, "org": ref(org)}


def user(sourced_id: str, roles: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "sourcedId": sourced_id,
        "status": "active",
        "enabledUser": "true",
        "givenName": f"Given {sourced_id}",
        "familyName": "F",
        "preferredFirstName": f"Pref {sourced_id}",
        "userIds": [{"type": "SIS", "identifier": sourced_id}],
        "roles": roles,
        "grades": ["04"],
        **extra,
    }


def roster_data(students: int = 3) -> dict[str, list[dict[str, Any]]]:
    return {
        "orgs": [
            {"sourcedId": "d1", "status": "active", "name": "Maple ISD", "type": "district"},
            {"sourcedId": "org1", "status": "active", "name": "Maple", "type": "school"},
            {"sourcedId": "org2", "status": "active", "name": "Oak", "type": "school"},
        ],
        "users": [
            # Primary role first or not, the primary one counts.
            user(
                "t1",
                [role("aide", "org2", "secondary"), role("teacher", "org1")],
                email="t1@maple.example",
                primaryOrg=ref("org1"),
            ),
            user("g1", [role("guardian", "org1")]),
            user("x1", []),
            user("off", [role("student", "org1")], enabledUser=False),
            user("gone", [role("student", "org1")], status="tobedeleted"),
            *(user(f"s{i}", [role("student", "org1")]) for i in range(students)),
        ],
        "classes": [
            {
                "sourcedId": "c1",
                "status": "active",
                "title": "Room 12",
                "grades": ["04"],
                "school": ref("org1"),
                "terms": [ref("term1", "academicSession")],
            }
        ],
        "enrollments": [
            *(
                {
                    "sourcedId": f"e{i}",
                    "status": "active",
                    "role": "student",
                    "user": ref(f"s{i}", "user"),
                    "class": ref("c1", "class"),
                    "school": ref("org1"),
                    "beginDate": "2025-08-15",
                    "endDate": "2026-06-10",
                }
                for i in range(students)
            ),
            {
                "sourcedId": "e-old",
                "status": "tobedeleted",
                "role": "student",
                "user": ref("s0", "user"),
                "class": ref("c1", "class"),
            },
        ],
    }


def fake_server(
    rsps: responses.RequestsMock,
    *,
    data: dict[str, list[dict[str, Any]]] | None = None,
    token_body: dict[str, Any] | None = None,
    lie_total: bool = False,
) -> list[str]:
    """A token endpoint and the four collections; returns the tokens it issued."""
    issued: list[str] = []
    items_by_name = data or roster_data()

    def token(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        if token_body is not None:
            return 200, {}, json.dumps(token_body)
        issued.append(f"token-{len(issued) + 1}")
        body = {"access_token": issued[-1], "token_type": "bearer", "expires_in": 3600}
        return 200, {}, json.dumps(body)

    rsps.add_callback(responses.POST, TOKEN, callback=token)
    for name, items in items_by_name.items():

        def answer(request: requests.PreparedRequest, name: str = name, items: list = items):  # type: ignore[no-untyped-def]
            if request.headers.get("Authorization") not in [f"Bearer {t}" for t in issued]:
                return 401, {}, json.dumps({"imsx_codeMajor": "failure"})
            query = parse_qs(urlsplit(request.url).query)
            limit, offset = int(query["limit"][0]), int(query["offset"][0])
            page = items[offset : offset + limit]
            if lie_total and name == "users" and offset > 0:
                page = []
            return 200, {"X-Total-Count": str(len(items))}, json.dumps({name: page})

        rsps.add_callback(responses.GET, f"{ROSTER}{PREFIX}/{name}", callback=answer)
    return issued


def reader(page_size: int = 1000, secret: str = "s3cret") -> OneRosterV1p2Reader:  # noqa: S107
    return OneRosterV1p2Reader(
        base_url=ROSTER,
        client_id="client-1",
        client_secret=secret,
        token_url=TOKEN,
        progress=None,
        page_size=page_size,
    )


def test_the_token_is_asked_with_http_basic_and_the_roster_core_scope() -> None:
    with responses.RequestsMock() as rsps:
        fake_server(rsps)
        reader().read()
        token_calls = [c for c in rsps.calls if c.request.url == TOKEN]

    assert len(token_calls) == 1
    request = token_calls[0].request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(
        b"client-1:s3cret"
    ).decode("ascii")
    form = parse_qs(str(request.body))
    assert form == {"grant_type": ["client_credentials"], "scope": [SCOPE_V1P2]}
    assert SCOPE_V1P2 == "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"


def test_1p2_users_take_their_primary_role_and_its_schools() -> None:
    with responses.RequestsMock() as rsps:
        fake_server(rsps)
        snapshot = reader(page_size=2).read()

    people = {p.sourced_id: p for p in snapshot.people}
    assert sorted(people) == ["s0", "s1", "s2", "t1"]
    teacher = people["t1"]
    assert (teacher.role, teacher.school_ids, teacher.email) == (
        "teacher",
        ("org1",),
        "t1@maple.example",
    )
    assert people["s0"].given_name == "Given s0"  # the legal name, as the 1.2 CSV reader
    assert people["s0"].grade == "04"
    assert {r.reason for r in snapshot.rejected} == {
        "role 'guardian' is not rostered here (students and teachers only)",
        "the user has no role",
    }
    assert snapshot.deleted_ids(Kind.PEOPLE) == {"off", "gone"}
    assert snapshot.deleted_ids(Kind.ENROLLMENTS) == {"e-old"}
    assert [(s.sourced_id, s.school_id, s.grade) for s in snapshot.sections] == [
        ("c1", "org1", "04")
    ]
    assert [(e.section_id, e.person_id, e.role) for e in snapshot.enrollments] == [
        ("c1", "s0", "student"),
        ("c1", "s1", "student"),
        ("c1", "s2", "student"),
    ]


def test_paging_uses_limit_and_offset_with_one_token() -> None:
    with responses.RequestsMock() as rsps:
        issued = fake_server(rsps, data=roster_data(students=5))
        reader(page_size=4).read()
        users = [c.request.url for c in rsps.calls if f"{PREFIX}/users" in c.request.url]

    assert [urlsplit(u).query for u in users] == [
        "limit=4&offset=0",
        "limit=4&offset=4",
        "limit=4&offset=8",
    ]
    assert issued == ["token-1"]


def test_a_truncated_page_is_refused_naming_the_request() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_server(rsps, data=roster_data(students=5), lie_total=True)
        with pytest.raises(SourceError, match="got 4 users of the 10 X-Total-Count promised"):
            reader(page_size=4).read()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            {"status": 500},
            rf"GET {PREFIX}/classes\?limit=1000&offset=0: HTTP 500 Internal Server Error",
        ),
        (
            {"body": requests.Timeout("read timed out")},
            rf"GET {PREFIX}/classes\?limit=1000&offset=0: no answer within",
        ),
        (
            {"body": '{"classes": [{"sourcedId": "c1"'},
            r"classes\?limit=1000&offset=0: the answer is not complete JSON",
        ),
    ],
)
def test_http_failures_name_the_request(answer: dict[str, Any], message: str) -> None:
    data = roster_data()
    del data["classes"]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_server(rsps, data=data)
        rsps.add(responses.GET, f"{ROSTER}{PREFIX}/classes", **answer)
        with pytest.raises(SourceError, match=message):
            reader().read()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            {"body": requests.Timeout("connect timed out")},
            "POST /oauth2/token: no answer within 30 s",
        ),
        (
            {"status": 502, "body": "<html>Bad gateway</html>"},
            "POST /oauth2/token: the answer is not a token",
        ),
        (
            {"status": 200, "json": {"token_type": "bearer"}},
            "POST /oauth2/token: the answer has no bearer access_token",
        ),
        (
            {"status": 200, "json": {"access_token": "t", "token_type": "mac"}},
            "POST /oauth2/token: the answer has no bearer access_token",
        ),
        (
            {"status": 400, "json": {"error": "invalid_scope"}},
            "POST /oauth2/token: invalid_scope — the provider refused the token request",
        ),
        (
            {"status": 401, "json": {"error": "invalid_client"}},
            "POST /oauth2/token: invalid_client — the provider refused the client id or secret",
        ),
    ],
)
def test_token_endpoint_failures_name_the_request(
    answer: dict[str, Any], message: str, settings: Any
) -> None:
    settings.ROSTER_HTTP_TIMEOUT = 30
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, TOKEN, **answer)
        with pytest.raises(SourceError) as caught:
            reader(secret="super-secret-value").read()
        assert not [c for c in rsps.calls if c.request.method == "GET"]

    assert str(caught.value).startswith(message)
    assert "super-secret-value" not in str(caught.value)


def test_the_token_is_kept_until_it_is_about_to_expire() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        issued = fake_server(rsps)
        credentials = ClientCredentials(token_url=TOKEN, client_id="c", client_secret="s")
        credentials.ensure()
        credentials.ensure()
        assert issued == ["token-1"]
        # Within a minute of its expiry it is renewed before the next request.
        credentials.session.token["expires_at"] = int(time.time()) + 30
        credentials.ensure()

    assert issued == ["token-1", "token-2"]
    assert credentials.fetched == 2
    assert credentials.session.token["access_token"] == "token-2"


def test_a_short_lived_token_is_fetched_once_per_request_never_twice() -> None:
    with responses.RequestsMock() as rsps:
        issued = fake_server(rsps)
        rsps.replace(
            responses.POST,
            TOKEN,
            json={"access_token": "short", "token_type": "bearer", "expires_in": 30},
        )
        issued.append("short")
        snapshot = reader().read()
        token_posts = [c for c in rsps.calls if c.request.url == TOKEN]
        pages = [c for c in rsps.calls if c.request.method == "GET"]

    assert len(snapshot.people) == 4
    assert len(pages) == 4  # orgs, users, classes, enrollments: one page each
    assert len(token_posts) == len(pages)  # renewed before each request, not again inside it
