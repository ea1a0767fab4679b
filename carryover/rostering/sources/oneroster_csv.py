"""OneRoster CSV (1.1 and 1.2, bulk and delta) -> Snapshot.

Reads manifest.csv first, then orgs, users (and roles for 1.2), classes and
enrollments. Every problem found is collected with its file and line and the whole
package is refused if there is any: a roster is never half-applied. Rows that are
fine but not ours (parents, aides, enrollments in a class being removed) are kept
as `Rejected` with the reason.
"""

from __future__ import annotations

import csv
import itertools
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from carryover.rostering.errors import SourceError
from carryover.rostering.snapshot import (
    ROSTERED_ROLES,
    Enrollment,
    Kind,
    Mode,
    Org,
    Person,
    Rejected,
    Section,
    Snapshot,
    first_grade,
)
from carryover.rostering.sources.csvfiles import (
    ISO_DATE_RE,
    Bundle,
    FileSpec,
    Table,
    did_you_mean,
)

Progress = Callable[[str], None]

SUPPORTED_VERSIONS = ("1.1", "1.2")
MANIFEST_VERSIONS = ("1.0",)
_COMMON = ("sourcedId", "status", "dateLastModified")

FILES_11 = (
    "academicSessions",
    "categories",
    "classes",
    "classResources",
    "courses",
    "courseResources",
    "demographics",
    "enrollments",
    "lineItems",
    "orgs",
    "resources",
    "results",
    "users",
)
FILES_12 = (
    *FILES_11,
    "roles",
    "userProfiles",
    "userResources",
    "scoreScales",
    "lineItemLearningObjectiveIds",
    "lineItemScoreScales",
    "resultLearningObjectiveIds",
    "resultScoreScales",
)
# The files that carry the roster, in the order they are read.
ROSTER_FILES = ("orgs", "users", "roles", "classes", "enrollments")


def _spec(name: str, known: str, header: str, values: str) -> FileSpec:
    return FileSpec(
        name=name,
        known=frozenset(_COMMON + tuple(known.split())),
        header=frozenset(_COMMON + tuple(header.split())),
        values=frozenset(("sourcedId", *values.split())),
    )


_ORGS = _spec("orgs", "name type identifier parentSourcedId", "name type", "name type")
_CLASSES = _spec(
    "classes",
    "title grades courseSourcedId classCode classType location schoolSourcedId termSourcedIds "
    "subjects subjectCodes periods resourceSourcedIds",
    "title grades schoolSourcedId",
    "title schoolSourcedId",
)
_ENROLLMENTS = _spec(
    "enrollments",
    "classSourcedId schoolSourcedId userSourcedId role primary beginDate endDate",
    "classSourcedId userSourcedId role",
    "classSourcedId userSourcedId role",
)
SPECS: dict[str, dict[str, FileSpec]] = {
    "1.1": {
        "orgs": _ORGS,
        "users": _spec(
            "users",
            "enabledUser orgSourcedIds role username userIds givenName familyName middleName "
            "identifier email sms phone agentSourcedIds grades password",
            "enabledUser orgSourcedIds role givenName familyName grades email",
            "role givenName familyName",
        ),
        "classes": _CLASSES,
        "enrollments": _ENROLLMENTS,
    },
    "1.2": {
        "orgs": _ORGS,
        "users": _spec(
            "users",
            "enabledUser username userIds givenName familyName middleName identifier email sms "
            "phone agentSourcedIds grades password userMasterIdentifier resourceSourcedIds "
            "preferredGivenName preferredMiddleName preferredFamilyName primaryOrgSourcedId "
            "pronouns",
            "enabledUser givenName familyName grades email",
            "givenName familyName",
        ),
        "roles": _spec(
            "roles",
            "userSourcedId roleType role beginDate endDate orgSourcedId userProfileSourcedId",
            "userSourcedId roleType role orgSourcedId",
            "userSourcedId roleType role orgSourcedId",
        ),
        "classes": _CLASSES,
        "enrollments": _ENROLLMENTS,
    },
}
_KIND_OF_FILE = {
    "orgs": Kind.ORGS,
    "users": Kind.PEOPLE,
    "classes": Kind.SECTIONS,
    "enrollments": Kind.ENROLLMENTS,
}
_DELETED = frozenset({"tobedeleted", "inactive"})  # "inactive" is OneRoster 1.0's word


@dataclass
class Manifest:
    version: str
    modes: dict[str, str]  # file name -> bulk | delta (absent files are left out)
    problems: list[str] = field(default_factory=list)


