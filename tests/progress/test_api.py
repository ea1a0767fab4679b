"""The practice client's API: `POST /api/v1/practice-records`, `GET /api/v1/me/progress`.

View tests carry HTTP shape and permissions; the recording rules themselves are in
test_record_practice.py. Every refusal also asserts that nothing was stored.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from carryover.accounts.models import SeatState, User
from carryover.progress.models import Award, PracticeRecord, TrackProgress
from tests.accounts.factories import LegacyStudentFactory, RosteredStudentFactory, enroll

pytestmark = pytest.mark.django_db

RECORDS = "/api/v1/practice-records"
PROGRESS = "/api/v1/me/progress"


def a_while_ago(**delta: float) -> str:
    return (timezone.now() - dt.timedelta(**(delta or {"minutes": 5}))).isoformat()


RECORDED_AT = a_while_ago(hours=1)

BODIES: dict[str, dict[str, Any]] = {
    "practice": {
        "client_id": "ipad-1:0001",
        "track": "addition",
        "level": "A",
        "kind": "practice",
        "score": 85,
        "duration_seconds": 240,
        "correct": 34,
        "attempted": 40,
        "recorded_at": RECORDED_AT,
    },
    "test": {
        "client_id": "ipad-1:0002",
        "track": "addition",
        "level": "A",
        "kind": "test",
        "score": 100,
        "duration_seconds": 60,
        "recorded_at": RECORDED_AT,
    },
    "level_pass": {
        "client_id": "ipad-1:0003",
        "track": "addition",
        "level": "A",
        "kind": "level_pass",
        "score": 96,
        "duration_seconds": 60,
        "recorded_at": RECORDED_AT,
    },
}


def post(client: Client, body: Any, *, content_type: str = "application/json") -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(RECORDS, data=data, content_type=content_type)


def body(template: str = "practice", /, **changes: Any) -> dict[str, Any]:
    value = dict(BODIES[template])
    value.update(changes)
    return {k: v for k, v in value.items() if v is not ...}


@pytest.fixture
def as_student(legacy_student: User) -> Client:
    client = Client()
    client.force_login(legacy_student)
    return client


def stored() -> list[tuple[Any, ...]]:
    """Everything a request could have changed."""
    return [
        tuple(PracticeRecord.objects.order_by("id").values_list("id", "student_id", "score")),
        tuple(TrackProgress.objects.order_by("id").values_list("id", "level", "last_activity_at")),
        tuple(Award.objects.order_by("id").values_list("id", "kind")),
    ]


# --- the happy path, for each kind ------------------------------------------------------


@pytest.mark.parametrize("kind", list(BODIES))
def test_a_record_is_stored_once_and_a_replay_answers_the_same_row(
    as_student, legacy_student, kind
):
    first = post(as_student, body(kind))
    replay = post(as_student, body(kind))

    assert first.status_code == 201
    assert first.json()["created"] is True
    assert replay.status_code == 200
    assert replay.json()["created"] is False
    assert replay.json()["id"] == first.json()["id"]
    record = PracticeRecord.objects.get(student=legacy_student)
    assert record.pk == first.json()["id"]
    assert (record.kind, record.level, record.track.slug) == (kind, "A", "addition")
    assert record.origin_student_id == legacy_student.pk
    assert record.recorded_at == dt.datetime.fromisoformat(RECORDED_AT)


def test_a_level_pass_advances_the_track(as_student, legacy_student):
    response = post(as_student, body("level_pass"))

    progress = response.json()["progress"]
    assert (progress["track"], progress["level"]) == ("addition", "B")
    assert TrackProgress.objects.get(student=legacy_student).level == "B"
    # The next level is open now, and the one after is not.
    assert post(as_student, body("practice", client_id="p-b", level="B")).status_code == 201
    refused = post(as_student, body("practice", client_id="p-c", level="C"))
    assert (refused.status_code, refused.json()["error"]) == (400, "level_not_reached")


def test_the_same_client_id_with_another_body_is_a_conflict_that_changes_nothing(as_student):
    post(as_student, body("practice"))
    before = stored()

    response = post(as_student, body("practice", score=10))

    assert response.status_code == 409
    assert response.json()["error"] == "client_id_conflict"
    assert stored() == before


def test_json_with_a_charset_is_accepted(as_student):
    response = post(as_student, body(), content_type="application/json; charset=utf-8")

    assert response.status_code == 201


def test_unknown_fields_are_ignored_and_never_pick_the_student(
    as_student, legacy_student, other_legacy_student
):
    response = post(
        as_student,
        body(student=other_legacy_student.pk, student_id=other_legacy_student.pk, origin=1),
    )

    assert response.status_code == 201
    record = PracticeRecord.objects.get()
    assert record.student_id == record.origin_student_id == legacy_student.pk


# --- validation: a JSON 400 with a code, and nothing changed --------------------------

FUTURE = (timezone.now() + dt.timedelta(days=1)).isoformat()
INVALID = [
    ("unknown_track", body(track="juggling")),
    ("invalid_track", body(track="")),
    ("invalid_track", body(track=7)),
    ("invalid_track", body(track=...)),
    ("invalid_track", body(track="addi\x00tion")),
    ("invalid_track", body(track="Addition")),
    ("invalid_level", body(level="a")),
    ("invalid_level", body(level="AA")),
    ("invalid_level", body(level="")),
    ("invalid_level", body(level=1)),
    ("invalid_level", body(level=...)),
    ("invalid_kind", body(kind="placement")),
    ("invalid_kind", body(kind="award")),
    ("invalid_kind", body(kind=None)),
    ("invalid_kind", body(kind=["practice"])),
    ("invalid_score", body(score=101)),
    ("invalid_score", body(score=-1)),
    ("invalid_score", body(score=85.5)),
    ("invalid_score", body(score="85")),
    ("invalid_score", body(score=True)),
    ("invalid_score", body(score=10**40)),
    ("invalid_duration_seconds", body(duration_seconds=-5)),
    ("invalid_duration_seconds", body(duration_seconds=0)),
    ("invalid_duration_seconds", body(duration_seconds=6 * 3600 + 1)),
    ("invalid_duration_seconds", body(duration_seconds=2**63)),
    ("invalid_duration_seconds", body(duration_seconds=False)),
    ("invalid_correct", body(correct=41, attempted=40)),
    ("invalid_correct", body(correct=-1)),
    ("invalid_attempted", body(attempted=10**6)),
    ("missing_score", body("test", score=...)),
    ("missing_score", body("level_pass", duration_seconds=...)),
    ("invalid_client_id", body(client_id="")),
    ("invalid_client_id", body(client_id="x" * 65)),
    ("invalid_client_id", body(client_id=12)),
    ("invalid_client_id", body(client_id=...)),
    ("invalid_client_id", body(client_id="ipad\x00-1")),
    ("invalid_client_id", body(client_id="ipad\n1")),
    ("invalid_recorded_at", body(recorded_at="2026-03-01T10:00:00")),
    ("invalid_recorded_at", body(recorded_at="2026-03-01")),
    ("invalid_recorded_at", body(recorded_at=FUTURE)),
    ("invalid_recorded_at", body(recorded_at="1999-12-31T23:59:59+00:00")),
    ("invalid_recorded_at", body(recorded_at="0001-01-01T00:00:00+01:00")),
    ("invalid_recorded_at", body(recorded_at="yesterday")),
    ("invalid_recorded_at", body(recorded_at="2026-02-30T10:00:00Z")),
    ("invalid_recorded_at", body(recorded_at="2026-01-01T25:00:00Z")),
    ("invalid_recorded_at", body(recorded_at=1767225600)),
    ("invalid_recorded_at", body(recorded_at=...)),
    ("invalid_json", "{not json"),
    ("invalid_json", b"\xff\xfe{}"),
    ("invalid_json", "[" * 20_000 + "]" * 20_000),
    ("invalid_json", "[1, 2]"),
    ("invalid_json", '"practice"'),
    ("invalid_json", "null"),
    ("invalid_json", "  "),
]


@pytest.mark.parametrize(
    ("code", "payload"), INVALID, ids=[f"{c}-{i}" for i, (c, _) in enumerate(INVALID)]
)
def test_an_invalid_record_is_a_400_with_its_code_and_changes_nothing(as_student, code, payload):
    post(as_student, body(client_id="earlier"))
    before = stored()

    response = post(as_student, payload)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == code
    assert response.json()["message"]
    assert stored() == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_by_its_type_is_refused(as_student, content_type):
    response = post(as_student, json.dumps(body()), content_type=content_type)

    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert stored() == [(), (), ()]


def test_a_huge_body_is_refused(as_student):
    response = post(as_student, body(padding="x" * 70_000))

    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert stored() == [(), (), ()]


def test_only_post_records(as_student):
    assert as_student.get(RECORDS).status_code == 405
    assert as_student.put(RECORDS, data=json.dumps(body())).status_code == 405


# --- who may record ------------------------------------------------------------------------


def test_nobody_signed_in_gets_401_and_nothing_is_stored(client):
    recorded = post(client, body())
    progress = client.get(PROGRESS)

    assert (recorded.status_code, recorded.json()["error"]) == (401, "not_signed_in")
    assert (progress.status_code, progress.json()["error"]) == (401, "not_signed_in")
    assert stored() == [(), (), ()]


@pytest.mark.parametrize("persona", ["teacher", "school_admin", "support_staff"])
def test_a_grown_up_gets_403_and_nothing_is_stored(request, persona):
    client = Client()
    client.force_login(request.getfixturevalue(persona))

    recorded = post(client, body())
    progress = client.get(PROGRESS)

    assert (recorded.status_code, recorded.json()["error"]) == (403, "not_a_student")
    assert (progress.status_code, progress.json()["error"]) == (403, "not_a_student")
    assert stored() == [(), (), ()]


def test_a_rostered_student_records_too(rostered_student):
    client = Client()
    client.force_login(rostered_student)

    assert post(client, body()).status_code == 201
    assert PracticeRecord.objects.get().student_id == rostered_student.pk


def test_an_account_merged_while_signed_in_can_no_longer_record(
    as_student, legacy_student, rostered_student
):
    User.objects.filter(pk=legacy_student.pk).update(
        seat_state=SeatState.MERGED,
        merged_into=rostered_student,
        merged_at=timezone.now(),
        is_active=False,
    )

    response = post(as_student, body())

    assert response.status_code == 401
    assert stored() == [(), (), ()]


def test_a_record_sent_without_the_csrf_token_is_refused(legacy_student):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(legacy_student)

    assert post(browser, body()).status_code == 403
    assert stored() == [(), (), ()]


# --- my progress ---------------------------------------------------------------------------


def test_my_progress_shows_tracks_levels_and_counts_per_kind(as_student, legacy_student):
    for kind in ("practice", "test", "level_pass"):
        post(as_student, body(kind))
    post(as_student, body("practice", client_id="mult-1", track="multiplication"))

    response = as_student.get(PROGRESS)

    assert response.status_code == 200
    data = response.json()
    assert data["student"]["id"] == legacy_student.pk
    levels = {t["track"]: t["level"] for t in data["tracks"]}
    assert levels == {"addition": "B", "multiplication": "A"}
    addition = next(t for t in data["tracks"] if t["track"] == "addition")
    assert addition["started_at"] == dt.datetime.fromisoformat(RECORDED_AT).isoformat()
    assert addition["completed_at"] is None
    # a perfect test and a first pass of A each earn an award
    assert data["history"] == {
        "practice": 2,
        "test": 1,
        "level_pass": 1,
        "placement": 0,
        "award": 2,
    }


def test_a_new_student_has_no_tracks_and_zero_counts(as_student):
    data = as_student.get(PROGRESS).json()

    assert data["tracks"] == []
    assert set(data["history"].values()) == {0}


# --- two accounts: a student only ever sees and changes their own records -----------------


@pytest.fixture
def classmate(section) -> User:
    student = LegacyStudentFactory(account=section.account, school=section.school)
    enroll(section, student)
    return student


@pytest.mark.parametrize("neighbour", ["classmate", "other_legacy_student", "rostered_student"])
def test_a_student_sees_and_changes_only_their_own_records(
    request, as_student, legacy_student, neighbour
):
    other = request.getfixturevalue(neighbour)
    other_client = Client()
    other_client.force_login(other)
    # The neighbour has a history first, under the very client_id the student will use.
    assert post(other_client, body("level_pass")).status_code == 201
    assert post(other_client, body("test")).status_code == 201
    theirs = stored()

    # The same client_id from another child is a new record, not a replay and not a conflict.
    mine = post(as_student, body("level_pass", score=90))
    assert mine.status_code == 201
    assert mine.json()["id"] not in {r[0] for r in theirs[0]}

    my_view = as_student.get(PROGRESS).json()
    their_view = other_client.get(PROGRESS).json()
    assert my_view["student"]["id"] == legacy_student.pk
    assert my_view["history"]["level_pass"] == 1
    assert my_view["history"]["test"] == 0
    assert their_view["history"]["test"] == 1
    assert their_view["history"]["level_pass"] == 1
    assert PracticeRecord.objects.filter(student=other).count() == 2
    assert set(PracticeRecord.objects.filter(student=other).values_list("score", flat=True)) == {
        96,
        100,
    }
    assert PracticeRecord.objects.filter(student=legacy_student).count() == 1


def test_the_matrix_of_two_accounts_keeps_every_history_apart(
    legacy_student, other_legacy_student, section, other_section
):
    # Two students with the same username in two accounts, plus a rostered student each.
    people = [
        legacy_student,
        other_legacy_student,
        RosteredStudentFactory(account=section.account),
        RosteredStudentFactory(account=other_section.account),
    ]
    clients = []
    for n, person in enumerate(people):
        client = Client()
        client.force_login(person)
        clients.append(client)
        for i in range(n + 1):
            assert post(client, body(client_id=f"same-{i}")).status_code == 201

    for n, (person, client) in enumerate(zip(people, clients, strict=True)):
        assert client.get(PROGRESS).json()["history"]["practice"] == n + 1
        assert PracticeRecord.objects.filter(student=person).count() == n + 1
        assert PracticeRecord.objects.filter(origin_student=person).count() == n + 1


# --- concurrency (PostgreSQL) -------------------------------------------------------------


def _post_at_once(clients: list[Client], payloads: list[dict[str, Any]]) -> list[Any]:
    barrier = threading.Barrier(len(clients))
    responses: list[Any] = [None] * len(clients)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            responses[index] = post(clients[index], payloads[index])
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert all(not thread.is_alive() for thread in threads)
    return responses


def _signed_in(student: User, count: int) -> list[Client]:
    clients = []
    for _ in range(count):
        client = Client()
        client.force_login(student)
        clients.append(client)
    return clients


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_posts_of_one_record_store_it_once(legacy_student):
    clients = _signed_in(legacy_student, 10)

    responses = _post_at_once(clients, [body("level_pass")] * 10)

    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert PracticeRecord.objects.filter(student=legacy_student).count() == 1
    assert Award.objects.filter(student=legacy_student).count() == 1
    assert TrackProgress.objects.get(student=legacy_student).level == "B"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_passes_of_one_level_earn_one_star(legacy_student):
    clients = _signed_in(legacy_student, 4)
    payloads = [body("level_pass", client_id=f"device-{i}") for i in range(4)]

    responses = _post_at_once(clients, payloads)

    assert [r.status_code for r in responses] == [201] * 4
    assert PracticeRecord.objects.filter(student=legacy_student).count() == 4
    assert list(Award.objects.filter(student=legacy_student).values_list("kind", flat=True)) == [
        "level_star"
    ]
    assert TrackProgress.objects.get(student=legacy_student).level == "B"
