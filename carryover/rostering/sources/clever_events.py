"""Clever's Events API: after one bulk read, a sync reads only what changed.

Clever's rule ("Updating Data with Events" in its developer docs): take the roster from
the Data API, note the newest event (`GET /v3.0/events?ending_before=last&limit=1`, asked
*before* the bulk read, so a change made while it runs is read again later rather than
missed), then read `GET /v3.0/events?starting_after=<that id>` following the rel=next
links. Events come oldest first, each `{"id", "type": "<record>.<created|updated|deleted>",
"created", "data": {"object": {...}}}` with the whole object after the change (for a
deletion, its last state); processing them must be idempotent.

The events read become one DELTA snapshot. Per object only its last event counts (the
object it carries is complete): created/updated upsert, deleted archives (never a hard
delete; a person created again is restored, same row, same records). A section's event
carries its complete students and teachers lists, so the section's other enrollments are
archived (`Snapshot.enrollments_complete_for`). A user who is neither a student nor a
teacher any more is archived, as a bulk read would do. The newest event id read rides
along as `Snapshot.cursor`; the transaction that applies the snapshot stores it, so a
failed, held or dry run keeps the old cursor and its retry reads the same events again.

`schools.deleted` (schools are never archived here), districts, terms, courses,
resources and any type not known are ignored and counted by type. An event without a
type, or without the object (with its id) that its type needs, or with an object of
another district, stops the read with an error naming the event: nothing is applied.

Without a cursor (first sync, `--full`, events switched off for the connection, or a
cursor Clever no longer knows: it keeps events 30 days) the whole roster is read, and the
newest event id becomes the cursor. A district without events (an empty log, an events
endpoint that answers 403/404 or fails) is read whole every time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.conf import settings

from carryover.rostering.errors import SourceError
from carryover.rostering.snapshot import (
    TEACHER,
    Enrollment,
    Kind,
    Mode,
    Org,
    Person,
    Section,
    Snapshot,
)
from carryover.rostering.sources.clever_api import API, PAGE_SIZE, CleverReader, _person

if TYPE_CHECKING:
    from carryover.rostering.models import RosterConnection
    from carryover.rostering.progress import Progress

ACTIONS = ("created", "updated", "deleted")
# The record types (and actions) that change a roster here; every other type is ignored.
USED: dict[str, tuple[str, ...]] = {
    "users": ACTIONS,
    "sections": ACTIONS,
    "schools": ("created", "updated"),
}


@dataclass
class EventsRead:
    """How a Clever sync read the roster; kept on the sync as `RosterSync.events`."""

    mode: str  # "events" or "bulk"
    after: str = ""  # the cursor the events were read after
    through: str | None = None  # the newest event covered: the cursor stored on apply
    read: int = 0
    ignored: Counter[str] = field(default_factory=Counter)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode, "through": self.through}
        if self.mode == "events":
            out.update(
                after=self.after,
                read=self.read,
                ignored=sum(self.ignored.values()),
                ignored_types=dict(sorted(self.ignored.items())),
            )
        if self.note:
            out["note"] = self.note
        return out


# --- events -> snapshot (pure) -----------------------------------------------------------


def _fail(where: str, problem: str) -> SourceError:
    return SourceError(f"{where}: {problem}; nothing was applied", code="malformed_event")


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item for item in value)


def _check_user(obj: dict[str, Any], action: str, where: str) -> None:
    if action == "deleted":
        return
    if obj.get("name") is not None and not isinstance(obj["name"], dict):
        raise _fail(where, "data.object.name is not an object")
    roles = obj.get("roles")
    if roles is not None and not isinstance(roles, dict):
        raise _fail(where, "data.object.roles is not an object")
    for role in ("student", "teacher"):
        details = (roles or {}).get(role)
        if details is None:
            continue
        if not isinstance(details, dict):
            raise _fail(where, f"data.object.roles.{role} is not an object")
        if details.get("school") is not None and not isinstance(details["school"], str):
            raise _fail(where, f"data.object.roles.{role}.school is not a string")
        if details.get("schools") is not None and not _strings(details["schools"]):
            raise _fail(where, f"data.object.roles.{role}.schools is not a list of ids")


def _check_section(obj: dict[str, Any], action: str, where: str) -> None:
    if action == "deleted":
        return
    if not isinstance(obj.get("school"), str) or not obj["school"]:
        raise _fail(where, "data.object.school (the section's school id) is missing")
    for key in ("students", "teachers"):
        if obj.get(key) is not None and not _strings(obj[key]):
            raise _fail(where, f"data.object.{key} is not a list of user ids")
    if obj.get("teacher") is not None and not isinstance(obj["teacher"], str):
        raise _fail(where, "data.object.teacher is not a user id")


def _check_school(obj: dict[str, Any], action: str, where: str) -> None:
    if obj.get("name") is not None and not isinstance(obj["name"], str):
        raise _fail(where, "data.object.name is not a string")


CHECKS = {"users": _check_user, "sections": _check_section, "schools": _check_school}


def _rostered_role(obj: dict[str, Any]) -> str | None:
    """A user with both roles is a teacher, as the bulk read keeps them."""
    roles = obj.get("roles") or {}
    for role in ("teacher", "student"):
        if roles.get(role) is not None:
            return role
    return None


def _section(obj: dict[str, Any], where: str) -> tuple[Section, list[Enrollment]]:
    """The section and its enrollments, as the bulk read turns a section into them."""
    section_id = str(obj["id"])
    section = Section(
        section_id,
        str(obj["school"]),
        str(obj.get("name") or section_id),
        str(obj.get("grade") or "")[:20],
        where,
    )
    teachers = list(dict.fromkeys(obj.get("teachers") or []))
    if obj.get("teacher") and obj["teacher"] not in teachers:
        teachers.insert(0, obj["teacher"])
    enrollments = [Enrollment(section_id, teacher, TEACHER, "", where) for teacher in teachers]
    enrollments += [
        Enrollment(section_id, student, "student", "", where)
        for student in dict.fromkeys(obj.get("students") or [])
        if student not in teachers
    ]
    return section, enrollments


def events_snapshot(
    events: Iterable[tuple[str, dict[str, Any]]],
    *,
    after: str,
    district_id: str = "",
    report: EventsRead | None = None,
) -> tuple[Snapshot, EventsRead]:
    """Turn events (each with the origin of its page, in Clever's order) into one delta
    snapshot whose `cursor` is the newest event id read (`after` when there was none).
    Raises SourceError naming the event for a malformed one. `report` is filled in."""
    report = report if report is not None else EventsRead(mode="events")
    report.mode, report.after, report.through = "events", after, after
    latest: dict[tuple[str, str], tuple[str, dict[str, Any], str]] = {}
    for origin, event in events:
        event_id = str(event.get("id") or "")
        where = f"{origin} event {event_id or '(no id)'}"
        if not event_id:
            raise _fail(where, "the event has no id")
        report.read += 1
        report.through = event_id
        kind = event.get("type")
        if not isinstance(kind, str) or not kind:
            raise _fail(where, "the event has no type")
        record, _, action = kind.partition(".")
        if action not in USED.get(record, ()):
            report.ignored[kind] += 1
            continue
        where = f"{where} ({kind})"
        data = event.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
            raise _fail(where, "no data.object with an id")
        if district_id and obj.get("district") not in (None, "", district_id):
            raise _fail(
                where, f"the object belongs to district {obj['district']}, not {district_id}"
            )
        CHECKS[record](obj, action, where)
        key = (record, obj["id"])
        latest.pop(key, None)  # keep the order of each object's last event
        latest[key] = (action, obj, where)

    orgs: list[Org] = []
    people: list[Person] = []
    sections: list[Section] = []
    enrollments: list[Enrollment] = []
    gone: dict[Kind, set[str]] = {Kind.PEOPLE: set(), Kind.SECTIONS: set()}
    complete: set[str] = set()
    for (record, object_id), (action, obj, where) in latest.items():
        if record == "schools":
            orgs.append(Org(object_id, str(obj.get("name") or object_id)[:200], "school", where))
        elif record == "users":
            role = None if action == "deleted" else _rostered_role(obj)
            if role is None:
                gone[Kind.PEOPLE].add(object_id)
            else:
                people.append(_person(obj, role, where))
        elif action == "deleted":
            gone[Kind.SECTIONS].add(object_id)
        else:
            section, listed = _section(obj, where)
            sections.append(section)
            enrollments.extend(listed)
            complete.add(object_id)
    snapshot = Snapshot(
        source=f"Clever events after {after}",
        orgs=tuple(orgs),
        people=tuple(people),
        sections=tuple(sections),
        enrollments=tuple(enrollments),
        modes={kind: Mode.DELTA for kind in Kind},
        deleted={kind: frozenset(ids) for kind, ids in gone.items()},
        district_id=district_id,
        enrollments_complete_for=frozenset(complete),
        cursor=report.through,
    )
    return snapshot, report


# --- reading -----------------------------------------------------------------------------


def newest_event(reader: CleverReader) -> tuple[str, str]:
    """(id of the newest event or "", a note when there is none). Never fatal: the bulk
    read that follows is the roster either way; without a cursor the next sync is a
    bulk read again."""
    name = f"GET {API}/events?ending_before=last&limit=1"
    again = "the next sync reads the whole roster again"
    try:
        body, response = reader.client.get(
            f"{reader.base_url}{API}/events",
            params={"ending_before": "last", "limit": 1},
            allow=(403, 404),
        )
    except SourceError as exc:
        return "", f"no events cursor ({exc}); {again}"
    if body is None:
        return "", f"{name} answered {response.status_code}: no events for this district; {again}"
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, list) and not data:
        return "", f"Clever's event log is empty; {again}"
    event = data[-1].get("data") if isinstance(data, list) and isinstance(data[-1], dict) else None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event["id"]:
        return "", f"{name}: the answer names no newest event; {again}"
    return event["id"], ""


def cursor_known(reader: CleverReader, cursor: str) -> bool:
    """Does Clever still have the event (it keeps 30 days of them)? 400/404: no."""
    body, _response = reader.client.get(
        f"{reader.base_url}{API}/events/{quote(cursor, safe='')}", allow=(400, 404)
    )
    return body is not None


def read_events(
    reader: CleverReader, *, after: str, district_id: str, report: EventsRead | None = None
) -> tuple[Snapshot, EventsRead]:
    """Every event after `after`, page by page, into one delta snapshot."""
    events: list[tuple[str, dict[str, Any]]] = []
    for origin, objects in reader.pages("/events", starting_after=after):
        if not objects:
            break  # an empty page ends the log even if a next link is offered
        events.extend((origin, obj) for obj in objects)
    return events_snapshot(events, after=after, district_id=district_id, report=report)


def read_clever_roster(
    connection: RosterConnection,
    *,
    full: bool = False,
    progress: Progress | None = None,
    page_size: int = PAGE_SIZE,
    report: EventsRead | None = None,
) -> tuple[Snapshot, EventsRead]:
    """The connection's roster: only the events after its cursor when it has one (and
    events are on, and not `full`), else the whole roster with the newest event id as
    the cursor to store. `report` (returned too) is filled in as the read goes, so a
    caller still knows how far a failed read got."""
    report = report if report is not None else EventsRead(mode="bulk")
    base = connection.base_url or getattr(settings, "CLEVER_API_BASE", "https://api.clever.com")
    reader = CleverReader(
        base_url=base, token=connection.secret, progress=progress, page_size=page_size
    )
    cursor = connection.events_cursor
    try:
        if not connection.use_events:
            report.mode, report.through = "bulk", ""
            report.note = "events are switched off for this connection"
            snapshot = reader.read(district_id=connection.district_id)
            return replace(snapshot, cursor=""), report
        if cursor and not full:
            report.mode, report.after = "events", cursor
            if cursor_known(reader, cursor):
                return read_events(
                    reader, after=cursor, district_id=connection.district_id, report=report
                )
            report.note = (
                f"event {cursor} is no longer in Clever's event log (kept 30 days): "
                "read the whole roster instead"
            )
        elif cursor:
            report.note = f"--full: read the whole roster instead of the events after {cursor}"
        report.mode, report.after = "bulk", ""
        newest, why = newest_event(reader)
        report.through = newest
        report.note = "; ".join(n for n in (report.note, why) if n)
        snapshot = reader.read(district_id=connection.district_id)
        return replace(snapshot, cursor=newest), report
    finally:
        reader.client.close()
