"""OneRoster 1.1 REST (as ClassLink Roster Server serves it) -> Snapshot (every kind bulk).

GET {base}/ims/oneroster/v1p1/orgs|users|classes|enrollments with limit/offset paging,
each request signed with OAuth 1.0a HMAC-SHA256 (Authlib's OAuth 1 client with the
SHA-256 digest added). A page shorter than `X-Total-Count` promises is a truncated
read and refuses the sync.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from authlib.integrations.requests_client import OAuth1Auth
from authlib.oauth1.rfc5849.signature import generate_signature_base_string
from authlib.oauth1.rfc5849.util import escape

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
from carryover.rostering.sources.http import JsonClient

if TYPE_CHECKING:
    from carryover.rostering.models import RosterConnection
    from carryover.rostering.progress import Progress

PAGE_SIZE = 1000
PREFIX = "/ims/oneroster/v1p1"
HMAC_SHA256 = "HMAC-SHA256"


def hmac_sha256_signature(base_string: str, client_secret: str, token_secret: str = "") -> str:
    key = f"{escape(client_secret or '')}&{escape(token_secret or '')}"
    return base64.b64encode(
        hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    ).decode()


def _sign_hmac_sha256(client: Any, request: Any) -> str:
    return hmac_sha256_signature(
        generate_signature_base_string(request), client.client_secret, client.token_secret
    )


class OneRosterAuth(OAuth1Auth):
    """Authlib's OAuth 1.0a signer with HMAC-SHA256 (its own table: Authlib's is shared)."""

    SIGNATURE_METHODS = {**OAuth1Auth.SIGNATURE_METHODS, HMAC_SHA256: _sign_hmac_sha256}

    def __init__(self, key: str, secret: str) -> None:
        super().__init__(key, client_secret=secret, signature_method=HMAC_SHA256)


class OneRosterReader:
    def __init__(
        self,
        *,
        base_url: str,
        key: str,
        secret: str,
        progress: Progress | None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        base = base_url.rstrip("/")
        self.base_url = base[: -len(PREFIX)] if base.endswith(PREFIX) else base
        self.client = JsonClient(auth=OneRosterAuth(key, secret))
        self.progress = progress
        self.page_size = page_size

    def collection(self, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(origin, object) for every object of the collection, page by page."""
        url = f"{self.base_url}{PREFIX}/{name}"
        offset = 0
        received = 0
        total: int | None = None
        page = 0
        while True:
            page += 1
            if self.progress is not None:
                self.progress.expect(1)
            body, response = self.client.get(url, {"limit": self.page_size, "offset": offset})
            origin = f"GET {PREFIX}/{name}?offset={offset}"
            items = body.get(name) if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise SourceError(f"{origin}: the answer has no `{name}` list (truncated page?)")
            header = response.headers.get("X-Total-Count")
            if header is not None:
                try:
                    total = int(header)
                except ValueError as exc:
                    raise SourceError(
                        f"{origin}: X-Total-Count {header!r} is not a number"
                    ) from exc
            for index, obj in enumerate(items):
                if not isinstance(obj, dict) or not obj.get("sourcedId"):
                    raise SourceError(f"{origin}: item {index + 1} has no sourcedId")
                yield f"{origin} item {index + 1}", obj
            received += len(items)
            if self.progress is not None:
                self.progress.advance(f"GET {PREFIX}/{name} page {page}")
            if total is not None:
                if received >= total:
                    break
                if len(items) < self.page_size:
                    raise SourceError(
                        f"{origin}: got {received} {name} of the {total} X-Total-Count "
                        "promised (truncated page?)"
                    )
            elif len(items) < self.page_size:
                break
            offset += self.page_size

    def read(self) -> Snapshot:
        try:
            return self._read()
        finally:
            self.client.close()

    def _read(self) -> Snapshot:
        deleted: dict[Kind, set[str]] = {kind: set() for kind in Kind}
        rejected: list[Rejected] = []
        orgs: list[Org] = []
        for origin, obj in self.collection("orgs"):
            if _deleted(obj):
                deleted[Kind.ORGS].add(obj["sourcedId"])
                continue
            orgs.append(
                Org(
                    obj["sourcedId"],
                    str(obj.get("name") or "")[:200],
                    str(obj.get("type") or ""),
                    origin,
                )
            )
        people: list[Person] = []
        skipped: dict[str, str] = {}
        for origin, obj in self.collection("users"):
            sourced_id = obj["sourcedId"]
            if _deleted(obj) or str(obj.get("enabledUser", "true")).lower() == "false":
                deleted[Kind.PEOPLE].add(sourced_id)
                continue
            role = str(obj.get("role") or "")
            if role not in ROSTERED_ROLES:
                reason = f"role {role!r} is not rostered here (students and teachers only)"
                rejected.append(Rejected(origin, reason))
                skipped[sourced_id] = reason
                continue
            grades = obj.get("grades") or []
            people.append(
                Person(
                    sourced_id=sourced_id,
                    role=role,
                    given_name=str(obj.get("givenName") or "")[:150],
                    family_name=str(obj.get("familyName") or "")[:150],
                    grade=first_grade(
                        ",".join(grades) if isinstance(grades, list) else str(grades)
                    ),
                    email=str(obj.get("email") or "")[:254],
                    school_ids=tuple(_ref(o) for o in obj.get("orgs") or [] if _ref(o)),
                    origin=origin,
                )
            )
        sections: list[Section] = []
        for origin, obj in self.collection("classes"):
            if _deleted(obj):
                deleted[Kind.SECTIONS].add(obj["sourcedId"])
                continue
            grades = obj.get("grades") or []
            sections.append(
                Section(
                    obj["sourcedId"],
                    _ref(obj.get("school")),
                    str(obj.get("title") or obj["sourcedId"]),
                    first_grade(",".join(grades) if isinstance(grades, list) else str(grades)),
                    origin,
                )
            )
        enrollments: list[Enrollment] = []
        for origin, obj in self.collection("enrollments"):
            key = (_ref(obj.get("class")), _ref(obj.get("user")))
            if _deleted(obj):
                deleted[Kind.ENROLLMENTS].add(obj["sourcedId"])
                continue
            role = str(obj.get("role") or "")
            if role not in ROSTERED_ROLES:
                rejected.append(Rejected(origin, f"role {role!r} is not rostered here"))
            elif key[1] in skipped:
                rejected.append(Rejected(origin, f"user {key[1]!r} was skipped: {skipped[key[1]]}"))
            elif key[1] in deleted[Kind.PEOPLE] or key[0] in deleted[Kind.SECTIONS]:
                rejected.append(Rejected(origin, "its user or class is marked tobedeleted"))
            else:
                enrollments.append(Enrollment(key[0], key[1], role, obj["sourcedId"], origin))
        return Snapshot(
            source=f"OneRoster 1.1 REST {self.base_url}",
            orgs=tuple(orgs),
            people=tuple(people),
            sections=tuple(sections),
            enrollments=tuple(enrollments),
            modes={kind: Mode.BULK for kind in Kind},
            deleted={kind: frozenset(ids) for kind, ids in deleted.items()},
            rejected=tuple(rejected),
        )


def _deleted(obj: dict[str, Any]) -> bool:
    return str(obj.get("status") or "active") in ("tobedeleted", "inactive")


def _ref(value: Any) -> str:
    """A OneRoster GUIDRef ({"sourcedId": ..., "type": ...}) -> its sourcedId."""
    if isinstance(value, dict):
        return str(value.get("sourcedId") or "")
    return ""


def read_oneroster_rest(
    connection: RosterConnection, *, progress: Progress | None = None
) -> Snapshot:
    reader = OneRosterReader(
        base_url=connection.base_url,
        key=connection.client_key,
        secret=connection.secret,
        progress=progress,
    )
    return reader.read()