def read_manifest(bundle: Bundle) -> Manifest:
    problems: list[str] = []
    if not bundle.has("manifest.csv"):
        hint = did_you_mean("manifest.csv", set(bundle.names))
        raise SourceError(f"manifest.csv is missing from {bundle.path.name}{hint}")
    props: dict[str, tuple[int, str]] = {}
    with bundle.open_text("manifest.csv") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, [])
            if [h.strip() for h in header[:2]] != ["propertyName", "value"]:
                problems.append(
                    f"manifest.csv line 1: the header must be 'propertyName,value', got "
                    f"{','.join(header)!r}"
                )
            next_line = reader.line_num + 1
            for row in reader:
                line, next_line = next_line, reader.line_num + 1
                if not row or not any(cell.strip() for cell in row):
                    continue
                if len(row) != 2:
                    problems.append(f"manifest.csv line {line}: {len(row)} fields, expected 2")
                    continue
                key, value = row[0].strip(), row[1].strip()
                if key in props:
                    problems.append(
                        f"manifest.csv line {line}: {key} appears twice "
                        f"(first on line {props[key][0]})"
                    )
                props[key] = (line, value)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise SourceError(f"manifest.csv line {reader.line_num}: malformed ({exc})") from exc

    def prop(key: str) -> tuple[int, str]:
        return props.get(key, (0, ""))

    line, manifest_version = prop("manifest.version")
    if manifest_version not in MANIFEST_VERSIONS:
        where = f"line {line}" if line else "no manifest.version row"
        problems.append(
            f"manifest.csv {where}: unknown manifest.version {manifest_version!r} "
            f"(supported: {', '.join(MANIFEST_VERSIONS)})"
        )
    line, version = prop("oneroster.version")
    if version not in SUPPORTED_VERSIONS:
        where = f"line {line}" if line else "no oneroster.version row"
        raise SourceError(
            [
                *problems,
                f"manifest.csv {where}: unknown OneRoster version {version!r} "
                f"(supported: {', '.join(SUPPORTED_VERSIONS)})",
            ]
        )
    known_files = FILES_12 if version == "1.2" else FILES_11
    modes: dict[str, str] = {}
    for key, (line, value) in props.items():
        if not key.startswith("file."):
            continue
        name = key[len("file.") :]
        if name not in known_files:
            hint = did_you_mean(name, set(known_files))
            problems.append(
                f"manifest.csv line {line}: {key} is not a OneRoster {version} file{hint}"
            )
        elif value not in ("bulk", "delta", "absent"):
            problems.append(
                f"manifest.csv line {line}: {key} must be bulk, delta or absent, got {value!r}"
            )
        elif value != "absent":
            modes[name] = value
    return Manifest(version=version, modes=modes, problems=problems)


def _check_files(bundle: Bundle, manifest: Manifest) -> list[str]:
    problems: list[str] = []
    known = FILES_12 if manifest.version == "1.2" else FILES_11
    expected = {f"{name}.csv" for name in known}
    for name, mode in manifest.modes.items():
        if not bundle.has(f"{name}.csv"):
            hint = did_you_mean(f"{name}.csv", set(bundle.names))
            problems.append(
                f"manifest.csv says file.{name} is {mode}, but {name}.csv is missing{hint}"
            )
    for present in bundle.names:
        if present == "manifest.csv" or not present.endswith(".csv"):
            continue
        if present not in expected:
            hint = did_you_mean(present, expected)
            copy = _copy_of(bundle, present)
            problems.append(f"{present}: not a OneRoster {manifest.version} file name{hint}{copy}")
        elif present[:-4] not in manifest.modes:
            problems.append(
                f"{present}: present, but manifest.csv does not declare it bulk or delta"
            )
    if manifest.version == "1.2" and "users" in manifest.modes and "roles" not in manifest.modes:
        problems.append("manifest.csv: OneRoster 1.2 users need roles.csv (file.roles is absent)")
    if not any(name in manifest.modes for name in _KIND_OF_FILE):
        problems.append("manifest.csv: no orgs, users, classes or enrollments to import")
    return problems


def _copy_of(bundle: Bundle, name: str) -> str:
    digest = bundle.digest(name)
    for other in bundle.names:
        if other != name and bundle.digest(other) == digest:
            return f"; it is an exact copy of {other}"
    return ""


