"""match_rows: each kind of noise a teacher types, and each hard case."""

from __future__ import annotations

from datetime import date

import pytest

from carryover.namematch.api import match_rows
from carryover.namematch.types import MatchResult, RosterStudent, TypedRow
from tests.namematch.helpers import TODAY, classmates, numbered, row, student

MAYA = student(1, "Maya", "Ramírez")
JOSE = student(2, "José", "Díaz")
ROBERT = student(3, "Robert", "Smith", preferred="Bob")
ANNA = student(4, "Anna", "Smith-Jones")
MARYKATE = student(5, "Mary-Kate", "Lee")
SEAN = student(6, "Sean", "O'Brien")
MARIA = student(7, "Maria", "Lopez", middle="Josefina")
JONATHAN = student(8, "Jonathan", "Whitaker")


def _match(rows: list[TypedRow], extra: list[RosterStudent]) -> list[MatchResult]:
    return match_rows(numbered(rows), [*classmates(), *extra], today=TODAY)


def _one(typed: TypedRow, *extra: RosterStudent) -> MatchResult:
    roster = list(extra) or [MAYA, JOSE, ROBERT, ANNA, MARYKATE, SEAN, MARIA, JONATHAN]
    (result,) = _match([typed], roster)
    return result


def _sure(result: MatchResult, expected: RosterStudent) -> None:
    assert result.decision == "sure", result.reasons
    assert result.student == expected
    assert result.candidates[0].student == expected


@pytest.mark.parametrize(
    ("typed", "username", "expected", "reason"),
    [
        ("Maya Ramirez", "mayar7", MAYA, "without accents"),
        ("MAYA RAMIREZ", "mayar7", MAYA, "username mayar7 resembles Maya Ramírez"),
        ("Díaz, José", "jdiaz2", JOSE, "typed as Last, First"),
        ("Ramirez Maya", "mayar7", MAYA, "swapped"),
        ("Bob Smith", "tiger22", ROBERT, "preferred name Bob"),
        ("Jonahtan Whitaker", "panda15", JONATHAN, "typo Jonahtan ↔ Jonathan"),
        ("Jonathan Whitakre", "panda15", JONATHAN, "typo Whitakre ↔ Whitaker"),
        ("Anna Smith Jones", "asmith", ANNA, "hyphen or space Smith Jones ↔ Smith-Jones"),
        ("Anna Smithjones", "asmith", ANNA, "hyphen dropped Smithjones ↔ Smith-Jones"),
        ("Mary Kate Lee", "mklee", MARYKATE, "grade 3 → 4"),
        ("Sean OBrien", "seano", SEAN, "same school Maple Elementary"),
        ("Maria Josefina Lopez", "mlopez", MARIA, "middle name Josefina"),
        ("Maria J. Lopez", "mlopez", MARIA, "middle name Josefina"),
        ("  maria   lopez ", "mlopez", MARIA, "grade 3 → 4"),
    ],
)
def test_each_kind_of_noise_is_matched_for_sure_with_its_reason(
    typed: str, username: str, expected: RosterStudent, reason: str
) -> None:
    result = _one(row(typed, username))

    _sure(result, expected)
    assert any(reason in r for r in result.reasons), result.reasons


def test_initials_find_the_student_and_say_so() -> None:
    given_initial = _one(row("J. Diaz", "jdiaz2"))
    family_initial = _one(row("Jonathan W.", "jonathanw"))

    assert given_initial.student == JOSE
    assert any("initial J. ↔ José" in r for r in given_initial.reasons)
    assert family_initial.student == JONATHAN
    assert any("initial W. ↔ Whitaker" in r for r in family_initial.reasons)


def test_a_nickname_finds_the_formal_name_and_says_so() -> None:
    result = _one(row("Bobby Smith", "rsmith"))

    assert result.student == ROBERT
    assert "nickname Bobby ↔ Robert" in result.reasons
    assert result.probability >= 0.99
    assert result.candidates[0].probability == result.probability


