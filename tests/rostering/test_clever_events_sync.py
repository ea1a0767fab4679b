"""Clever syncs through the Events API, end to end against the Clever sandbox (served in
process): the first sync reads the whole roster and records the newest event, later ones
apply only the events after it, through the same engine, guard and counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from pytest_django.fixtures import Settings as SettingsWrapper

from carryover.accounts.models import Account, Enrollment, Section, User
from carryover.audit.models import AuditEvent, EventType
from carryover.progress.models import PracticeRecord
from carryover.rostering import services
from carryover.rostering.models import (
    ConnectionProvider,
    RosterConnection,
    RosterSync,
    SyncSource,
    SyncStatus,
)
from carryover.rostering.sources.clever_events import events_snapshot, read_clever_roster
from carryover.sandbox import clever_events
from tests.progress.factories import PracticeRecordFactory
from tests.rostering.test_command import last_json, roster
from tests.rostering.test_engine import roster_state
from tests.sandbox.clever_objects import (
    MAYA,
    ROOM_12,
    new_section,
    new_student,
    renamed,
    section,
    user,
    with_students,
)
from tests.sandbox.support import CLEVER_BASE, DEMO_DISTRICT, configure_sandbox
from tests.sandbox.transport import DjangoTestClientAdapter, requests_to_django

PEOPLE = 45  # the demo district: 42 students and 3 teachers (its admin is not rostered)
QUERIES_TO_APPLY_EVENTS = 16  # whatever the number of events: set-based writes


@pytest.fixture
def sandbox(settings: SettingsWrapper) -> Iterator[DjangoTestClientAdapter]:
    configure_sandbox(settings)
    with requests_to_django() as adapter:
        yield adapter


@pytest.fixture
def clever(account: Account, sandbox: DjangoTestClientAdapter) -> RosterConnection:
    return services.connect_provider(
        account=account,
        provider=ConnectionProvider.CLEVER,
        base_url=CLEVER_BASE,
        district_id=DEMO_DISTRICT,
        secret=settings.SANDBOX_CLEVER_DISTRICT_TOKEN,
    )


def sync(account: Account, **options: Any) -> RosterSync:
    started = services.start_sync(account=account, source=SyncSource.CLEVER, **options)
    return services.run_sync(sync_id=started.pk)


def cursor(account: Account) -> str:
    return RosterConnection.objects.get(account=account).events_cursor


def newest_event_id() -> str:
    return str(clever_events.event_log().items[-1]["id"])


def person(account: Account, sis_id: str) -> User:
    return User.objects.get(account=account, sis_id=sis_id)


def enrolled(account: Account, section_sis: str) -> set[str]:
    return set(
        Enrollment.objects.filter(
            section__account=account, section__sis_id=section_sis, archived_at__isnull=True
        ).values_list("user__sis_id", flat=True)
    )


@pytest.fixture
def synced(account: Account, clever: RosterConnection) -> RosterSync:
    first = sync(account)
    assert first.status == SyncStatus.APPLIED, first.errors
    return first


def test_the_first_sync_reads_the_whole_roster_and_records_the_newest_event(
    account: Account, clever: RosterConnection
) -> None:
    assert cursor(account) == ""

    first = sync(account)

    assert first.status == SyncStatus.APPLIED, first.errors
    assert first.counts["created"]["people"] == PEOPLE
    assert first.events == {"mode": "bulk", "through": newest_event_id()}
    connection = RosterConnection.objects.get(account=account)
    assert connection.events_cursor == newest_event_id() and connection.events_cursor_at
    applied = AuditEvent.objects.get(event_type=EventType.ROSTER_SYNC_APPLIED)
    assert applied.data["events"]["through"] == newest_event_id()


def test_events_change_exactly_what_they_name(account: Account, synced: RosterSync) -> None:
    before = roster_state(account)
    room_12 = [s for s in section(ROOM_12)["students"] if s != "clever-rusd-10003"]
    clever_events.add_event("users.created", new_student("clever-rusd-20001", "Ana", "Lima"))
    clever_events.add_event("users.updated", renamed(MAYA, "Mayra"))
    clever_events.add_event(
        "sections.updated", with_students(ROOM_12, [*room_12, "clever-rusd-20001"])
    )
    clever_events.add_event("courses.created", {"id": "course-1", "name": "Math 3"})

    second = sync(account)

    assert second.status == SyncStatus.APPLIED, second.errors
    assert second.events["mode"] == "events" and second.events["read"] == 4
    assert second.events["ignored_types"] == {"courses.created": 1}
    assert second.totals() == {
        "created": 2,  # the new student and her enrollment
        "updated": 1,  # Maya's name
        "archived": 1,  # 10003 left Room 12 (and stays a student)
        "restored": 0,
        "unchanged": 12,  # Room 12 itself, its teacher's and ten students' enrollments
    }
    assert person(account, MAYA).first_name == "Mayra"
    assert person(account, "clever-rusd-20001").is_active
    assert enrolled(account, ROOM_12) == {*room_12, "clever-rusd-20001", "clever-rusd-t001"}
    assert person(account, "clever-rusd-10003").archived_at is None
    after = roster_state(account)
    untouched = {MAYA, "clever-rusd-20001"}
    changed_users = {u for u in after["users"] if u not in before["users"]}  # type: ignore[operator]
    assert {u[1] for u in changed_users} == untouched
    assert after["sections"] == before["sections"]
    assert cursor(account) == newest_event_id() == second.events["through"]


def test_an_identical_rerun_and_a_retry_of_the_same_events_change_nothing(
    account: Account, synced: RosterSync
) -> None:
    start = cursor(account)
    clever_events.add_event("users.created", new_student("clever-rusd-20001", "Ana", "Lima"))
    clever_events.add_event("users.updated", renamed(MAYA, "Mayra"))
    assert sync(account).status == SyncStatus.APPLIED
    state = roster_state(account)

    again = sync(account)

    assert again.status == SyncStatus.APPLIED
    assert again.events["read"] == 0 and again.totals()["created"] == 0
    assert sum(again.totals().values()) == 0
    assert roster_state(account) == state

    # The same events once more (as after a crash between apply and cursor): no change.
    RosterConnection.objects.filter(account=account).update(events_cursor=start)
    retry = sync(account)

    assert retry.events["read"] == 2
    assert retry.totals() == {
        "created": 0,
        "updated": 0,
        "archived": 0,
        "restored": 0,
        "unchanged": 2,
    }
    assert roster_state(account) == state
    assert AuditEvent.objects.filter(event_type=EventType.ROSTER_SYNC_APPLIED).count() == 4


def test_a_deleted_student_is_archived_and_comes_back_with_records_intact(
    account: Account, synced: RosterSync
) -> None:
    maya = person(account, MAYA)
    maya_in_clever = user(MAYA)
    PracticeRecordFactory.create_batch(3, student=maya)
    clever_events.add_event("users.deleted", {"id": MAYA})

    gone = sync(account)

    maya.refresh_from_db()
    assert gone.counts["archived"] == {"schools": 0, "people": 1, "sections": 0, "enrollments": 1}
    assert maya.archived_at is not None and not maya.is_active
    assert MAYA not in enrolled(account, ROOM_12)
    assert User.objects.filter(account=account, sis_id=MAYA).count() == 1  # archived, not deleted
    room_12 = [s for s in section(ROOM_12)["students"] if s != MAYA]

    clever_events.add_event("users.created", maya_in_clever)
    clever_events.add_event("sections.updated", with_students(ROOM_12, [*room_12, MAYA]))

    back = sync(account)

    assert back.status == SyncStatus.APPLIED, back.errors
    assert back.counts["restored"]["people"] == 1 and back.counts["restored"]["enrollments"] == 1
    restored = person(account, MAYA)
    assert restored.pk == maya.pk and restored.archived_at is None and restored.is_active
    assert MAYA in enrolled(account, ROOM_12)
    assert PracticeRecord.objects.filter(student=restored).count() == 3


def test_a_section_created_then_deleted(account: Account, synced: RosterSync) -> None:
    made = new_section(
        "clever-section-room-7",
        "Room 7",
        teacher="clever-rusd-t001",
        students=["clever-rusd-10001", "clever-rusd-10002"],
    )
    clever_events.add_event("sections.created", made)

    created = sync(account)

    assert created.counts["created"]["sections"] == 1
    assert created.counts["created"]["enrollments"] == 3
    assert enrolled(account, "clever-section-room-7") == {
        "clever-rusd-t001",
        "clever-rusd-10001",
        "clever-rusd-10002",
    }

    clever_events.add_event("sections.deleted", {"id": "clever-section-room-7"})
    held = sync(account)

    # One class of five is 20%: over the guard's 10%, a person confirms it.
    assert held.status == SyncStatus.HELD and "archive 1 of 5 sections" in held.guard_reason
    assert Section.objects.get(sis_id="clever-section-room-7").archived_at is None
    deleted = services.run_sync(sync_id=services.confirm_held_sync(sync=held, actor=None).pk)

    assert deleted.status == SyncStatus.APPLIED
    assert deleted.counts["archived"]["sections"] == 1
    assert deleted.counts["archived"]["enrollments"] == 3
    room_7 = Section.objects.get(account=account, sis_id="clever-section-room-7")
    assert room_7.archived_at is not None and not enrolled(account, "clever-section-room-7")
    assert person(account, "clever-rusd-10001").archived_at is None


def test_the_guard_holds_an_events_sync_and_the_cursor_waits(
    account: Account, synced: RosterSync
) -> None:
    start = cursor(account)
    leaving = [f"clever-rusd-1000{i}" for i in range(1, 7)]  # 6 of 45 people: over 10%
    for uid in leaving:
        clever_events.add_event("users.deleted", {"id": uid})
    state = roster_state(account)

    held = sync(account)

    assert held.status == SyncStatus.HELD
    assert "archive 6 of 45 people" in held.guard_reason
    assert roster_state(account) == state
    assert cursor(account) == start

    confirmed = services.run_sync(sync_id=services.confirm_held_sync(sync=held, actor=None).pk)

    assert confirmed.status == SyncStatus.APPLIED, confirmed.errors
    assert confirmed.counts["archived"]["people"] == 6
    assert (
        User.objects.filter(account=account, sis_id__in=leaving, archived_at__isnull=False).count()
        == 6
    )
    assert cursor(account) == newest_event_id()


def test_a_malformed_event_applies_nothing_and_keeps_the_cursor(
    account: Account, synced: RosterSync
) -> None:
    start = cursor(account)
    clever_events.add_event("users.updated", renamed(MAYA, "Mayra"))
    bad = clever_events.append_raw({"type": "users.updated", "data": {}})
    state = roster_state(account)

    failed = sync(account)

    assert failed.status == SyncStatus.FAILED
    assert failed.errors == [
        f"GET /v3.0/events page 1 event {bad['id']} (users.updated): no data.object with an "
        "id; nothing was applied"
    ]
    assert roster_state(account) == state  # not even the good event before it
    assert cursor(account) == start
    assert failed.events["mode"] == "events"

    # A whole read gets past it: the roster as it stands, and the cursor after the bad event.
    full = sync(account, full=True)

    assert full.status == SyncStatus.APPLIED, full.errors
    assert full.events["mode"] == "bulk" and "--full" in full.events["note"]
    assert person(account, MAYA).first_name == "Mayra"
    assert cursor(account) == bad["id"] == newest_event_id()


def test_a_dry_run_keeps_the_cursor(account: Account, synced: RosterSync) -> None:
    start = cursor(account)
    clever_events.add_event("users.updated", renamed(MAYA, "Mayra"))

    dry = sync(account, dry_run=True)

    assert dry.status == SyncStatus.DRY_RUN and dry.counts["updated"]["people"] == 1
    assert cursor(account) == start and person(account, MAYA).first_name == "Maya"


def test_events_across_pages(
    account: Account, synced: RosterSync, sandbox: DjangoTestClientAdapter
) -> None:
    for i in range(5):
        clever_events.add_event(
            "users.created", new_student(f"clever-rusd-2000{i}", "Kid", f"N{i}")
        )
    connection = RosterConnection.objects.get(account=account)
    sandbox.calls.clear()

    snapshot, report = read_clever_roster(connection, page_size=2)

    pages = [path for _method, path in sandbox.calls if path.endswith("/v3.0/events")]
    assert len(pages) == 3
    assert [p.sourced_id for p in snapshot.people] == [f"clever-rusd-2000{i}" for i in range(5)]
    assert report.read == 5 and report.through == newest_event_id()


def test_a_cursor_the_sandbox_does_not_know_means_a_whole_read(
    account: Account, synced: RosterSync
) -> None:
    RosterConnection.objects.filter(account=account).update(
        events_cursor="688c0380ffffffffffffffff"
    )

    resync = sync(account)

    assert resync.status == SyncStatus.APPLIED
    assert (
        resync.events["mode"] == "bulk"
        and "no longer in Clever's event log" in resync.events["note"]
    )
    assert resync.totals()["unchanged"] > PEOPLE
    assert cursor(account) == newest_event_id()


def test_a_refused_token_fails_naming_the_request_and_keeps_the_cursor(
    account: Account, synced: RosterSync
) -> None:
    start = cursor(account)
    RosterConnection.objects.filter(account=account).update(secret="not-the-token")

    failed = sync(account)

    assert failed.status == SyncStatus.FAILED
    assert failed.errors[0].startswith(f"GET /sandbox/clever/v3.0/events/{start}: 401")
    assert cursor(account) == start


def test_events_switched_off_read_everything_every_time(account: Account, sandbox: Any) -> None:
    services.connect_provider(
        account=account,
        provider=ConnectionProvider.CLEVER,
        base_url=CLEVER_BASE,
        secret=settings.SANDBOX_CLEVER_DISTRICT_TOKEN,
        use_events=False,
    )

    first, second = sync(account), sync(account)

    assert first.events["mode"] == second.events["mode"] == "bulk"
    assert second.totals()["unchanged"] == sum(first.counts["created"].values())
    assert cursor(account) == ""


def test_connecting_again_clears_the_cursor(account: Account, synced: RosterSync) -> None:
    assert cursor(account)

    services.connect_provider(
        account=account,
        provider=ConnectionProvider.CLEVER,
        base_url=CLEVER_BASE,
        secret=settings.SANDBOX_CLEVER_DISTRICT_TOKEN,
    )

    assert cursor(account) == ""
    assert sync(account).events["mode"] == "bulk"


# --- `carryover roster sync` ---------------------------------------------------------


def test_the_command_uses_events_after_the_first_sync_and_full_forces_a_whole_read(
    account: Account, clever: RosterConnection
) -> None:
    code, out, _ = roster("sync", "--account", "314159", "--json")
    first = last_json(out)
    assert code == 0 and first["status"] == "applied"
    assert first["events"] == {"mode": "bulk", "through": cursor(account)}
    assert first["created"]["people"] == PEOPLE
    clever_events.add_event("users.updated", renamed(MAYA, "Mayra"))
    clever_events.add_event("terms.updated", {"id": "clever-term-2025-26", "name": "2025-26"})

    code, out, _ = roster("sync", "--account", "314159")

    assert code == 0
    assert f"Clever events after {first['events']['through']} through {cursor(account)}" in out
    assert "2 read, 1 ignored (terms.updated 1)" in out
    assert person(account, MAYA).first_name == "Mayra"

    code, out, _ = roster("sync", "--account", "314159", "--full", "--json")

    result = last_json(out)
    assert code == 0 and result["events"]["mode"] == "bulk"
    assert result["updated"] == {"schools": 0, "people": 0, "sections": 0, "enrollments": 0}
    assert set(result) >= {"sync", "status", "created", "rejected", "guard", "errors"}
    assert "[bulk]" in roster("status", "--account", "314159")[1]


def test_a_failed_events_sync_says_the_cursor_stayed(account: Account, synced: RosterSync) -> None:
    bad = clever_events.append_raw({"type": "sections.updated", "data": {"object": {"id": "x"}}})

    code, out, _ = roster("sync", "--account", "314159")

    assert code == 1
    assert f"event {bad['id']} (sections.updated): data.object.school" in out
    assert "the events cursor stays where it was" in out and "--full" in out


def test_connect_without_events_and_show(account: Account, sandbox: Any) -> None:
    code, _, _ = roster(
        "connect",
        "--account",
        "314159",
        "--provider",
        "clever",
        "--token",
        settings.SANDBOX_CLEVER_DISTRICT_TOKEN,
        "--api-url",
        CLEVER_BASE,
        "--no-events",
    )
    assert code == 0
    assert not RosterConnection.objects.get(account=account).use_events

    _, shown, _ = roster("show", "--account", "314159")

    assert "events:" in shown and "off" in shown


@pytest.mark.parametrize("size", [1, 30])
def test_applying_events_takes_the_same_queries_for_1_or_30_students(
    account: Account, synced: RosterSync, size: int, django_assert_num_queries: Any
) -> None:
    made = [new_student(f"clever-rusd-3{i:04d}", "Kid", f"N{i}") for i in range(size)]
    events = [
        {"id": f"e{i:04d}", "type": "users.created", "data": {"object": obj}}
        for i, obj in enumerate(made)
    ]
    events.append(
        {
            "id": "e9999",
            "type": "sections.updated",
            "data": {"object": with_students(ROOM_12, [u["id"] for u in made])},
        }
    )
    snapshot, _ = events_snapshot([("test", e) for e in events], after="e0", district_id="")
    run = services.start_sync(account=account, source=SyncSource.CLEVER, confirm=True)

    with django_assert_num_queries(QUERIES_TO_APPLY_EVENTS):
        services.apply_snapshot(sync=run, snapshot=snapshot)

    assert enrolled(account, ROOM_12) == {"clever-rusd-t001", *(u["id"] for u in made)}
    assert cursor(account) == "e9999"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not settings.SANDBOX_ENABLED, reason="the sandboxes are switched off")
def test_over_http_an_event_added_for_the_demo_reaches_the_next_sync(live_server: Any) -> None:
    import requests

    from tests.accounts.factories import AccountFactory

    account = AccountFactory(account_number="314159")
    base = f"{live_server.url}/sandbox/clever"
    services.connect_provider(
        account=account,
        provider=ConnectionProvider.CLEVER,
        base_url=base,
        secret=settings.SANDBOX_CLEVER_DISTRICT_TOKEN,
    )
    assert sync(account).events["mode"] == "bulk"
    maya = requests.get(
        f"{base}/v3.0/users/{MAYA}",
        headers={"Authorization": f"Bearer {settings.SANDBOX_CLEVER_DISTRICT_TOKEN}"},
        timeout=10,
    ).json()["data"]
    maya["name"]["first"] = "Mayra"

    added = requests.post(
        f"{base}/admin/events",
        json={"type": "users.updated", "object": maya},
        headers={"Authorization": f"Bearer {settings.SANDBOX_CLEVER_DISTRICT_TOKEN}"},
        timeout=10,
    )
    after = sync(account)

    assert added.status_code == 201
    assert after.events["mode"] == "events" and after.events["read"] == 1
    assert after.counts["updated"]["people"] == 1
    assert person(account, MAYA).first_name == "Mayra"
    assert cursor(account) == added.json()["data"]["id"]


def test_the_roster_page_says_how_the_next_sync_reads_and_queues_a_full_read(
    account: Account, synced: RosterSync, school_admin: User
) -> None:
    from django.test import Client

    client = Client()
    client.force_login(school_admin)
    page = client.get("/school/roster/").text
    assert "reads only what changed in Clever since" in page
    assert cursor(account) in page
    assert f"#{synced.pk} · Clever Data API (whole roster)" in page
    assert 'name="full" value="1"' in page

    response = client.post("/school/roster/sync", {"full": "1"})

    assert response.status_code == 302
    queued = RosterSync.objects.exclude(pk=synced.pk).get()
    assert queued.full is True and queued.status == SyncStatus.QUEUED
    assert cursor(account) == newest_event_id()  # nothing read or applied yet

    delta = services.run_sync(sync_id=queued.pk)
    assert delta.events["mode"] == "bulk"
    plain = services.run_sync(
        sync_id=services.start_sync(account=account, source=SyncSource.CLEVER).pk
    )
    assert plain.events["mode"] == "events" and plain.events["read"] == 0
    page = client.get("/school/roster/").text
    assert f"#{plain.pk} · Clever Data API (changes only: 0 events)" in page
