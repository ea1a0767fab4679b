"""The Clever sandbox's Events API: its log, paging, added events applied to the Data API,
who may read and add, every answer checked against Clever's published description."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import pytest
from django.conf import settings
from django.test import Client

from carryover.sandbox import clever_events
from carryover.sandbox.clever import data
from tests.sandbox.clever_objects import HILLTOP, MAYA, ROOM_12, new_student, renamed
from tests.sandbox.clever_objects import with_students as section_with
from tests.sandbox.openapi import validate_clever
from tests.sandbox.openapi_events import validate_event, validate_events
from tests.sandbox.support import DEMO_DISTRICT

pytestmark = pytest.mark.django_db

EVENTS = "/sandbox/clever/v3.0/events"
TOKEN = {"Authorization": f"Bearer {settings.SANDBOX_CLEVER_DISTRICT_TOKEN}"}


def get_events(client: Client, path: str = EVENTS, **params: str) -> tuple[int, Any]:
    response = client.get(path, params, headers=TOKEN)
    body = response.json()
    validate_events(path, params, response.status_code, body)
    return response.status_code, body


def whole_log(client: Client, **params: str) -> list[dict[str, Any]]:
    """Every event after `starting_after` (if given), following rel=next; pages validated."""
    seen: list[dict[str, Any]] = []
    while True:
        status, body = get_events(client, **params)
        assert status == 200
        seen.extend(item["data"] for item in body["data"])
        nxt = [link["uri"] for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            return seen
        parts = urlsplit(nxt[0])
        assert parts.path == EVENTS and not parts.netloc
        params = dict(parse_qsl(parts.query))


def newest(client: Client) -> dict[str, Any]:
    _, body = get_events(client, ending_before="last", limit="1")
    [item] = body["data"]
    return item["data"]  # type: ignore[no-any-return]


def test_the_log_opens_with_a_created_event_for_every_object(client: Client) -> None:
    log = whole_log(client, limit="7")  # 54 events: eight pages

    dataset = data()
    assert [e["type"] for e in log] == (
        ["districts.created"]
        + ["schools.created"] * 2
        + ["terms.created"]
        + ["users.created"] * 46
        + ["sections.created"] * 4
    )
    ids = [e["id"] for e in log]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) == 54
    assert all(len(i) == 24 and int(i, 16) for i in ids)  # shaped like Clever's ObjectIDs
    assert log[0]["data"]["object"]["id"] == DEMO_DISTRICT
    assert {e["data"]["object"]["id"] for e in log if e["type"] == "users.created"} == set(
        dataset.users.positions
    )


def test_ending_before_last_answers_the_newest_event_with_a_prev_link(client: Client) -> None:
    status, body = get_events(client, ending_before="last", limit="1")

    assert status == 200
    [item] = body["data"]
    assert item["data"]["type"] == "sections.created"
    prev = next(link["uri"] for link in body["links"] if link["rel"] == "prev")
    assert dict(parse_qsl(urlsplit(prev).query))["ending_before"] == item["data"]["id"]
    assert not [link for link in body["links"] if link["rel"] == "next"]


def test_added_events_follow_the_cursor_and_change_the_data_api(client: Client) -> None:
    cursor = newest(client)["id"]
    students_before = {u["id"] for u in data().users_by_role["student"].items}
    leaving = data().users.get("clever-rusd-10002")
    assert leaving is not None

    clever_events.add_event("users.created", new_student("clever-rusd-20001", "Ana", "Lima"))
    clever_events.add_event("users.updated", renamed(MAYA, "Mayra"))
    clever_events.add_event("users.deleted", {"id": "clever-rusd-10002"})
    room_12 = [s for s in data().sections.get(ROOM_12)["students"] if s != "clever-rusd-10003"]
    clever_events.add_event("sections.updated", section_with(ROOM_12, room_12))

    after = whole_log(client, starting_after=cursor, limit="2")
    assert [e["type"] for e in after] == [
        "users.created",
        "users.updated",
        "users.deleted",
        "sections.updated",
    ]
    # A deletion carries the object's last state, as Clever's does.
    assert after[2]["data"]["object"] == leaving
    assert newest(client)["id"] == after[-1]["id"]

    students = {u["id"] for u in data().users_by_role["student"].items}
    assert students == (students_before | {"clever-rusd-20001"}) - {"clever-rusd-10002"}
    body = client.get(f"/sandbox/clever/v3.0/users/{MAYA}", headers=TOKEN).json()
    validate_clever(f"/sandbox/clever/v3.0/users/{MAYA}", {}, 200, body)
    assert body["data"]["name"]["first"] == "Mayra"
    assert (
        client.get("/sandbox/clever/v3.0/users/clever-rusd-10002", headers=TOKEN).status_code == 404
    )
    section = client.get(f"/sandbox/clever/v3.0/sections/{ROOM_12}", headers=TOKEN).json()
    assert "clever-rusd-10003" not in section["data"]["students"]


def test_one_event_by_id_and_unknown_ids(client: Client) -> None:
    event = clever_events.add_event("users.updated", renamed(MAYA, "May"))

    status, body = get_events(client, f"{EVENTS}/{event['id']}")
    assert status == 200 and body["data"] == event
    status, body = get_events(client, f"{EVENTS}/{'0' * 24}")
    assert status == 404 and body == {"message": "event not found"}
    status, body = get_events(client, starting_after="not-an-event")
    assert status == 400 and "starting_after" in body["message"]


def test_record_type_and_school_filter_the_log(client: Client) -> None:
    clever_events.add_event(
        "users.created", new_student("clever-rusd-20002", "Ben", "Ode", school=HILLTOP)
    )

    sections = whole_log(client, record_type="sections", limit="3")
    hilltop_users = whole_log(client, record_type="users", school=HILLTOP)

    assert {e["type"] for e in sections} == {"sections.created"} and len(sections) == 4
    assert hilltop_users[-1]["data"]["object"]["id"] == "clever-rusd-20002"
    assert all(e["type"].startswith("users.") for e in hilltop_users)
    assert all(HILLTOP in json.dumps(e["data"]["object"]["roles"]) for e in hilltop_users)


def test_events_need_the_district_token(client: Client) -> None:
    assert client.get(EVENTS).status_code == 401
    assert client.get(EVENTS, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_the_sandbox_admin_endpoint_adds_an_event_with_the_district_token(
    client: Client,
) -> None:
    before = len(clever_events.event_log().items)
    path = "/sandbox/clever/admin/events"
    body = {"type": "users.updated", "object": renamed(MAYA, "Maia")}

    refused = client.post(path, body, content_type="application/json")
    bad = client.post(
        path,
        {"type": "widgets.made", "object": {"id": "x"}},
        content_type="application/json",
        headers=TOKEN,
    )
    assert refused.status_code == 401 and bad.status_code == 400
    assert len(clever_events.event_log().items) == before  # refused: nothing added

    added = client.post(path, body, content_type="application/json", headers=TOKEN)

    assert added.status_code == 201
    validate_event(added.json()["data"])
    assert newest(client)["id"] == added.json()["data"]["id"]
    assert data().users.get(MAYA)["name"]["first"] == "Maia"  # type: ignore[index]
    assert client.get(path, headers=TOKEN).status_code == 405


def test_a_raw_event_is_served_as_given_and_changes_no_data(client: Client) -> None:
    students = len(data().users_by_role["student"].items)

    raw = clever_events.append_raw({"type": "users.created", "data": {}})

    assert clever_events.event_log().get(raw["id"]) == raw
    assert len(data().users_by_role["student"].items) == students


def test_the_events_check_catches_what_the_description_does_not_allow(client: Client) -> None:
    event = clever_events.add_event("users.updated", renamed(MAYA, "May"))
    invented = {**event, "object": event["data"]["object"]}
    unwrapped = {**event, "data": event["data"]["object"]}
    bad_section = {"id": "e1", "type": "sections.updated", "data": {"object": {"grade": "third"}}}

    validate_event(event)
    for wrong in (invented, unwrapped, bad_section):
        with pytest.raises(jsonschema.ValidationError):
            validate_event(wrong)
    with pytest.raises(AssertionError, match="not an event type"):
        validate_event({**event, "type": "widgets.created"})
    with pytest.raises(AssertionError, match="no query parameter"):
        validate_events(EVENTS, {"page": "2"}, 200, {"data": []})