def test_the_username_tells_the_typed_nickname_from_the_formal_name() -> None:
    result = _one(row("Bobby Smith", "robertsm"))

    _sure(result, ROBERT)
    assert "username robertsm resembles Robert Smith" in result.reasons


def test_grade_progression_and_practice_levels_pick_between_namesakes() -> None:
    older = student(20, "Liam", "Johnson", "4")
    younger = student(21, "Liam", "Johnson", "1")
    by_grade = _match([row("Liam Johnson", "lj1", old_grade=3)], [older, younger])[0]
    from dataclasses import replace

    from carryover.namematch.types import TrackLevel

    by_tracks = _match(
        [
            replace(
                row("Liam Johnson", "lj1", old_grade=None), tracks=(TrackLevel("Division", "H"),)
            )
        ],
        [student(20, "Liam", "Johnson", "5"), student(21, "Liam", "Johnson", "K")],
    )[0]

    # The grade picks the older Liam; with one namesake in a grade that does not fit,
    # the row is his, though a child of this name may have left (not sure).
    assert by_grade.student == older
    assert by_grade.probability > 0.98
    assert all(c.probability < 0.01 for c in by_grade.candidates if c.student == younger)
    assert "grade 3 → 4" in by_grade.reasons
    assert by_tracks.student is not None and by_tracks.student.id == 20
    other = next(c for c in by_tracks.candidates if c.student.id == 21)
    assert any("contradicts" in r for r in other.reasons)


def test_two_students_with_the_same_name_go_to_review_with_both_candidates() -> None:
    a = student(20, "Liam", "Johnson", "4", teacher="Ana Lopez")
    b = student(21, "Liam", "Johnson", "4", teacher="Ben Ortiz")

    (result,) = _match([row("Liam Johnson", "tiger22")], [a, b])

    assert result.decision == "review"
    assert {c.student.id for c in result.candidates[:2]} == {20, 21}
    assert result.score <= 0.6
    assert any("also fits" in r for r in result.reasons)


def test_twins_typed_correctly_are_each_sure_of_their_own_twin() -> None:
    ethan = student(30, "Ethan", "Brooks", "2")
    evan = student(31, "Evan", "Brooks", "2")

    results = _match(
        [row("Ethan Brooks", "ethanb", old_grade=1), row("Evan Brooks", "evanb", old_grade=1)],
        [ethan, evan],
    )

    assert [(r.decision, r.student) for r in results] == [("sure", ethan), ("sure", evan)]


def test_a_twin_typed_ambiguously_goes_to_review_with_both_twins() -> None:
    mia = student(30, "Mia", "Brooks", "2")
    maya = student(31, "Maya", "Brooks", "2")

    (result,) = _match([row("M. Brooks", "tiger9", old_grade=1)], [mia, maya])

    assert result.decision == "review"
    assert {c.student.id for c in result.candidates[:2]} == {30, 31}


def test_siblings_are_told_apart_by_grade() -> None:
    julia = student(40, "Julia", "Garcia", "4")
    jorge = student(41, "Jorge", "Garcia", "1")

    (result,) = _match([row("J. Garcia", "jgarcia", old_grade=3)], [julia, jorge])

    assert result.student == julia
    assert result.decision in ("sure", "review")
    assert all(c.score < 0.05 for c in result.candidates if c.student == jorge)


def test_a_child_who_left_gets_none() -> None:
    (result,) = _match([row("Penelope Vanderbilt", "pvan")], [MAYA, JOSE])

    assert result.decision == "none"
    assert result.student is None


