"""Clever Data API and OneRoster REST readers against a fake served in-process (responses)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from authlib.oauth1.rfc5849.signature import generate_signature_base_string
from authlib.oauth1.rfc5849.wrapper import OAuth1Request

from carryover.accounts.models import Account, User
from carryover.rostering import services
from carryover.rostering.errors import SourceError
from carryover.rostering.models import ConnectionProvider, SyncSource, SyncStatus
from carryover.rostering.snapshot import Kind
from carryover.rostering.sources.clever_api import CleverReader
from carryover.rostering.sources.oneroster_rest import OneRosterReader, hmac_sha256_signature

CLEVER = "https://clever.test"
ROSTER = "https://roster.test"


def clever_page(objects: list[dict[str, Any]], next_uri: str | None = None) -> dict[str, Any]:
    links = [{"rel": "self", "uri": "/v3.0/x"}]
    if next_uri:
        links.append({"rel": "next", "uri": next_uri})
    return {"data": [{"data": o, "uri": f"/v3.0/x/{o['id']}"} for o in objects], "links": links}


def fake_clever(rsps: responses.RequestsMock, *, students: int = 5) -> None:
    rsps.get(f"{CLEVER}/v3.0/districts", json=clever_page([{"id": "d1", "name": "Maple ISD"}]))
    rsps.get(
        f"{CLEVER}/v3.0/schools", json=clever_page([{"id": "sch1", "name": "Maple Elementary"}])
    )
    kids = [f"stu{i}" for i in range(students)]
    rsps.get(
        f"{CLEVER}/v3.0/sections",
        json=clever_page(
            [
                {
                    "id": "sec1",
                    "name": "Room 12",
                    "school": "sch1",
                    "grade": "3",
                    "teacher": "tea1",
                    "teachers": ["tea1"],
                    "students": kids,
                }
            ]
        ),
    )

    def users(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url).query)
        role = query["role"][0]
        after = query.get("starting_after", [""])[0]
        if role == "teacher":
            objs = [
                {
                    "id": "tea1",
                    "name": {"first": "Tess", "last": "T"},
                    "email": "tess@maple.example",
                    "roles": {"teacher": {"school": "sch1", "schools": ["sch1"]}},
                }
            ]
            return 200, {}, json.dumps(clever_page(objs))
        everyone = [
            {
                "id": kid,
                "name": {"first": f"Kid{i}", "last": "R"},
                "roles": {"student": {"school": "sch1", "schools": ["sch1"], "grade": "3"}},
            }
            for i, kid in enumerate(kids)
        ]
        start = kids.index(after) + 1 if after else 0
        page = everyone[start : start + 2]  # two a page, to follow the next links
        next_uri = None
        if start + 2 < len(everyone):
            next_uri = f"/v3.0/users?role=student&limit=2&starting_after={page[-1]['id']}"
        return 200, {}, json.dumps(clever_page(page, next_uri))

    rsps.add_callback(responses.GET, f"{CLEVER}/v3.0/users", callback=users)


def test_clever_reader_follows_next_links_into_one_snapshot() -> None:
    with responses.RequestsMock() as rsps:
        fake_clever(rsps, students=5)
        reader = CleverReader(base_url=CLEVER, token="tok", progress=None, page_size=2)
        snapshot = reader.read(district_id="d1")
        student_calls = [c for c in rsps.calls if "role=student" in c.request.url]
        assert rsps.calls[0].request.headers["Authorization"] == "Bearer tok"

    assert snapshot.district_id == "d1"
    assert [p.sourced_id for p in snapshot.people] == [
        "tea1",
        "stu0",
        "stu1",
        "stu2",
        "stu3",
        "stu4",
    ]
    assert len(student_calls) == 3
    assert snapshot.people[1].grade == "3" and snapshot.people[1].school_ids == ("sch1",)
    assert {(e.person_id, e.role) for e in snapshot.enrollments} == {
        ("tea1", "teacher"),
        *((f"stu{i}", "student") for i in range(5)),
    }
    assert snapshot.mode(Kind.PEOPLE) == "bulk"


def test_clever_token_for_another_district_is_refused() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_clever(rsps)
        with pytest.raises(
            SourceError, match="belongs to district d1, but the account is connected to d9"
        ):
            CleverReader(base_url=CLEVER, token="t", progress=None).read(district_id="d9")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"status": 401, "json": {"message": "bad token"}}, "GET /v3.0/districts?limit=1000: 401"),
        ({"status": 502}, "GET /v3.0/districts?limit=1000: HTTP 502"),
        ({"body": '{"data": [{"data": {"id": "d1"'}, "not complete JSON (truncated page?)"),
        ({"body": requests.Timeout("slow")}, "GET /v3.0/districts?limit=1000: no answer within"),
        ({"body": requests.ConnectionError("refused")}, "could not connect"),
    ],
)
def test_clever_http_failures_name_the_request(answer: dict[str, Any], message: str) -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(f"{CLEVER}/v3.0/districts", **answer)
        with pytest.raises(
            SourceError, match=message.replace("?", r"\?").replace("(", r"\(").replace(")", r"\)")
        ):
            CleverReader(base_url=CLEVER, token="t", progress=None).read()


def test_a_failing_clever_sync_applies_nothing(account: Account) -> None:
    services.connect_provider(
        account=account,
        provider=ConnectionProvider.CLEVER,
        secret="tok",
        base_url=CLEVER,
        district_id="d1",
    )
    sync = services.start_sync(account=account, source=SyncSource.CLEVER)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_clever(rsps)
        rsps.replace(responses.GET, f"{CLEVER}/v3.0/sections", status=401)

        result = services.run_sync(sync_id=sync.pk)

    assert result.status == SyncStatus.FAILED
    assert result.errors[0].startswith("GET /v3.0/sections?limit=1000: 401")
    assert not User.objects.filter(account=account).exists()
    account.refresh_from_db()
    assert account.sso_live_since is None


def test_a_clever_sync_applies_and_goes_live(account: Account) -> None:
    services.connect_provider(
        account=account,
        provider=ConnectionProvider.CLEVER,
        secret="tok",
        base_url=CLEVER,
        district_id="d1",
    )
    sync = services.start_sync(account=account, source=SyncSource.CLEVER)
    with responses.RequestsMock() as rsps:
        fake_clever(rsps, students=3)
        result = services.run_sync(sync_id=sync.pk)

    assert result.status == SyncStatus.APPLIED, result.errors
    assert result.counts["created"] == {"schools": 1, "people": 4, "sections": 1, "enrollments": 4}
    account.refresh_from_db()
    assert account.roster_source == "clever"


# --- OneRoster REST -----------------------------------------------------------------


def signed_ok(request: requests.PreparedRequest, key: str = "k", secret: str = "s") -> bool:  # noqa: S107
    """Check the request's OAuth 1.0a HMAC-SHA256 signature the way a server would."""
    oauth_request = OAuth1Request(request.method, request.url, None, dict(request.headers))
    if oauth_request.signature_method != "HMAC-SHA256" or oauth_request.client_id != key:
        return False
    expected = hmac_sha256_signature(generate_signature_base_string(oauth_request), secret)
    return expected == oauth_request.signature


