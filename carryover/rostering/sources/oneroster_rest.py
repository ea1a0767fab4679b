"""OneRoster REST (as ClassLink Roster Server serves it) -> Snapshot (every kind bulk).

1.1: GET {base}/ims/oneroster/v1p1/orgs|users|classes|enrollments, each request signed
with OAuth 1.0a HMAC-SHA256 (Authlib's OAuth 1 client with the SHA-256 digest added).

1.2: GET {base}/ims/oneroster/rostering/v1p2/orgs|users|classes|enrollments with an
OAuth 2 bearer token from the client credentials grant (Authlib's OAuth2Session,
`client_secret_basic`, scope roster-core.readonly). The token is reused until it
expires; a request answered 401 gets one new token and one retry. A 1.2 user carries
its role in `roles` (the primary one counts) instead of `role`.

Both page with limit/offset. A page shorter than `X-Total-Count` promises is a
truncated read and refuses the sync; every failure names the request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth1Auth, OAuth2Session
from authlib.oauth1.rfc5849.signature import generate_signature_base_string
from authlib.oauth1.rfc5849.util import escape
from django.conf import settings

from carryover import http_retry
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
from carryover.rostering.sources.http import JsonClient, without_host

if TYPE_CHECKING:
    from carryover.rostering.models import RosterConnection
    from carryover.rostering.progress import Progress

PAGE_SIZE = 1000
PREFIX = "/ims/oneroster/v1p1"
PREFIX_V1P2 = "/ims/oneroster/rostering/v1p2"
SCOPE_V1P2 = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"
RENEW_BEFORE_EXPIRY = 60  # seconds: a token this close to its end is renewed first
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


class ClientCredentials:
    """OAuth 2 client credentials (RFC 6749 section 4.4) through Authlib's OAuth2Session:
    the client authenticates with HTTP Basic (`client_secret_basic`), the token is kept
    until a minute before it expires and sent as a bearer token by the session.
    Every failure at the token endpoint becomes a SourceError naming the request."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str = SCOPE_V1P2,
        timeout: float | None = None,
    ) -> None:
        self.token_url = token_url
        self.timeout = timeout if timeout is not None else settings.ROSTER_HTTP_TIMEOUT
        self.session = OAuth2Session(
            client_id=client_id,
            client_secret=client_secret,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
            scope=scope,
            token_endpoint=token_url,
            grant_type="client_credentials",
            default_timeout=self.timeout,
            # Renewing is ours (ensure, before each request, errors named): Authlib's own
            # renewal inside the request would only run for a token already expired.
            leeway=0,
        )
        http_retry.mount(self.session, http_retry.roster_policy())
        self.fetched = 0

    def ensure(self) -> None:
        """A token that is not about to expire, fetched when there is none."""
        token = self.session.token
        if not token or token.is_expired(leeway=RENEW_BEFORE_EXPIRY):
            self.fetch()

    def fetch(self) -> None:
        name = f"POST {without_host(self.token_url)}"
        self.fetched += 1
        try:
            token = self.session.fetch_token()
        except requests.Timeout as exc:
            raise SourceError(f"{name}: no answer within {self.timeout:g} s") from exc
        except requests.ConnectionError as exc:
            raise SourceError(f"{name}: could not connect ({_short(exc)})") from exc
        except OAuthError as exc:
            detail = f"{exc.error}" + (f" ({exc.description})" if exc.description else "")
            why = (
                "the provider refused the client id or secret; reconnect the account"
                if exc.error in ("invalid_client", "unauthorized_client")
                else "the provider refused the token request"
            )
            raise SourceError(f"{name}: {detail} — {why}") from exc
        except (requests.RequestException, ValueError, TypeError) as exc:
            raise SourceError(f"{name}: the answer is not a token ({_short(exc)})") from exc
        if not token.get("access_token") or str(token.get("token_type", "")).lower() != "bearer":
            raise SourceError(f"{name}: the answer has no bearer access_token")


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "..."


