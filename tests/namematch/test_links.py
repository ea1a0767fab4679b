"""suggest_links: the old account of each rostered student, without a file."""

from __future__ import annotations

from datetime import date

from carryover.namematch.links import suggest_links
from carryover.namematch.types import LegacyAccount
from tests.namematch.helpers import SCHOOL, SPRING, TODAY, classmates, student

MAYA = student(1, "Maya", "Ramírez")
JOSE = student(2, "José", "Díaz")
ROBERT = student(3, "Robert", "Smith", preferred="Bob")
LILY = student(4, "Lily", "Chen")


def _legacy(username: str, old_grade: int | None = 3, **extra: object) -> LegacyAccount:
    values: dict[str, object] = {
        "old_grade": old_grade,
        "old_school": SCHOOL,
        "old_teacher": "Ms. Kim",
        "last_practised": SPRING,
    }
    values.update(extra)
    return LegacyAccount(username=username, **values)  # type: ignore[arg-type]


def test_usernames_that_resemble_the_names_are_suggested_with_reasons() -> None:
    legacy = [_legacy("jdiaz2"), _legacy("mayar7"), _legacy("bobbys"), _legacy("tiger22")]

    results = suggest_links([MAYA, JOSE, ROBERT, LILY, *classmates()], legacy, today=TODAY)

    by_student = {r.student.id: r for r in results}
    assert by_student[1].legacy is not None and by_student[1].legacy.username == "mayar7"
    assert by_student[2].legacy is not None and by_student[2].legacy.username == "jdiaz2"
    assert by_student[3].legacy is not None and by_student[3].legacy.username == "bobbys"
    assert "username mayar7 resembles Maya Ramírez" in by_student[1].reasons
    assert "grade 3 → 4" in by_student[1].reasons
    # A school's four old accounts: the resemblance makes mayar7 Maya's by far, and
    # "likely" is left to the calibrated probability (a sure Plan B row's).
    assert by_student[1].probability > max(
        [0.0, *(c.probability for c in by_student[1].candidates[1:])]
    )
    assert (by_student[1].decision == "sure") == (by_student[1].probability >= 0.999)
    assert by_student[4].decision != "sure"
    assert [r.student for r in results[:4]] == [MAYA, JOSE, ROBERT, LILY]


def test_same_teacher_this_school_year_links_a_made_up_username() -> None:
    account = _legacy(
        "rocket5", old_grade=4, old_teacher="Ms. Lopez", last_practised=date(2025, 9, 5)
    )
    other = _legacy("comet9", old_grade=4, old_teacher="Mr. Park", last_practised=date(2025, 9, 5))
    lily = student(4, "Lily", "Chen", teacher="Ana Lopez")

    results = suggest_links([lily], [account, other], today=TODAY)

    assert results[0].legacy == account
    assert "same teacher Ms. Lopez" in results[0].reasons


def test_a_contradicting_grade_is_never_sure() -> None:
    results = suggest_links([MAYA], [_legacy("mayar7", old_grade=0)], today=TODAY)

    assert results[0].decision != "sure"


def test_one_old_account_goes_to_one_student_at_most() -> None:
    twin_a = student(10, "Mia", "Brooks", "2")
    twin_b = student(11, "Maya", "Brooks", "2")

    results = suggest_links([twin_a, twin_b], [_legacy("mbrooks", old_grade=1)], today=TODAY)

    linked = [r for r in results if r.legacy is not None]
    assert len(linked) == 1
    assert all(r.decision != "sure" for r in results)


def _district_pool(size: int) -> list[LegacyAccount]:
    """`size` old accounts of a large subscription, none resembling the class below:
    made-up usernames, other schools, other teachers."""
    words = ["tiger", "comet", "rocket", "panda", "zebra", "otter", "falcon", "maple"]
    return [
        LegacyAccount(
            username=f"{words[i % len(words)]}{i}",
            old_grade=3,
            old_school=f"School {i % 40}",
            old_teacher=f"Mx. Teacher{i % 300}",
            last_practised=SPRING,
        )
        for i in range(size)
    ]


def test_a_username_only_one_account_fits_is_still_suggested_in_a_large_pool() -> None:
    # A district: thousands of old accounts. mayar7 is the only one resembling Maya
    # Ramírez, so its resemblance counts for as much as in a school of thirty.
    for size in (30, 2_000, 20_000):
        legacy = [*_district_pool(size), _legacy("mayar7"), _legacy("jdiaz2")]

        results = suggest_links([MAYA, JOSE, LILY, *classmates()], legacy, today=TODAY)

        by_student = {r.student.id: r for r in results}
        assert by_student[1].legacy is not None, size
        assert by_student[1].legacy.username == "mayar7", size
        assert by_student[2].legacy is not None and by_student[2].legacy.username == "jdiaz2"
        assert by_student[4].decision == "none", size  # Lily: nothing resembles her


def test_a_username_that_fits_many_old_accounts_is_weak_evidence() -> None:
    # Thirty old accounts look like "Maya R": none of them is sure to be hers.
    legacy = [
        _legacy(f"mayar{i}", old_teacher=f"Mx. Teacher{i}", old_school=f"School {i}")
        for i in range(30)
    ]

    results = suggest_links([MAYA, *classmates()], legacy, today=TODAY)

    assert results[0].decision != "sure"


def test_a_username_built_from_the_preferred_name_links_the_student() -> None:
    kevin = student(12, "Minh", "Nguyen", preferred="Kevin")

    results = suggest_links([kevin, *classmates()], [_legacy("kevinn4")], today=TODAY)

    assert results[0].legacy is not None and results[0].legacy.username == "kevinn4"
    assert "username kevinn4 resembles Minh Nguyen" in results[0].reasons


def test_the_class_of_year_in_a_username_speaks_for_the_grade_it_names() -> None:
    # 2025-26: a fourth grader finishes grade 12 in 2034, a first grader in 2037.
    fourth = student(13, "Maya", "Ramírez", "4")
    first = student(14, "Maya", "Ramírez", "1", teacher="Ben Ortiz")

    results = suggest_links([fourth, first], [_legacy("mramirez2034", old_grade=None)], today=TODAY)

    by_student = {r.student.id: r for r in results}
    assert by_student[13].legacy is not None
    assert "username mramirez2034: class of 2034 fits grade 4" in by_student[13].reasons
    assert by_student[14].legacy is None
    other = next(c for c in by_student[14].candidates if c.legacy.username == "mramirez2034")
    assert "username mramirez2034: class of 2034 does not fit grade 1" in other.reasons


def test_likely_means_the_calibrated_probability_of_a_sure_plan_b_row() -> None:
    legacy = [_legacy("jdiaz2"), _legacy("mayar7"), _legacy("bobbys"), _legacy("tiger22")]

    results = suggest_links([MAYA, JOSE, ROBERT, LILY, *classmates()], legacy, today=TODAY)

    for r in results:
        assert (r.decision == "sure") <= (r.probability >= 0.999)
        for c in r.candidates:
            if r.legacy is not None and c.legacy == r.legacy:
                assert c.probability == r.probability
