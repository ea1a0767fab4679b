"""OneRoster 1.2 REST (the rostering service) on the ClassLink sandbox's Roster Server,
from the same OneRoster CSV data set as 1.1.

- `POST /token`: the OAuth 2 client credentials grant (RFC 6749 section 4.4). The client
  authenticates with HTTP Basic (`client_secret_basic`) using the Roster Server's
  credentials (SANDBOX_ONEROSTER_KEY / SANDBOX_ONEROSTER_SECRET); the answer is a bearer
  token for SANDBOX_ONEROSTER_TOKEN_SECONDS with the granted scopes.
- `GET /ims/oneroster/rostering/v1p2/{orgs,users,classes,enrollments,...}` (and one by
  sourcedId): `limit`/`offset` paging as in 1.1, each request with `Authorization:
  Bearer <token>`. A missing, unknown (forged) or expired token is answered 401 with
  `WWW-Authenticate: Bearer error="invalid_token"`; a token without a rostering scope 403.

The 1.1 objects become 1.2 ones: a user's `role` and `orgs` turn into `roles`
(`roleType` primary for the first org, secondary for the others, `administrator` as
`siteAdministrator` or `districtAdministrator`), with `primaryOrg`; `inactive` becomes
`tobedeleted` (1.2 has only active and tobedeleted); every href names the 1.2 path.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import fields
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from carryover.sandbox import common, store
from carryover.sandbox.classlink import data
from carryover.sandbox.datasets import Collection, OneRosterData
from carryover.sandbox.oneroster import COLLECTIONS, error, page_response

PROVIDER = "classlink-roster"
PREFIX_V1P1 = "/ims/oneroster/v1p1"
PREFIX = "/ims/oneroster/rostering/v1p2"
SCOPE_BASE = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
ROSTER_SCOPES = (
    f"{SCOPE_BASE}roster-core.readonly",
    f"{SCOPE_BASE}roster.readonly",
    f"{SCOPE_BASE}roster-demographics.readonly",
)
# Scopes that may read orgs, users, classes and enrollments.
READ_SCOPES = frozenset(ROSTER_SCOPES[:2])


# --- the 1.2 view of the data set ---------------------------------------------------


def _rehref(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (
                PREFIX + v[len(PREFIX_V1P1) :]
                if k == "href" and isinstance(v, str) and v.startswith(PREFIX_V1P1)
                else _rehref(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rehref(v) for v in value]
    return value


def _status(obj: dict[str, Any]) -> dict[str, Any]:
    if obj.get("status") == "inactive":
        return {**obj, "status": "tobedeleted"}
    return obj


def _user(user: dict[str, Any], orgs: Collection) -> dict[str, Any]:
    converted = _rehref(_status(user))
    role = converted.pop("role", "")
    org_refs: list[dict[str, Any]] = converted.pop("orgs", [])
    roles = []
    for position, org in enumerate(org_refs):
        named = role
        if role == "administrator":
            kind = (orgs.get(org["sourcedId"]) or {}).get("type")
            named = "districtAdministrator" if kind == "district" else "siteAdministrator"
        roles.append(
            {"roleType": "primary" if position == 0 else "secondary", "role": named, "org": org}
        )
    converted.update(
        {
            "userMasterIdentifier": user.get("identifier", ""),
            "roles": roles,
            "primaryOrg": org_refs[0] if org_refs else None,
            "userProfiles": [],
        }
    )
    return converted


def _convert(source: OneRosterData) -> OneRosterData:
    converted: dict[str, Collection] = {}
    for item in fields(OneRosterData):
        objects: list[dict[str, Any]] = getattr(source, item.name).items
        if item.name == "users":
            rows = [_user(u, source.orgs) for u in objects]
        else:
            rows = [_rehref(_status(o)) for o in objects]
        converted[item.name] = Collection(rows)
    return OneRosterData(**converted)


_converted: dict[int, tuple[OneRosterData, OneRosterData]] = {}
_lock = threading.Lock()


def data_v1p2() -> OneRosterData:
    """The data set's 1.2 objects, converted once per loaded version of the data set."""
    source = data()
    with _lock:
        hit = _converted.get(id(source))
        if hit is not None and hit[0] is source:
            return hit[1]
    result = _convert(source)
    with _lock:
        _converted.clear()
        _converted[id(source)] = (source, result)
    return result


