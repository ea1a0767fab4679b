"""Clever events -> one delta snapshot (pure), and the events reader against a fake Clever
(responses): paging, the cursor check, the bulk fallbacks, and named HTTP failures."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from carryover.rostering.errors import SourceError
from carryover.rostering.models import RosterConnection
from carryover.rostering.snapshot import Kind, Mode
from carryover.rostering.sources.clever_events import events_snapshot, read_clever_roster
from tests.rostering.test_http_sources import CLEVER, clever_page, fake_clever

ORIGIN = "GET /v3.0/events page 1"


def student(uid: str, first: str = "Kid", **roles: Any) -> dict[str, Any]:
    return {
        "id": uid,
        "district": "d1",
        "name": {"first": first, "last": "R"},
        "roles": roles or {"student": {"school": "sch1", "schools": ["sch1"], "grade": "3"}},
    }


def event(eid: str, kind: str, obj: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": eid, "type": kind, "created": "2025-09-01T00:00:00.000Z", "data": {"object": obj}}


def snap(*events: dict[str, Any]):  # type: ignore[no-untyped-def]
    return events_snapshot([(ORIGIN, e) for e in events], after="e0", district_id="d1")


def test_each_object_counts_once_with_its_last_event() -> None:
    snapshot, report = snap(
        event("e1", "users.created", student("s1", "Ana")),
        event("e2", "users.updated", student("s1", "Anna")),
        event("e3", "users.created", student("s2")),
        event("e4", "users.deleted", student("s2")),
        event("e5", "users.deleted", student("s3")),
        event("e6", "users.created", student("s3", "Back")),
    )

    assert [(p.sourced_id, p.given_name) for p in snapshot.people] == [
        ("s1", "Anna"),
        ("s3", "Back"),
    ]
    assert snapshot.deleted_ids(Kind.PEOPLE) == {"s2"}
    assert {snapshot.mode(kind) for kind in Kind} == {Mode.DELTA}
    assert (report.read, report.through, snapshot.cursor) == (6, "e6", "e6")
    assert snapshot.people[1].origin == f"{ORIGIN} event e6 (users.created) user s3"


def test_types_not_used_are_ignored_and_counted_by_type() -> None:
    snapshot, report = snap(
        event("e1", "courses.created", {"id": "c1"}),
        event("e2", "terms.updated", {"id": "t1"}),
        event("e3", "districts.updated", {"id": "d1"}),
        event("e4", "schools.deleted", {"id": "sch1"}),
        event("e5", "widgets.polished"),
        event("e6", "terms.updated", {"id": "t1"}),
    )

    assert snapshot.size() == 0 and not snapshot.deleted_ids(Kind.PEOPLE)
    assert report.as_dict() == {
        "mode": "events",
        "through": "e6",
        "after": "e0",
        "read": 6,
        "ignored": 6,
        "ignored_types": {
            "courses.created": 1,
            "districts.updated": 1,
            "schools.deleted": 1,
            "terms.updated": 2,
            "widgets.polished": 1,
        },
    }


def test_a_section_event_lists_its_enrollments_completely() -> None:
    section = {
        "id": "sec1",
        "district": "d1",
        "school": "sch1",
        "name": "Room 12",
        "grade": "3",
        "teacher": "t1",
        "teachers": ["t2"],
        "students": ["s1", "s2", "t2", "s1"],
    }
    snapshot, _ = snap(
        event("e1", "sections.created", section), event("e2", "sections.deleted", {"id": "sec9"})
    )

    [made] = snapshot.sections
    assert (made.sourced_id, made.school_id, made.title, made.grade) == (
        "sec1",
        "sch1",
        "Room 12",
        "3",
    )
    assert [(e.person_id, e.role) for e in snapshot.enrollments] == [
        ("t1", "teacher"),
        ("t2", "teacher"),
        ("s1", "student"),
        ("s2", "student"),
    ]
    assert snapshot.enrollments_complete_for == {"sec1"}
    assert snapshot.deleted_ids(Kind.SECTIONS) == {"sec9"}


def test_users_who_are_no_longer_students_or_teachers_are_archived_and_teachers_win() -> None:
    staff = student("u1", staff={"school": "sch1"})
    both = student("u2", student={"school": "sch1"}, teacher={"school": "sch1"})
    snapshot, _ = snap(event("e1", "users.updated", staff), event("e2", "users.updated", both))

    assert snapshot.deleted_ids(Kind.PEOPLE) == {"u1"}
    assert [(p.sourced_id, p.role) for p in snapshot.people] == [("u2", "teacher")]


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ({"id": "e2", "data": {"object": {"id": "s1"}}}, "the event has no type"),
        ({"id": "e2", "type": "users.updated", "data": {}}, "no data.object with an id"),
        (event("e2", "users.created", {"name": {"first": "A"}}), "no data.object with an id"),
        (event("e2", "sections.updated", {"id": "sec1", "students": []}), "data.object.school"),
        (
            event("e2", "sections.updated", {"id": "sec1", "school": "sch1", "students": "s1"}),
            "students is not a list",
        ),
        (event("e2", "users.updated", {**student("s1"), "roles": ["student"]}), "roles is not"),
        (event("e2", "users.created", {**student("s1"), "district": "d9"}), "district d9"),
    ],
)
def test_a_malformed_event_stops_the_read_naming_it(bad: dict[str, Any], problem: str) -> None:
    with pytest.raises(SourceError, match=problem) as caught:
        snap(event("e1", "users.created", student("s0")), bad)

    assert f"{ORIGIN} event e2" in str(caught.value)
    assert "nothing was applied" in str(caught.value)
    assert caught.value.code == "malformed_event"


# --- the reader against a fake Clever -----------------------------------------------


def connection(cursor: str = "", *, use_events: bool = True) -> RosterConnection:
    return RosterConnection(
        provider="clever",
        base_url=CLEVER,
        district_id="d1",
        secret="tok",
        events_cursor=cursor,
        use_events=use_events,
    )


def fake_events(
    rsps: responses.RequestsMock, events: list[dict[str, Any]], *, known: set[str]
) -> None:
    """/v3.0/events paged two a page with next links (and one empty page at the end with
    a next link, which must end the read), /v3.0/events/{id} for the known ids."""

    def listing(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url).query)
        if query.get("ending_before") == ["last"]:
            return 200, {}, json.dumps(clever_page(events[-1:]))
        after = query["starting_after"][0]
        ids = [e["id"] for e in events]
        start = ids.index(after) + 1 if after in ids else 0
        page = events[start : start + 2]
        last = page[-1]["id"] if page else after
        return (
            200,
            {},
            json.dumps(
                clever_page(page, f"/v3.0/events?limit=2&starting_after={last}" if page else None)
            ),
        )

    rsps.add_callback(responses.GET, f"{CLEVER}/v3.0/events", callback=listing)
    for eid in known:
        rsps.get(f"{CLEVER}/v3.0/events/{eid}", json={"data": {"id": eid, "type": "x.y"}})


def test_events_are_read_across_pages_after_the_cursor() -> None:
    events = [event("e1", "users.created", student("s0"))] + [
        event(f"e{i}", "users.updated", student(f"s{i}")) for i in range(2, 7)
    ]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_events(rsps, events, known={"e1"})
        snapshot, report = read_clever_roster(connection("e1"), page_size=2)
        pages = [c.request.url for c in rsps.calls if "starting_after" in c.request.url]

    assert [p.sourced_id for p in snapshot.people] == ["s2", "s3", "s4", "s5", "s6"]
    assert (report.mode, report.after, report.through, report.read) == ("events", "e1", "e6", 5)
    assert len(pages) == 4  # e2-e3, e4-e5, e6, and the empty page that ends the log
    assert "starting_after=e1" in pages[0] and "limit=2" in pages[0]


def test_without_a_cursor_the_whole_roster_is_read_and_the_newest_event_noted() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_clever(rsps)
        fake_events(
            rsps, [event("e1", "users.created", student("s0")), event("e9", "x.y")], known=set()
        )
        snapshot, report = read_clever_roster(connection(""))
        first = rsps.calls[0].request.url

    assert snapshot.mode(Kind.PEOPLE) == Mode.BULK and len(snapshot.people) == 6
    assert (report.mode, report.through, snapshot.cursor) == ("bulk", "e9", "e9")
    assert "ending_before=last" in first and "limit=1" in first  # asked before the bulk read


def test_a_cursor_clever_no_longer_knows_means_a_whole_read() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_clever(rsps)
        fake_events(rsps, [event("e9", "users.created", student("s0"))], known=set())
        rsps.get(f"{CLEVER}/v3.0/events/e1", status=404, json={"message": "event not found"})
        snapshot, report = read_clever_roster(connection("e1"))

    assert (report.mode, report.through, snapshot.mode(Kind.PEOPLE)) == ("bulk", "e9", Mode.BULK)
    assert "no longer in Clever's event log" in report.note


@pytest.mark.parametrize(
    ("answer", "note"),
    [
        ({"status": 404, "json": {"message": "not found"}}, "answered 404"),
        ({"json": {"data": [], "links": []}}, "event log is empty"),
        ({"body": requests.exceptions.ConnectTimeout("slow")}, "no answer within"),
        ({"body": "<html>busy</html>"}, "not complete JSON"),
    ],
)
def test_a_district_without_events_is_read_whole_and_keeps_no_cursor(
    answer: dict[str, Any], note: str
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_clever(rsps)
        rsps.get(f"{CLEVER}/v3.0/events", **answer)
        snapshot, report = read_clever_roster(connection(""))

    assert (report.mode, report.through, snapshot.cursor) == ("bulk", "", "")
    assert note in report.note and len(snapshot.people) == 6


def test_events_switched_off_read_the_whole_roster_without_asking_for_events() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_clever(rsps)
        snapshot, report = read_clever_roster(connection("e1", use_events=False))
        asked = [c.request.url for c in rsps.calls]

    assert (report.mode, snapshot.cursor) == ("bulk", "")
    assert not [url for url in asked if "/events" in url]


def test_a_refused_token_is_named() -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(f"{CLEVER}/v3.0/events/e1", status=401, json={"message": "invalid token"})
        with pytest.raises(
            SourceError, match=r"GET /v3.0/events/e1: 401 .*refused the credentials"
        ):
            read_clever_roster(connection("e1"))


def test_a_timeout_on_an_events_page_is_named() -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(f"{CLEVER}/v3.0/events/e1", json={"data": {"id": "e1", "type": "x.y"}})
        rsps.get(f"{CLEVER}/v3.0/events", body=requests.exceptions.ReadTimeout("slow"))
        with pytest.raises(
            SourceError, match=r"GET /v3.0/events\?limit=1000&starting_after=e1: no answer within"
        ):
            read_clever_roster(connection("e1"))


def test_an_events_page_that_is_not_json_is_named() -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(f"{CLEVER}/v3.0/events/e1", json={"data": {"id": "e1", "type": "x.y"}})
        rsps.get(f"{CLEVER}/v3.0/events", body='{"data": [{"data": {"id": "e2", "ty')
        with pytest.raises(SourceError, match="not complete JSON"):
            read_clever_roster(connection("e1"))
