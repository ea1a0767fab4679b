"""The kinds of noise that lost most on unseen districts (issue 13), the hard cases, and
inputs with nothing in them: what a sure row needs, and what never makes one."""

from __future__ import annotations

from dataclasses import replace

import pytest

from carryover.namematch.api import match_rows
from carryover.namematch.types import MatchResult, RosterStudent, TypedRow
from carryover.namematch.weights import SURE_PROBABILITY
from tests.namematch.helpers import TODAY, classmates, numbered, row, student

AIDEN = student(1, "Aiden", "Kowalczyk")
MARYKATE = student(2, "Mary-Kate", "Abernathy")
JUAN = student(3, "Juan Carlos", "Restrepo")
MARIA = student(4, "Maria", "Fairweather", middle="Josefina")
MINH = student(5, "Minh", "Nguyen", preferred="Kevin")
ROSA = student(6, "Rosalind", "Ashcombe")
ALL = [AIDEN, MARYKATE, JUAN, MARIA, MINH, ROSA]


def _one(typed: TypedRow, roster: list[RosterStudent] | None = None) -> MatchResult:
    (result,) = match_rows(numbered([typed]), [*classmates(), *(roster or ALL)], today=TODAY)
    return result


def _sure_of(result: MatchResult, expected: RosterStudent) -> None:
    assert result.decision == "sure", result.reasons
    assert result.student == expected
    assert result.probability >= SURE_PROBABILITY
    # The row's probability is its proposed student's, to the last digit.
    assert result.candidates[0].student == expected
    assert result.candidates[0].probability == result.probability


@pytest.mark.parametrize(
    ("typed", "username", "expected", "reason"),
    [
        ("Kowalczyk, Aiden", "akowal", AIDEN, "typed as Last, First"),
        ("Aidne Kowalczyk", "akowal", AIDEN, "typo Aidne ↔ Aiden"),
        ("Kowalczyk Aiden", "akowal", AIDEN, "given and family name swapped"),
        ("AIDEN KOWALCZYK", "akowal", AIDEN, "same name Aiden Kowalczyk"),
        ("Aidan Kowalczyk", "akowal", AIDEN, "typo Aidan ↔ Aiden"),
        ("Mary Abernathy", "mabern", MARYKATE, "first part of the given name Mary ↔ Mary-Kate"),
        ("Juan Restrepo", "jrestrepo", JUAN, "first part of the given name Juan ↔ Juan Carlos"),
        ("Josefina Fairweather", "jfair", MARIA, "goes by the middle name Josefina"),
        ("Kevin Nguyen", "knguyen", MINH, "preferred name Kevin"),
        ("Rosalnid Ashcombe", "rash", ROSA, "typo Rosalnid ↔ Rosalind"),
    ],
)
def test_each_kind_of_noise_that_lost_most_is_sure_with_its_reason(
    typed: str, username: str, expected: RosterStudent, reason: str
) -> None:
    result = _one(row(typed, username))

    _sure_of(result, expected)
    assert any(reason in r for r in result.reasons), result.reasons


def test_a_preferred_name_typed_matches_the_legal_name_on_the_roster() -> None:
    kevin = _one(row("Kevin Nguyen", "tiger22"))
    legal = _one(row("Minh Nguyen", "tiger22"))

    _sure_of(kevin, MINH)
    _sure_of(legal, MINH)
    assert "preferred name Kevin" in kevin.reasons


def test_a_child_who_left_with_an_enrolled_namesake_is_not_sure_on_the_name_alone() -> None:
    # Liam Carter left; another Liam Carter is enrolled. The file says nothing else
    # about the old account: no grade, no school, no class, a made-up username.
    namesake = student(7, "Liam", "Carter", "2", school="Birch Elementary")
    bare = replace(
        row("Liam Carter", "rocket5", old_grade=None, school="", teacher="", klass=""),
        last_practised=None,
    )
    against = row("Liam Carter", "rocket5", old_grade=3)  # expects grade 4 at Maple

    alone = _one(bare, [namesake])
    contradicted = _one(against, [namesake])

    assert alone.decision == "review" and alone.student == namesake
    assert any("nothing but the name" in r for r in alone.reasons), alone.reasons
    assert contradicted.decision != "sure"
    # Grade 2 at Birch is not where last year's third grader at Maple would be.
    assert all(any("contradicts" in r for r in c.reasons) for c in contradicted.candidates), (
        contradicted.candidates
    )


def test_a_namesake_is_sure_only_when_the_evidence_that_is_not_the_name_agrees() -> None:
    enrolled = student(7, "Liam", "Carter", "4")  # grade 4 at Maple, as the old class says

    agreeing = _one(row("Liam Carter", "liamc", old_grade=3), [enrolled])

    _sure_of(agreeing, enrolled)
    assert "grade 3 → 4" in agreeing.reasons


def test_a_first_initial_alone_is_never_sure_when_two_children_share_it_and_the_surname() -> None:
    jacob = student(8, "Jacob", "Brooks", "4")
    julia = student(9, "Julia", "Brooks", "1")  # a grade that does not fit: still not sure

    (result,) = match_rows(
        numbered([row("J. Brooks", "tiger9", old_grade=3)]),
        [*classmates(), jacob, julia],
        today=TODAY,
    )

    assert result.decision == "review"
    assert result.student == jacob  # the grade fits him, yet Julia Brooks is J. Brooks too
    assert any("another enrolled child has that initial" in r for r in result.reasons)


def test_a_first_initial_with_no_other_child_of_that_surname_and_initial_can_be_sure() -> None:
    jacob = student(8, "Jacob", "Ravensworth", "4")

    result = _one(row("J. Ravensworth", "jravensworth", old_grade=3), [jacob])

    assert result.student == jacob


def test_no_school_on_the_roster_is_matched_without_a_crash() -> None:
    """The bug: `context_weights` indexed an empty table of schools."""
    roster = [replace(s, school="") for s in [*classmates(), *ALL]]
    rows = numbered([row("Aiden Kowalczyk", "akowal"), row("Kevin Nguyen", "kn")])

    results = match_rows(rows, roster, today=TODAY)

    assert [r.student for r in results] == [replace(AIDEN, school=""), replace(MINH, school="")]
    assert not any("same school" in reason for r in results for reason in r.reasons)