class OneRosterReader:
    """OneRoster 1.1 REST with OAuth 1.0a HMAC-SHA256 signatures."""

    prefix = PREFIX
    version = "1.1"

    def __init__(
        self,
        *,
        base_url: str,
        key: str,
        secret: str,
        progress: Progress | None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._setup(base_url, JsonClient(auth=OneRosterAuth(key, secret)), progress, page_size)

    def _setup(
        self, base_url: str, client: JsonClient, progress: Progress | None, page_size: int
    ) -> None:
        base = base_url.rstrip("/")
        self.base_url = base[: -len(self.prefix)] if base.endswith(self.prefix) else base
        self.client = client
        self.progress = progress
        self.page_size = page_size

    def _authorize(self) -> None:
        """Before each request (1.1 signs inside the request itself)."""

    def collection(self, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(origin, object) for every object of the collection, page by page."""
        url = f"{self.base_url}{self.prefix}/{name}"
        offset = 0
        received = 0
        total: int | None = None
        page = 0
        while True:
            page += 1
            if self.progress is not None:
                self.progress.expect(1)
            self._authorize()
            body, response = self.client.get(url, {"limit": self.page_size, "offset": offset})
            origin = f"GET {self.prefix}/{name}?offset={offset}"
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
                self.progress.advance(f"GET {self.prefix}/{name} page {page}")
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

    def _role_and_schools(self, user: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
        """1.1: the user's `role` and its `orgs`."""
        orgs = user.get("orgs") or []
        return str(user.get("role") or ""), tuple(_ref(o) for o in orgs if _ref(o))

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
            role, school_ids = self._role_and_schools(obj)
            if role not in ROSTERED_ROLES:
                reason = (
                    f"role {role!r} is not rostered here (students and teachers only)"
                    if role
                    else "the user has no role"
                )
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
                    school_ids=school_ids,
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
            source=f"OneRoster {self.version} REST {self.base_url}",
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


class OneRosterV1p2Reader(OneRosterReader):
    """OneRoster 1.2 REST (rostering service) with an OAuth 2 client credentials token."""

    prefix = PREFIX_V1P2
    version = "1.2"

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        token_url: str = "",
        scope: str = SCOPE_V1P2,
        progress: Progress | None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        base = base_url.rstrip("/")
        base = base[: -len(self.prefix)] if base.endswith(self.prefix) else base
        self.credentials = ClientCredentials(
            token_url=token_url or f"{base}/token",
            client_id=client_id,
            client_secret=client_secret,
            scope=scope,
        )
        client = JsonClient(session=self.credentials.session, reauthorize=self.credentials.fetch)
        self._setup(base, client, progress, page_size)

    def _authorize(self) -> None:
        self.credentials.ensure()

    def _role_and_schools(self, user: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
        """1.2: the role of the `primary` entry of `roles` (else the first entry); the
        schools are the primary org and the orgs of the entries with that role."""
        roles = [r for r in user.get("roles") or [] if isinstance(r, dict) and r.get("role")]
        if not roles:
            return "", ()
        chosen = next((r for r in roles if r.get("roleType") == "primary"), roles[0])
        role = str(chosen["role"])
        orgs = [
            _ref(user.get("primaryOrg")),
            *(_ref(r.get("org")) for r in roles if r["role"] == role),
        ]
        return role, tuple(dict.fromkeys(o for o in orgs if o))


def read_oneroster_rest(
    connection: RosterConnection, *, progress: Progress | None = None
) -> Snapshot:
    reader: OneRosterReader
    if connection.oneroster_version == "1.2":
        reader = OneRosterV1p2Reader(
            base_url=connection.base_url,
            client_id=connection.client_key,
            client_secret=connection.secret,
            token_url=connection.token_url,
            progress=progress,
        )
    else:
        reader = OneRosterReader(
            base_url=connection.base_url,
            key=connection.client_key,
            secret=connection.secret,
            progress=progress,
        )
    return reader.read()
