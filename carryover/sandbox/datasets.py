"""The sandboxes' data: a JSON file of Clever v3.0 objects, and a OneRoster 1.1 CSV
zip or folder for ClassLink. Loaded once per file version and kept in memory, indexed
for paging (a benchmark district has 100,000 people).

Clever file: {"district": {...}, "schools": [...], "sections": [...], "users": [...],
"terms": [...]} with every object in the shape of Clever's Data API v3.0.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLEVER_ROLES = ("student", "teacher", "staff", "district_admin", "contact")


class DatasetError(Exception):
    pass


@dataclass
class Collection:
    """Objects sorted by id, with each id's position (for starting_after/ending_before)."""

    items: list[dict[str, Any]]
    positions: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.items.sort(key=lambda o: str(o.get("id") or o.get("sourcedId") or ""))
        self.positions = {
            str(o.get("id") or o.get("sourcedId")): i for i, o in enumerate(self.items)
        }

    def get(self, key: str) -> dict[str, Any] | None:
        position = self.positions.get(key)
        return None if position is None else self.items[position]


@dataclass
class CleverData:
    district: dict[str, Any]
    schools: Collection
    sections: Collection
    terms: Collection
    users: Collection
    users_by_role: dict[str, Collection]

    def person_label(self, user: dict[str, Any]) -> tuple[str, str, str]:
        """(name, role, school name) for the sign-in page."""
        name = user.get("name") or {}
        roles = user.get("roles") or {}
        role = next(
            (r for r in ("district_admin", "teacher", "staff", "student") if r in roles), ""
        )
        school_id = (roles.get(role) or {}).get("school") or next(
            iter((roles.get(role) or {}).get("schools") or []), ""
        )
        school = self.schools.get(str(school_id)) or {}
        full = f"{name.get('first') or ''} {name.get('last') or ''}".strip()
        return full, role, str(school.get("name") or "")


@dataclass
class OneRosterData:
    orgs: Collection
    users: Collection
    classes: Collection
    enrollments: Collection
    academic_sessions: Collection
    courses: Collection


_cache: dict[tuple[str, str], tuple[tuple[float, int], Any]] = {}
_lock = threading.Lock()


def _version(path: Path) -> tuple[float, int]:
    if path.is_dir():
        stats = [p.stat() for p in sorted(path.glob("*.csv"))]
        return (max((s.st_mtime for s in stats), default=0.0), sum(s.st_size for s in stats))
    stat = path.stat()
    return (stat.st_mtime, stat.st_size)


def _cached(kind: str, path_text: str, loader: Any) -> Any:
    path = Path(path_text)
    if not path.exists():
        raise DatasetError(f"sandbox data {path} does not exist")
    version = _version(path)
    key = (kind, str(path.resolve()))
    with _lock:
        hit = _cache.get(key)
        if hit and hit[0] == version:
            return hit[1]
    data = loader(path)
    with _lock:
        _cache[key] = (version, data)
    return data


def _load_clever(path: Path) -> CleverData:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: not a JSON file of Clever objects ({exc})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("district"), dict):
        raise DatasetError(f"{path}: needs a 'district' object")
    return clever_data_from(raw)


def clever_data_from(raw: dict[str, Any]) -> CleverData:
    """Index a data set given as {"district": {...}, "schools": [...], ...} (the objects
    are shared, not copied)."""
    users = [u for u in raw.get("users") or [] if isinstance(u, dict)]
    by_role = {
        role: Collection([u for u in users if role in (u.get("roles") or {})])
        for role in CLEVER_ROLES
    }
    return CleverData(
        district=raw["district"],
        schools=Collection(list(raw.get("schools") or [])),
        sections=Collection(list(raw.get("sections") or [])),
        terms=Collection(list(raw.get("terms") or [])),
        users=Collection(users),
        users_by_role=by_role,
    )


def load_clever(path: str) -> CleverData:
    return _cached("clever", path, _load_clever)  # type: ignore[no-any-return]


def dataset_key(path_text: str) -> str:
    """A short name for one version of a data set file (its path, time and size)."""
    path = Path(path_text)
    if not path.exists():
        raise DatasetError(f"sandbox data {path} does not exist")
    text = f"{path.resolve()}|{_version(path)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _read_csv_files(path: Path) -> dict[str, list[dict[str, str]]]:
    texts: dict[str, str] = {}
    if path.is_dir():
        for file in path.glob("*.csv"):
            texts[file.name.lower()] = file.read_text(encoding="utf-8-sig")
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.lower().endswith(".csv"):
                    texts[Path(name).name.lower()] = archive.read(name).decode("utf-8-sig")
    else:
        raise DatasetError(f"{path}: not a OneRoster CSV folder or zip")
    return {name: list(csv.DictReader(io.StringIO(text))) for name, text in texts.items()}