def fake_oneroster(
    rsps: responses.RequestsMock, *, users: int = 5, lie_total: bool = False
) -> None:
    data = {
        "orgs": [{"sourcedId": "org1", "status": "active", "name": "Maple", "type": "school"}],
        "users": [
            {
                "sourcedId": "t1",
                "status": "active",
                "enabledUser": "true",
                "role": "teacher",
                "givenName": "Tess",
                "familyName": "T",
                "email": "t@maple.example",
                "orgs": [{"sourcedId": "org1", "type": "org"}],
                "grades": [],
            },
            {
                "sourcedId": "p1",
                "status": "active",
                "enabledUser": "true",
                "role": "parent",
                "givenName": "Pat",
                "familyName": "P",
                "orgs": [],
            },
        ]
        + [
            {
                "sourcedId": f"s{i}",
                "status": "active",
                "enabledUser": "true",
                "role": "student",
                "givenName": f"Kid{i}",
                "familyName": "R",
                "grades": ["03"],
                "orgs": [{"sourcedId": "org1", "type": "org"}],
            }
            for i in range(users)
        ],
        "classes": [
            {
                "sourcedId": "c1",
                "status": "active",
                "title": "Room 12",
                "grades": ["03"],
                "school": {"sourcedId": "org1", "type": "org"},
            }
        ],
        "enrollments": [
            {
                "sourcedId": f"e{i}",
                "status": "active",
                "role": "student",
                "user": {"sourcedId": f"s{i}", "type": "user"},
                "class": {"sourcedId": "c1", "type": "class"},
            }
            for i in range(users)
        ],
    }
    for name, items in data.items():

        def answer(request: requests.PreparedRequest, name: str = name, items: list = items):  # type: ignore[no-untyped-def]
            if not signed_ok(request):
                return 401, {}, json.dumps({"imsx_codeMajor": "failure"})
            query = parse_qs(urlsplit(request.url).query)
            limit, offset = int(query["limit"][0]), int(query["offset"][0])
            page = items[offset : offset + limit]
            if lie_total and name == "users" and offset > 0:
                page = []
            return 200, {"X-Total-Count": str(len(items))}, json.dumps({name: page})

        rsps.add_callback(responses.GET, f"{ROSTER}/ims/oneroster/v1p1/{name}", callback=answer)