# --- OAuth 2 client credentials ----------------------------------------------------


@csrf_exempt
@require_POST
@never_cache
def token(request: HttpRequest) -> JsonResponse:
    credentials = common.basic_auth(request)
    if credentials is None or not _client_ok(*credentials):
        response = common.oauth_error(
            "invalid_client", "authenticate with HTTP Basic (client id and secret)", status=401
        )
        response["WWW-Authenticate"] = 'Basic realm="oneroster"'
        return response
    if request.POST.get("grant_type") != "client_credentials":
        return common.oauth_error("unsupported_grant_type", "only client_credentials")
    asked = request.POST.get("scope", "").split() or [ROSTER_SCOPES[0]]
    unknown = [s for s in asked if s not in ROSTER_SCOPES]
    if unknown:
        return common.oauth_error("invalid_scope", f"unknown scope {unknown[0]}")
    scope = " ".join(dict.fromkeys(asked))
    lifetime = settings.SANDBOX_ONEROSTER_TOKEN_SECONDS
    access_token = store.issue_token(
        store.IssuedToken(
            provider=PROVIDER,
            kind="roster",
            person_id="",
            client_id=credentials[0],
            scope=scope,
            expires_at=time.time() + lifetime,
        )
    )
    response = JsonResponse(
        {
            "access_token": access_token,
            "token_type": "bearer",
            "expires_in": lifetime,
            "scope": scope,
        }
    )
    response["Cache-Control"] = "no-store"
    return response


def _client_ok(client_id: str, secret: str) -> bool:
    id_ok = hmac.compare_digest(client_id.encode(), settings.SANDBOX_ONEROSTER_KEY.encode())
    secret_ok = hmac.compare_digest(secret.encode(), settings.SANDBOX_ONEROSTER_SECRET.encode())
    return id_ok and secret_ok


def _bearer_refused(request: HttpRequest) -> JsonResponse | None:
    value = common.bearer_token(request)
    issued = store.lookup_token(PROVIDER, value)
    reason = ""
    if not value:
        reason = "no bearer token"
    elif issued is None:
        reason = "unknown access token"
    elif issued.expires_at and issued.expires_at <= time.time():
        reason = "the access token expired"
    if reason:
        response = error(401, "unauthorisedrequest", reason)
        response["WWW-Authenticate"] = (
            f'Bearer realm="oneroster", error="invalid_token", error_description="{reason}"'
        )
        return response
    assert issued is not None
    if not READ_SCOPES.intersection(issued.scope.split()):
        response = error(403, "forbidden", "the token has no roster-core.readonly scope")
        response["WWW-Authenticate"] = 'Bearer realm="oneroster", error="insufficient_scope"'
        return response
    return None


# --- the rostering service ---------------------------------------------------------


@require_GET
def collection(request: HttpRequest, name: str) -> JsonResponse:
    refused = _bearer_refused(request)
    if refused:
        return refused
    attribute, _ = COLLECTIONS[name]
    return page_response(request, name, getattr(data_v1p2(), attribute).items)


@require_GET
def item(request: HttpRequest, name: str, sourced_id: str) -> JsonResponse:
    refused = _bearer_refused(request)
    if refused:
        return refused
    attribute, singular = COLLECTIONS[name]
    found = getattr(data_v1p2(), attribute).get(sourced_id)
    if found is None:
        return error(404, "unknownobject", f"no {singular} {sourced_id}")
    return JsonResponse({singular: found})