@dataclass
class _Reader:
    bundle: Bundle
    manifest: Manifest
    problems: list[str]
    rejected: list[Rejected] = field(default_factory=list)
    deleted: dict[Kind, set[str]] = field(default_factory=dict)

    def table(self, name: str) -> Table | None:
        if name not in self.manifest.modes or not self.bundle.has(f"{name}.csv"):
            return None
        return Table(self.bundle, SPECS[self.manifest.version][name], self.problems)

    def delta(self, name: str) -> bool:
        return self.manifest.modes.get(name) == "delta"

    def records(self, name: str, columns: tuple[str, ...]) -> Iterator[tuple[str, list[str], bool]]:
        """(origin, values of `columns` stripped, deleted?) for each row that passes the
        checks every file shares. A column the file lacks reads as ""."""
        table = self.table(name)
        if table is None:
            return
        rows = table.rows()
        first = next(rows, None)  # reading the first row checks the header and fills `col`
        if first is None:
            return
        col = table.col
        delta = self.delta(name)
        wanted = [col.get(c, -1) for c in columns]
        status_at, modified_at, id_at = col["status"], col["dateLastModified"], col["sourcedId"]
        required = sorted(table.spec.values)
        required_at = [col[c] for c in required]
        prefix = f"{table.file} line "
        seen: dict[str, int] = {}
        missing = -1 in wanted
        pick = operator.itemgetter(*wanted) if not missing and len(wanted) > 1 else None
        pick_required = operator.itemgetter(*required_at, id_at)
        strip = str.strip
        for line, row in itertools.chain((first,), rows):
            status = row[status_at]
            if status:
                status = status.strip()
                if status != "active" and status not in _DELETED:
                    table.problem(line, f"status must be active or tobedeleted, got {status!r}")
                    continue
            elif delta:
                table.problem(line, "status is required in a delta file")
                continue
            modified = row[modified_at]
            if modified and not ISO_DATE_RE.match(modified.strip()):
                table.problem(
                    line, f"dateLastModified {modified!r} is not an ISO 8601 date (YYYY-MM-DD...)"
                )
                continue
            sourced_id = row[id_at].strip()
            if sourced_id in seen:
                table.problem(
                    line, f"duplicate sourcedId {sourced_id!r} (first on line {seen[sourced_id]})"
                )
                continue
            seen[sourced_id] = line
            is_deleted = status in _DELETED
            if is_deleted:
                if not sourced_id:
                    table.problem(line, "sourcedId must not be blank")
                    continue
            elif not all(map(strip, pick_required(row))):
                blank = [
                    c
                    for c, i in zip((*required, "sourcedId"), (*required_at, id_at), strict=True)
                    if not row[i].strip()
                ]
                table.problem(line, f"{', '.join(dict.fromkeys(blank))} must not be blank")
                continue
            if pick is not None:
                values = list(map(strip, pick(row)))
            else:
                values = [row[i].strip() if i >= 0 else "" for i in wanted]
            yield prefix + str(line), values, is_deleted

    def mark_deleted(self, kind: Kind, sourced_id: str) -> None:
        self.deleted.setdefault(kind, set()).add(sourced_id)


def _read_orgs(reader: _Reader) -> list[Org]:
    orgs: list[Org] = []
    for origin, (sourced_id, name, kind), is_deleted in reader.records(
        "orgs", ("sourcedId", "name", "type")
    ):
        if is_deleted:
            reader.mark_deleted(Kind.ORGS, sourced_id)
            continue
        orgs.append(Org(sourced_id, name[:200], kind, origin))
    return orgs


def _read_roles(reader: _Reader) -> dict[str, tuple[str, list[str]]]:
    """1.2: user sourcedId -> (role of the primary row, or of the first; every org)."""
    roles: dict[str, tuple[str, list[str]]] = {}
    primary: set[str] = set()
    for _origin, (user, role, org, role_type), is_deleted in reader.records(
        "roles", ("userSourcedId", "role", "orgSourcedId", "roleType")
    ):
        if is_deleted:
            continue
        current_role, orgs = roles.get(user, (role, []))
        if role_type == "primary" and user not in primary:
            primary.add(user)
            current_role = role
        orgs.append(org)
        roles[user] = (current_role, orgs)
    return roles


