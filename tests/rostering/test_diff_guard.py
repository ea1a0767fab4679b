"""The diff and the guard alone: plain data in, plan out, no database."""

from __future__ import annotations

from carryover.rostering.engine.diff import plan_sync
from carryover.rostering.engine.state import ExistingPerson, ExistingState
from carryover.rostering.guard import Limits, check_guard
from carryover.rostering.models import empty_counts
from carryover.rostering.snapshot import Kind, Mode, Person, Snapshot
from tests.rostering.builders import district


def test_a_new_roster_is_all_creates() -> None:
    plan = plan_sync(district(students=3, teachers=1, sections=1), ExistingState(account_id=1))

    assert plan.problems == []
    assert plan.counts["created"] == {"schools": 1, "people": 4, "sections": 1, "enrollments": 4}
    assert [row.sis_id for row in plan.people_create] == ["t-0", "s-0", "s-1", "s-2"]
    assert plan.people_create[1].email is None  # students' emails are not kept


def test_duplicate_people_are_problems() -> None:
    twice = Person("s-1", "student", "A", "B", origin="GET /v3.0/users page 2")
    snapshot = Snapshot(source="t", people=(twice, twice), modes={Kind.PEOPLE: Mode.BULK})

    plan = plan_sync(snapshot, ExistingState(account_id=1))

    assert plan.problems == [
        "GET /v3.0/users page 2: duplicate person sourcedId 's-1' (first at GET /v3.0/users page 2)"
    ]


def test_a_bulk_roster_archives_who_is_missing_and_a_delta_does_not() -> None:
    state = ExistingState(account_id=1)
    state.people["gone"] = ExistingPerson(7, "student", "G", "O", "", None, None, False, "active")
    bulk = Snapshot(source="t", modes={Kind.PEOPLE: Mode.BULK})
    delta = Snapshot(source="t", modes={Kind.PEOPLE: Mode.DELTA})

    assert plan_sync(bulk, state).people_archive == [7]
    assert plan_sync(delta, state).people_archive == []


def test_guard_limits() -> None:
    counts = empty_counts()
    counts["archived"]["people"] = 10
    live = {"people": 100, "sections": 10, "enrollments": 0}

    assert check_guard(counts, live, Limits()) == ""
    counts["archived"]["people"] = 11
    assert check_guard(counts, live, Limits()) == (
        "it would archive 11 of 100 people (11%, limit 10%)"
    )
    counts["updated"]["sections"] = 8
    assert "update 8 of 10 sections (80%, limit 75%)" in check_guard(counts, live, Limits())
    assert check_guard(counts, {"people": 0}, Limits()) == ""  # nothing to protect yet
