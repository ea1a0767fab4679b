"""Clever Data API v3.0 with a district token -> Snapshot (every kind bulk).

Reads /v3.0/districts, /v3.0/schools, /v3.0/sections and /v3.0/users?role=student|teacher,
following the `links` entry with rel=next until there is none. A section lists its
students and teachers; those lists are the enrollments. Clever ids are the sourcedIds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from django.conf import settings

from carryover.rostering.errors import SourceError
from carryover.rostering.snapshot import (
    Enrollment,
    Kind,
    Mode,
    Org,
    Person,
    Rejected,
    Section,
    Snapshot,
)
from carryover.rostering.sources.http import JsonClient

if TYPE_CHECKING:
    from carryover.rostering.models import RosterConnection
    from carryover.rostering.progress import Progress

PAGE_SIZE = 1000
API = "/v3.0"


class CleverReader:
    def __init__(
        self, *, base_url: str, token: str, progress: Progress | None, page_size: int = PAGE_SIZE
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = JsonClient(headers={"Authorization": f"Bearer {token}"})
        self.progress = progress
        self.page_size = page_size

    def pages(self, path: str, **params: Any) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """(origin, objects) per page; origin names the request and the page."""
        url: str | None = f"{self.base_url}{API}{path}"
        query: dict[str, Any] | None = {"limit": self.page_size, **params}
        seen: set[str] = set()
        page = 0
        while url is not None:
            page += 1
            if self.progress is not None:
                self.progress.expect(1)
            body, _response = self.client.get(url, params=query)
            origin = f"GET {API}{path} page {page}"
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise SourceError(f"{origin}: the answer has no `data` list (truncated page?)")
            objects = []
            for index, item in enumerate(data):
                obj = item.get("data") if isinstance(item, dict) else None
                if not isinstance(obj, dict) or not obj.get("id"):
                    raise SourceError(f"{origin}: item {index + 1} has no data.id")
                objects.append(obj)
            yield origin, objects
            if self.progress is not None:
                self.progress.advance(origin)
            next_uri = next(
                (
                    link.get("uri")
                    for link in body.get("links") or []
                    if isinstance(link, dict) and link.get("rel") == "next"
                ),
                None,
            )
            if next_uri:
                # Clever's links are paths from the host root ("/v3.0/users?...").
                url = urljoin(self.base_url, next_uri)
                if url in seen:
                    raise SourceError(f"{origin}: the next link repeats {next_uri}")
                seen.add(url)
                query = None  # the next link carries its own query
            else:
                url = None

    def read(self, *, district_id: str = "") -> Snapshot:
        try:
            return self._read(district_id)
        finally:
            self.client.close()

    def _read(self, district_id: str) -> Snapshot:
        districts = [obj for _origin, objs in self.pages("/districts") for obj in objs]
        if len(districts) != 1:
            raise SourceError(
                f"GET {API}/districts: a district token sees exactly one district, "
                f"got {len(districts)}"
            )
        district = str(districts[0]["id"])
        if district_id and district != district_id:
            raise SourceError(
                f"GET {API}/districts: the token belongs to district {district}, "
                f"but the account is connected to {district_id}"
            )
        orgs = [
            Org(str(obj["id"]), str(obj.get("name") or obj["id"])[:200], "school", origin)
            for origin, objs in self.pages("/schools")
            for obj in objs
        ]
        sections: list[Section] = []
        enrollments: list[Enrollment] = []
        for origin, objs in self.pages("/sections"):
            for obj in objs:
                section_id = str(obj["id"])
                where = f"{origin} section {section_id}"
                sections.append(
                    Section(
                        section_id,
                        str(obj.get("school") or ""),
                        str(obj.get("name") or section_id),
                        str(obj.get("grade") or "")[:20],
                        where,
                    )
                )
                teachers = list(dict.fromkeys(obj.get("teachers") or []))
                if obj.get("teacher") and obj["teacher"] not in teachers:
                    teachers.insert(0, obj["teacher"])
                for teacher in teachers:
                    enrollments.append(Enrollment(section_id, str(teacher), "teacher", "", where))
                for student in dict.fromkeys(obj.get("students") or []):
                    if student in teachers:
                        continue
                    enrollments.append(Enrollment(section_id, str(student), "student", "", where))
        people: list[Person] = []
        rejected: list[Rejected] = []
        seen: set[str] = set()
        for role in ("teacher", "student"):
            for origin, objs in self.pages("/users", role=role):
                for obj in objs:
                    person = _person(obj, role, origin)
                    if person.sourced_id in seen:
                        rejected.append(
                            Rejected(person.origin, "also listed as a teacher; kept as one")
                        )
                        continue
                    seen.add(person.sourced_id)
                    people.append(person)
        return Snapshot(
            source=f"Clever district {district}",
            orgs=tuple(orgs),
            people=tuple(people),
            sections=tuple(sections),
            enrollments=tuple(enrollments),
            modes={kind: Mode.BULK for kind in Kind},
            rejected=tuple(rejected),
            district_id=district,
        )


def _person(obj: dict[str, Any], role: str, origin: str) -> Person:
    name = obj.get("name") or {}
    details = (obj.get("roles") or {}).get(role) or {}
    schools = [str(s) for s in details.get("schools") or []]
    if details.get("school") and str(details["school"]) not in schools:
        schools.insert(0, str(details["school"]))
    return Person(
        sourced_id=str(obj["id"]),
        role=role,
        given_name=str(name.get("first") or "")[:150],
        family_name=str(name.get("last") or "")[:150],
        grade=str(details.get("grade") or "")[:20],
        email=str(obj.get("email") or "")[:254],
        school_ids=tuple(schools),
        origin=f"{origin} user {obj['id']}",
    )


def read_clever(connection: RosterConnection, *, progress: Progress | None = None) -> Snapshot:
    base = connection.base_url or getattr(settings, "CLEVER_API_BASE", "https://api.clever.com")
    reader = CleverReader(base_url=base, token=connection.secret, progress=progress)
    return reader.read(district_id=connection.district_id)