@pytest.mark.parametrize(
    ("namesake", "typed"),
    [
        # The grade contradicts: the typed child was in grade 3, the namesake is in grade 1.
        (student(50, "Maya", "Ramírez", "1"), row("Maya Ramirez", "mayar7", old_grade=3)),
        # The class (its grade, in its name) contradicts.
        (
            student(50, "Maya", "Ramírez", "1"),
            row("Maya Ramirez", "mayar7", old_grade=None, klass="Grade 3 - Kim"),
        ),
        # The username contradicts: jdiaz2 was built from another child's name.
        (student(50, "Maya", "Ramírez", "4"), row("Maya Ramirez", "jdiaz2", old_grade=3)),
        # This school year's class and teacher contradict (an account used until go-live).
        (
            student(50, "Maya", "Ramírez", "3", teacher="Ben Ortiz", klass="Room 9"),
            row(
                "Maya Ramirez",
                "mr1",
                old_grade=3,
                teacher="Ms. Kim",
                klass="Room 7",
                last_practised=date(2025, 9, 1),
            ),
        ),
        # The practice levels contradict: Multiplication last year, kindergarten now.
        (student(50, "Maya", "Ramírez", "K"), row("Maya Ramirez", "mr1", old_grade=None)),
    ],
)
def test_a_child_who_left_is_never_sure_of_a_namesake_something_contradicts(
    namesake: RosterStudent, typed: TypedRow
) -> None:
    from dataclasses import replace

    from carryover.namematch.types import TrackLevel

    typed = replace(typed, tracks=(TrackLevel("Multiplication", "G"),))

    (result,) = _match([typed], [namesake, JOSE])

    assert result.decision != "sure"
    assert any("not sure" in r for r in result.reasons) or result.decision == "none"


def test_held_back_goes_to_review() -> None:
    (result,) = _match([row("Maya Ramirez", "mayar7", old_grade=4)], [MAYA])

    assert result.decision == "review"
    assert result.student == MAYA
    assert "grade 4 → 4 (same grade again)" in result.reasons
    assert any(r.startswith("not sure: the grade") for r in result.reasons)


def test_two_rows_never_get_the_same_student() -> None:
    results = _match(
        [row("Liam Smith", "lsmith1"), row("Liam Smith", "lsmith2")],
        [student(60, "Liam", "Smith", "4")],
    )

    proposed = [r.student.id for r in results if r.student is not None]
    assert len(proposed) == len(set(proposed)) == 1
    assert all(r.decision != "sure" for r in results)


def test_results_keep_the_rows_order_and_candidates_are_best_first() -> None:
    rows = [row("Jose Diaz", "jdiaz2"), row("Nobody Atall", "zz"), row("Maya Ramirez", "mayar7")]

    results = _match(rows, [MAYA, JOSE])

    assert [r.row.username for r in results] == ["jdiaz2", "zz", "mayar7"]
    for result in results:
        scores = [c.score for c in result.candidates]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= c.score <= 1.0 for c in result.candidates)


def test_an_empty_name_gets_none() -> None:
    (result,) = _match([row("", "tiger22")], [MAYA])

    assert result.decision == "none"
    assert result.candidates == ()


# --- reasons a reviewer can act on ---------------------------------------------------------


def test_a_blank_name_says_no_name_was_typed() -> None:
    result = _one(row("", "tiger22"))

    assert result.decision == "none"
    assert result.reasons == ("no name typed",)


def test_only_a_given_name_typed_says_so() -> None:
    result = _one(row("Jonathan", "panda15"))

    assert result.reasons[0] == "only the given name typed (Jonathan)"
    assert result.student == JONATHAN


def test_only_a_family_name_typed_says_so() -> None:
    result = _one(row("Whitaker", "panda15"))

    assert "only one name typed (a family name)" in result.reasons


def test_the_same_child_typed_on_two_rows_says_which_other_row() -> None:
    results = _match([row("Maya Ramirez", "panda15"), row("Maya Ramirez", "tiger22")], [MAYA])

    first, second = results
    assert [r.decision for r in results] == ["review", "review"]
    assert (first.student, second.student) == (None, MAYA)  # one child, one row at most
    assert first.reasons == ("Maya Ramírez fits row 3 (tiger22) better",)
    assert second.reasons[-1] == "not sure: row 2 (panda15) also names Maya Ramírez"