def _read_people(reader: _Reader, skipped: dict[str, str]) -> list[Person]:
    version = reader.manifest.version
    roles = _read_roles(reader) if version == "1.2" else {}
    people: list[Person] = []
    columns = (
        "sourcedId",
        "enabledUser",
        "primaryOrgSourcedId",
        "role",
        "orgSourcedIds",
        "givenName",
        "familyName",
        "grades",
        "email",
    )
    for origin, values, is_deleted in reader.records("users", columns):
        sourced_id, enabled, primary_org, role, org_ids, given, family, grades, email = values
        if is_deleted or enabled.lower() == "false":
            reader.mark_deleted(Kind.PEOPLE, sourced_id)
            continue
        if version == "1.2":
            if sourced_id not in roles:
                reason = "no row in roles.csv gives this user a role"
                reader.rejected.append(Rejected(origin, reason))
                skipped[sourced_id] = reason
                continue
            role, orgs = roles[sourced_id]
            school_ids = tuple(dict.fromkeys([primary_org, *orgs] if primary_org else orgs))
        else:
            school_ids = tuple(o.strip() for o in org_ids.split(",") if o.strip())
        if role not in ROSTERED_ROLES:
            reason = f"role {role!r} is not rostered here (students and teachers only)"
            reader.rejected.append(Rejected(origin, reason))
            skipped[sourced_id] = reason
            continue
        people.append(
            Person(
                sourced_id=sourced_id,
                role=role,
                given_name=given[:150],
                family_name=family[:150],
                grade=first_grade(grades),
                email=email[:254],
                school_ids=school_ids,
                origin=origin,
            )
        )
    return people


def _read_sections(reader: _Reader) -> list[Section]:
    sections: list[Section] = []
    columns = ("sourcedId", "schoolSourcedId", "title", "grades")
    for origin, (sourced_id, school, title, grades), is_deleted in reader.records(
        "classes", columns
    ):
        if is_deleted:
            reader.mark_deleted(Kind.SECTIONS, sourced_id)
            continue
        sections.append(Section(sourced_id, school, title, first_grade(grades), origin))
    return sections


def _read_enrollments(
    reader: _Reader, skipped: dict[str, str]
) -> tuple[list[Enrollment], set[tuple[str, str]]]:
    enrollments: list[Enrollment] = []
    deleted_keys: set[tuple[str, str]] = set()
    deleted_people = reader.deleted.get(Kind.PEOPLE, set())
    deleted_sections = reader.deleted.get(Kind.SECTIONS, set())
    seen: dict[tuple[str, str], str] = {}
    columns = ("sourcedId", "classSourcedId", "userSourcedId", "role")
    for origin, (sourced_id, section, user, role), is_deleted in reader.records(
        "enrollments", columns
    ):
        key = (section, user)
        if is_deleted:
            reader.mark_deleted(Kind.ENROLLMENTS, sourced_id)
            if section and user:
                deleted_keys.add(key)
            continue
        reason = ""
        if role not in ROSTERED_ROLES:
            reason = f"role {role!r} is not rostered here (students and teachers only)"
        elif user in skipped:
            reason = f"user {user!r} was skipped: {skipped[user]}"
        elif user in deleted_people:
            reason = f"user {user!r} is marked tobedeleted or disabled"
        elif section in deleted_sections:
            reason = f"class {section!r} is marked tobedeleted"
        elif key in seen:
            reason = f"user {user!r} is already enrolled in class {section!r} at {seen[key]}"
        if reason:
            reader.rejected.append(Rejected(origin, reason))
            continue
        seen[key] = origin
        enrollments.append(Enrollment(section, user, role, sourced_id, origin))
    return enrollments, deleted_keys


def read_oneroster_csv(path: str | Path, *, progress: Progress | None = None) -> Snapshot:
    """Read a OneRoster CSV zip or folder. Raises SourceError listing every problem
    (file and line) when anything is wrong; returns the snapshot otherwise."""
    bundle = Bundle(Path(path))
    report = progress or (lambda _phase: None)
    try:
        manifest = read_manifest(bundle)
        problems = [*manifest.problems, *_check_files(bundle, manifest)]
        reader = _Reader(bundle=bundle, manifest=manifest, problems=problems)
        report("orgs.csv")
        orgs = _read_orgs(reader)
        report("users.csv")
        skipped: dict[str, str] = {}
        people = _read_people(reader, skipped)
        report("classes.csv")
        sections = _read_sections(reader)
        report("enrollments.csv")
        enrollments, deleted_keys = _read_enrollments(reader, skipped)
    finally:
        bundle.close()
    if problems:
        raise SourceError(problems)
    modes = {
        _KIND_OF_FILE[name]: Mode(mode)
        for name, mode in manifest.modes.items()
        if name in _KIND_OF_FILE
    }
    return Snapshot(
        source=f"OneRoster {manifest.version} CSV {bundle.path.name}",
        orgs=tuple(orgs),
        people=tuple(people),
        sections=tuple(sections),
        enrollments=tuple(enrollments),
        modes=modes,
        deleted={kind: frozenset(ids) for kind, ids in reader.deleted.items()},
        deleted_enrollment_keys=frozenset(deleted_keys),
        rejected=tuple(reader.rejected),
    )


# How many progress steps `read_oneroster_csv` reports (one per file it reads).
READ_STEPS = 4
