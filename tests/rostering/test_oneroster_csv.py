"""OneRoster CSV -> snapshot, alone (no database): the public samples and broken packages."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from carryover.rostering.errors import SourceError
from carryover.rostering.snapshot import Kind, Mode, Rejected
from carryover.rostering.sources.oneroster_csv import read_oneroster_csv
from tests.rostering.builders import district, write_oneroster

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "oneroster-samples"
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason="../shared/data/oneroster-samples is not on this machine"
)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(SourceError) as refused:
        read_oneroster_csv(path)
    return refused.value.problems


@needs_samples
def test_public_1_1_bulk_sample() -> None:
    snapshot = read_oneroster_csv(SAMPLES / "or11_Test_full_data_set")

    assert snapshot.modes == {kind: Mode.BULK for kind in Kind}
    assert [p.sourced_id for p in snapshot.people] == [
        "usr-222-123456",
        "usr-222-66778899",
        "usr-222-987654",
        "usr-222-1234561232",
        "usr-222-567891",
    ]
    john = snapshot.people[0]
    assert (john.role, john.given_name, john.family_name, john.grade) == (
        "teacher",
        "John",
        "Doe",
        "12",
    )
    assert john.school_ids == ("org-sch-222-456",)
    assert [s.sourced_id for s in snapshot.sections] == ["cls-222-123456"]
    assert snapshot.deleted_ids(Kind.SECTIONS) == {"cls-222-123478"}
    assert len(snapshot.enrollments) == 3
    assert snapshot.rejected == (
        Rejected(
            "users.csv line 4", "role 'parent' is not rostered here (students and teachers only)"
        ),
        Rejected("enrollments.csv line 5", "class 'cls-222-123478' is marked tobedeleted"),
        Rejected("enrollments.csv line 6", "class 'cls-222-123478' is marked tobedeleted"),
        Rejected("enrollments.csv line 7", "class 'cls-222-123478' is marked tobedeleted"),
    )


@needs_samples
def test_public_1_2_delta_sample_takes_roles_from_roles_csv() -> None:
    snapshot = read_oneroster_csv(SAMPLES / "or12_oneroster_test_data_delta")

    assert snapshot.modes == {kind: Mode.DELTA for kind in Kind}
    (bruce,) = snapshot.people
    assert (bruce.sourced_id, bruce.role, bruce.school_ids) == ("USER_0", "student", ("ORG_1",))
    assert snapshot.enrollments[0].key == ("CLASS_001", "USER_0")
    assert snapshot.orgs[0].type == "school"


@needs_samples
def test_the_defective_public_sample_is_refused_with_every_problem_named() -> None:
    problems = problems_of(SAMPLES / "or12_v1p2_full_dataset")

    assert problems == [
        "manifest.csv line 21: file.scoreScales must be bulk, delta or absent, got ''",
        "manifest.csv line 22: file.userProfiles must be bulk, delta or absent, got ''",
        "manifest.csv line 23: file.userResources must be bulk, delta or absent, got ''",
        "userprofiles.csv: not a OneRoster 1.2 file name (did you mean 'userProfiles.csv'?); "
        "it is an exact copy of roles.csv",
        "roles.csv line 1: unknown column 'dataLastModified' (did you mean 'dateLastModified'?)",
        "roles.csv line 1: column 10 has no name",
        "roles.csv line 1: column 11 has no name",
        "roles.csv line 1: required column 'dateLastModified' is missing",
        *(
            f"users.csv line 1: unknown column 'preffered{part}Name' "
            f"(did you mean 'preferred{part}Name'?)"
            for part in ("Given", "Middle", "Family")
        ),
        "users.csv line 2: dateLastModified '1/05/2023' is not an ISO 8601 date (YYYY-MM-DD...)",
        "users.csv line 4: dateLastModified '1/05/2023' is not an ISO 8601 date (YYYY-MM-DD...)",
        "users.csv line 5: dateLastModified '1/05/2023' is not an ISO 8601 date (YYYY-MM-DD...)",
        "users.csv line 6: dateLastModified '1/05/2023' is not an ISO 8601 date (YYYY-MM-DD...)",
        "users.csv line 7: dateLastModified '15/06/2023' is not an ISO 8601 date (YYYY-MM-DD...)",
    ]


def test_a_zip_reads_the_same_as_its_folder(tmp_path: Path) -> None:
    folder = write_oneroster(tmp_path / "roster", district(students=5))
    archive = shutil.make_archive(str(tmp_path / "roster"), "zip", folder)

    from_folder = read_oneroster_csv(folder)
    from_zip = read_oneroster_csv(archive)

    assert from_zip.people == from_folder.people
    assert from_zip.enrollments == from_folder.enrollments
    assert len(from_zip.people) == 7


def test_a_zip_of_the_folder_itself_is_read_inside_the_folder(tmp_path: Path) -> None:
    folder = write_oneroster(tmp_path / "roster", district(students=2))
    archive = tmp_path / "nested.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in folder.iterdir():
            zf.write(file, f"roster/{file.name}")

    assert len(read_oneroster_csv(archive).people) == 4


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    return write_oneroster(tmp_path / "roster", district(students=3, teachers=1, sections=1))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_row_with_too_many_fields(roster: Path) -> None:
    edit(roster / "users.csv", "Kid1,Ramirez", "Kid1,Ramirez,extra")

    assert problems_of(roster) == ["users.csv line 4: 19 fields, but the header has 18 columns"]


def test_an_unterminated_quote(roster: Path) -> None:
    edit(roster / "classes.csv", "Room 0", '"Room 0')

    (problem,) = problems_of(roster)
    assert problem.startswith("classes.csv line 2: malformed CSV")


def test_text_that_is_not_utf8(roster: Path) -> None:
    data = (roster / "users.csv").read_bytes().replace(b"Kid2", b"K\xe9d2")
    (roster / "users.csv").write_bytes(data)

    assert problems_of(roster) == ["users.csv line 5: not UTF-8 text"]


def test_an_unknown_oneroster_version(roster: Path) -> None:
    edit(roster / "manifest.csv", "oneroster.version,1.1", "oneroster.version,1.3")

    assert problems_of(roster) == [
        "manifest.csv line 3: unknown OneRoster version '1.3' (supported: 1.1, 1.2)"
    ]


def test_a_missing_manifest(roster: Path) -> None:
    (roster / "manifest.csv").unlink()

    assert problems_of(roster) == ["manifest.csv is missing from roster"]


def test_a_declared_file_that_is_missing(roster: Path) -> None:
    (roster / "enrollments.csv").unlink()

    assert problems_of(roster) == [
        "manifest.csv says file.enrollments is bulk, but enrollments.csv is missing"
    ]


def test_a_missing_required_column(roster: Path) -> None:
    edit(roster / "enrollments.csv", "userSourcedId", "personSourcedId")

    assert problems_of(roster) == [
        "enrollments.csv line 1: unknown column 'personSourcedId' (did you mean 'userSourcedId'?)",
        "enrollments.csv line 1: required column 'userSourcedId' is missing",
    ]


def test_duplicate_sourced_ids(roster: Path) -> None:
    edit(roster / "users.csv", "s-2,", "s-1,")

    assert problems_of(roster) == ["users.csv line 5: duplicate sourcedId 's-1' (first on line 4)"]


def test_a_delta_row_without_status(roster: Path) -> None:
    edit(roster / "manifest.csv", "file.users,bulk", "file.users,delta")

    assert problems_of(roster)[0] == "users.csv line 2: status is required in a delta file"


def test_a_blank_required_value(roster: Path) -> None:
    edit(roster / "users.csv", "Kid0,Ramirez", ",Ramirez")

    assert problems_of(roster) == ["users.csv line 3: givenName must not be blank"]


def test_tobedeleted_and_disabled_users_are_deletions(roster: Path) -> None:
    edit(roster / "users.csv", "s-0,,,true", "s-0,tobedeleted,2024-05-01,true")
    edit(roster / "users.csv", "s-1,,,true", "s-1,,,false")

    snapshot = read_oneroster_csv(roster)

    assert snapshot.deleted_ids(Kind.PEOPLE) == {"s-0", "s-1"}
    assert [p.sourced_id for p in snapshot.people] == ["t-0", "s-2"]
    assert [r.reason for r in snapshot.rejected] == [
        "user 's-0' is marked tobedeleted or disabled",
        "user 's-1' is marked tobedeleted or disabled",
    ]