def _split(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _ref(kind: str, sourced_id: str, base: str) -> dict[str, str]:
    return {"href": f"{base}/{sourced_id}", "sourcedId": sourced_id, "type": kind}


def _load_oneroster(path: Path) -> OneRosterData:
    files = _read_csv_files(path)
    if "users.csv" not in files or "orgs.csv" not in files:
        raise DatasetError(f"{path}: a OneRoster data set needs orgs.csv and users.csv")
    base = "/ims/oneroster/v1p1"

    def common(row: dict[str, str]) -> dict[str, Any]:
        return {
            "sourcedId": row["sourcedId"],
            "status": row.get("status") or "active",
            "dateLastModified": row.get("dateLastModified") or "2025-08-01T00:00:00.000Z",
        }

    children: dict[str, list[str]] = {}
    for row in files["orgs.csv"]:
        parent = row.get("parentSourcedId") or ""
        if parent:
            children.setdefault(parent, []).append(row["sourcedId"])
    orgs = [
        {
            **common(row),
            "name": row.get("name", ""),
            "type": row.get("type", ""),
            "identifier": row.get("identifier", ""),
            "parent": _ref("org", row["parentSourcedId"], f"{base}/orgs")
            if row.get("parentSourcedId")
            else None,
            "children": [
                _ref("org", c, f"{base}/orgs") for c in children.get(row["sourcedId"], [])
            ],
        }
        for row in files["orgs.csv"]
    ]
    users = []
    for row in files["users.csv"]:
        user_ids = []
        for item in _split(row.get("userIds", "")):
            item = item.strip("{}")
            kind, _, ident = item.partition(":")
            if ident:
                user_ids.append({"type": kind, "identifier": ident})
        users.append(
            {
                **common(row),
                "username": row.get("username", ""),
                "userIds": user_ids,
                "enabledUser": (row.get("enabledUser") or "true").lower(),
                "givenName": row.get("givenName", ""),
                "familyName": row.get("familyName", ""),
                "middleName": row.get("middleName", ""),
                "role": row.get("role", ""),
                "identifier": row.get("identifier", ""),
                "email": row.get("email", ""),
                "sms": row.get("sms", ""),
                "phone": row.get("phone", ""),
                "agents": [
                    _ref("user", a, f"{base}/users") for a in _split(row.get("agentSourcedIds", ""))
                ],
                "orgs": [
                    _ref("org", o, f"{base}/orgs") for o in _split(row.get("orgSourcedIds", ""))
                ],
                "grades": _split(row.get("grades", "")),
            }
        )
    classes = [
        {
            **common(row),
            "title": row.get("title", ""),
            "classCode": row.get("classCode", ""),
            "classType": row.get("classType", ""),
            "location": row.get("location", ""),
            "grades": _split(row.get("grades", "")),
            "subjects": _split(row.get("subjects", "")),
            "course": _ref("course", row.get("courseSourcedId", ""), f"{base}/courses"),
            "school": _ref("org", row.get("schoolSourcedId", ""), f"{base}/schools"),
            "terms": [
                _ref("academicSession", t, f"{base}/academicSessions")
                for t in _split(row.get("termSourcedIds", ""))
            ],
            "subjectCodes": _split(row.get("subjectCodes", "")),
            "periods": _split(row.get("periods", "")),
        }
        for row in files.get("classes.csv", [])
    ]
    enrollments = [
        {
            **common(row),
            "user": _ref("user", row.get("userSourcedId", ""), f"{base}/users"),
            "class": _ref("class", row.get("classSourcedId", ""), f"{base}/classes"),
            "school": _ref("org", row.get("schoolSourcedId", ""), f"{base}/schools"),
            "role": row.get("role", ""),
            "primary": (row.get("primary") or "false").lower(),
            "beginDate": row.get("beginDate", ""),
            "endDate": row.get("endDate", ""),
        }
        for row in files.get("enrollments.csv", [])
    ]
    sessions = [
        {
            **common(row),
            "title": row.get("title", ""),
            "type": row.get("type", ""),
            "startDate": row.get("startDate", ""),
            "endDate": row.get("endDate", ""),
            "parent": _ref("academicSession", row["parentSourcedId"], f"{base}/academicSessions")
            if row.get("parentSourcedId")
            else None,
            "schoolYear": row.get("schoolYear", ""),
        }
        for row in files.get("academicsessions.csv", [])
    ]
    courses = [
        {
            **common(row),
            "title": row.get("title", ""),
            "schoolYear": _ref(
                "academicSession", row["schoolYearSourcedId"], f"{base}/academicSessions"
            )
            if row.get("schoolYearSourcedId")
            else None,
            "courseCode": row.get("courseCode", ""),
            "grades": _split(row.get("grades", "")),
            "subjects": _split(row.get("subjects", "")),
            "org": _ref("org", row.get("orgSourcedId", ""), f"{base}/orgs"),
        }
        for row in files.get("courses.csv", [])
    ]
    return OneRosterData(
        orgs=Collection(orgs),
        users=Collection(users),
        classes=Collection(classes),
        enrollments=Collection(enrollments),
        academic_sessions=Collection(sessions),
        courses=Collection(courses),
    )


def load_oneroster(path: str) -> OneRosterData:
    return _cached("oneroster", path, _load_oneroster)  # type: ignore[no-any-return]