def test_oneroster_reader_pages_with_limit_and_offset_and_signs_every_request() -> None:
    with responses.RequestsMock() as rsps:
        fake_oneroster(rsps, users=5)
        reader = OneRosterReader(base_url=ROSTER, key="k", secret="s", progress=None, page_size=3)
        snapshot = reader.read()
        user_calls = [c.request.url for c in rsps.calls if "/users" in c.request.url]

    assert [urlsplit(u).query for u in user_calls] == [
        "limit=3&offset=0",
        "limit=3&offset=3",
        "limit=3&offset=6",
    ]
    assert [p.sourced_id for p in snapshot.people] == ["t1", "s0", "s1", "s2", "s3", "s4"]
    assert snapshot.people[1].grade == "03"
    assert (
        snapshot.rejected[0].reason
        == "role 'parent' is not rostered here (students and teachers only)"
    )
    assert len(snapshot.enrollments) == 5


def test_oneroster_wrong_secret_is_a_clear_401() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_oneroster(rsps)
        reader = OneRosterReader(base_url=ROSTER, key="k", secret="wrong", progress=None)
        with pytest.raises(
            SourceError, match=r"GET /ims/oneroster/v1p1/orgs\?limit=1000&offset=0: 401"
        ):
            reader.read()


def test_oneroster_truncated_paging_is_refused() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_oneroster(rsps, users=5, lie_total=True)
        reader = OneRosterReader(base_url=ROSTER, key="k", secret="s", progress=None, page_size=3)
        with pytest.raises(SourceError, match="got 3 users of the 7 X-Total-Count promised"):
            reader.read()


def test_a_classlink_sync_applies(account: Account) -> None:
    services.connect_provider(
        account=account,
        provider=ConnectionProvider.CLASSLINK,
        base_url=f"{ROSTER}/ims/oneroster/v1p1",
        client_key="k",
        secret="s",
    )
    sync = services.start_sync(account=account, source=SyncSource.CLASSLINK)
    with responses.RequestsMock() as rsps:
        fake_oneroster(rsps, users=4)
        result = services.run_sync(sync_id=sync.pk)

    assert result.status == SyncStatus.APPLIED, result.errors
    assert result.counts["created"]["people"] == 5
    assert result.rejected_count == 1
