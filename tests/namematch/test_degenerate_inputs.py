"""Empty and degenerate inputs: the matcher answers, one result per row, and never gives
one student to two rows (hypothesis draws the inputs; no Django, no database)."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carryover.namematch.api import match_rows
from carryover.namematch.links import suggest_links
from carryover.namematch.types import LegacyAccount, RosterStudent, TypedRow

TODAY = date(2025, 9, 15)
# Words that collide on purpose (a small pool), with the odd characters files carry.
WORD = st.sampled_from(
    ["Ana", "ana", "ANA", "Li", "Lee", "José", "Jose", "O'Neil", "Smith-Jones", "Ng", "X"]
)
TEXT = st.one_of(
    st.just(""),
    st.text(alphabet=" ,.-'()\"\t", max_size=6),
    st.lists(WORD, min_size=1, max_size=5).map(" ".join),
    st.text(max_size=12),
)
GRADE = st.sampled_from(["", "K", "PK", "3", "03", "12", "13", "Kindergarten", "?"])
SCHOOL = st.sampled_from(["", "Maple", "maple ", "Oak"])


@st.composite
def rosters(draw: st.DrawFn) -> list[RosterStudent]:
    size = draw(st.integers(min_value=0, max_value=12))
    return [
        RosterStudent(
            id=i + 1,
            first_name=draw(TEXT),
            last_name=draw(TEXT),
            middle_name=draw(st.one_of(st.just(""), WORD)),
            preferred_name=draw(st.one_of(st.just(""), WORD)),
            grade=draw(GRADE),
            school=draw(SCHOOL),
            teachers=tuple(draw(st.lists(TEXT, max_size=2))),
            classes=tuple(draw(st.lists(TEXT, max_size=2))),
        )
        for i in range(size)
    ]


@st.composite
def typed_rows(draw: st.DrawFn) -> list[TypedRow]:
    size = draw(st.integers(min_value=0, max_value=10))
    return [
        TypedRow(
            row_number=i + 2,
            typed_name=draw(TEXT),
            username=draw(st.one_of(st.just(""), st.text(max_size=10), WORD)),
            old_grade=draw(st.one_of(st.none(), st.integers(min_value=-1, max_value=12))),
            old_school=draw(SCHOOL),
            old_class=draw(TEXT),
            old_teacher=draw(TEXT),
            last_practised=draw(
                st.one_of(st.none(), st.dates(min_value=date(2015, 1, 1), max_value=TODAY))
            ),
        )
        for i in range(size)
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(typed=typed_rows(), roster=rosters())
def test_match_rows_answers_every_row_and_never_gives_a_student_twice(typed, roster) -> None:
    results = match_rows(typed, roster, today=TODAY)

    assert [r.row for r in results] == typed
    taken = [r.student.id for r in results if r.student is not None]
    assert len(taken) == len(set(taken))
    for r in results:
        assert r.decision in ("sure", "review", "none")
        assert 0.0 <= r.probability <= 1.0
        if r.decision == "none":
            assert r.student is None
        if r.decision == "sure":
            assert r.student is not None and r.probability >= 0.999
        assert sum(c.probability for c in r.candidates) <= 1.0 + 1e-9


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(legacy=typed_rows(), roster=rosters())
def test_suggest_links_answers_every_student_and_never_offers_an_account_twice(
    legacy, roster
) -> None:
    accounts = [
        LegacyAccount(
            username=r.username, legacy_id=i, old_grade=r.old_grade, old_school=r.old_school
        )
        for i, r in enumerate(legacy)
    ]

    results = suggest_links(roster, accounts, today=TODAY)

    assert [r.student for r in results] == roster
    linked = [r.legacy.legacy_id for r in results if r.legacy is not None]
    assert len(linked) == len(set(linked))
    for r in results:
        if r.decision == "sure":
            assert r.probability >= 0.999


def test_nothing_at_all() -> None:
    assert match_rows([], [], today=TODAY) == []
    assert suggest_links([], [], today=TODAY) == []
    (only,) = match_rows([TypedRow(username="x", typed_name="Ana Lee")], [], today=TODAY)
    assert only.decision == "none" and only.student is None and only.probability == 0.0
