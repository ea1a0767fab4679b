"""The ClassLink sandbox: LaunchPad's OAuth 2 / OpenID Connect server
(`/oauth2/v2/auth`, `/oauth2/v2/token`), the profile endpoint `/v2/my/info`, and a
Roster Server serving OneRoster 1.1 REST (`/ims/oneroster/v1p1/...`, `limit`/`offset`
paging, OAuth 1.0a HMAC-SHA256 signatures) and OneRoster 1.2 REST
(`/ims/oneroster/rostering/v1p2/...` with OAuth 2 client credentials: oneroster_v1p2.py),
all from one OneRoster CSV data set.
The person a sign-in names is the OneRoster user (`login_hint=<sourcedId>`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from csp.decorators import csp_replace
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from carryover.sandbox import common, store
from carryover.sandbox.authorize import Person, authorize, redeem
from carryover.sandbox.datasets import OneRosterData, load_oneroster
from carryover.sandbox.keys import id_token_claims, sign_id_token

PROVIDER = "classlink"
SIGN_IN_ROLES = {
    "student": "Student",
    "teacher": "Teacher",
    "administrator": "Tenant Administrator",
}


def data() -> OneRosterData:
    return load_oneroster(settings.SANDBOX_CLASSLINK_DATA)


def classlink_user_id(user: dict[str, Any]) -> int:
    """ClassLink's numeric UserId: a `{ClassLink:N}` userId when the data set has one,
    otherwise a stable number derived from the sourcedId."""
    for item in user.get("userIds") or []:
        if (
            str(item.get("type", "")).lower() == "classlink"
            and str(item.get("identifier")).isdigit()
        ):
            return int(item["identifier"])
    digest = hashlib.sha256(str(user["sourcedId"]).encode()).hexdigest()
    return 1_000_000 + int(digest[:8], 16) % 9_000_000


def _can_sign_in(user: dict[str, Any]) -> bool:
    return (
        user.get("role") in SIGN_IN_ROLES
        and user.get("status") != "tobedeleted"
        and str(user.get("enabledUser", "true")).lower() != "false"
    )


def _school(user: dict[str, Any], dataset: OneRosterData) -> dict[str, Any]:
    for ref in user.get("orgs") or []:
        org = dataset.orgs.get(ref["sourcedId"])
        if org and org.get("type") == "school":
            return org
    first = (user.get("orgs") or [{}])[0].get("sourcedId", "")
    return dataset.orgs.get(first) or {}


def _person(user: dict[str, Any], dataset: OneRosterData) -> Person:
    return Person(
        id=str(user["sourcedId"]),
        name=f"{user.get('givenName', '')} {user.get('familyName', '')}".strip(),
        role={"administrator": "admin"}.get(user["role"], user["role"]),
        school=str(_school(user, dataset).get("name", "")),
    )


def _people() -> list[Person]:
    dataset = data()
    return [_person(u, dataset) for u in dataset.users.items if _can_sign_in(u)]


def _find(hint: str) -> Person | None:
    dataset = data()
    user = dataset.users.get(hint)
    return _person(user, dataset) if user and _can_sign_in(user) else None


@require_GET
def root(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"sandbox": "classlink", "issuer": common.issuer(request, PROVIDER)})


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        common.discovery_document(
            request,
            PROVIDER,
            authorize_path="/oauth2/v2/auth",
            exchange_path="/oauth2/v2/token",
            scopes=("openid", "profile", "email", "oneroster", "full"),
        )
    )


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    return common.jwks_response()


@require_GET
@never_cache
# Choosing a person is a form that lands on the client's redirect URI: another origin when
# the sandbox runs as a process of its own (the load test), which form-action must allow.
@csp_replace({"form-action": ["'self'", "http:", "https:"]})
def oauth_authorize(request: HttpRequest) -> HttpResponse:
    return authorize(request, provider=PROVIDER, label="ClassLink", people=_people, find=_find)


@csrf_exempt
@require_POST
@never_cache
def oauth_token(request: HttpRequest) -> JsonResponse:
    # ClassLink takes client_id and client_secret in the form body; HTTP Basic works too.
    credentials = common.basic_auth(request) or (
        request.POST.get("client_id", ""),
        request.POST.get("client_secret", ""),
    )
    if not common.client_secret_ok(PROVIDER, *credentials):
        return common.oauth_error("invalid_client", "client_id and client_secret", status=401)
    grant = redeem(request, provider=PROVIDER, client_id=credentials[0])
    if isinstance(grant, JsonResponse):
        return grant
    dataset = data()
    user = dataset.users.get(grant.person_id)
    if user is None or not _can_sign_in(user):
        return common.oauth_error("invalid_grant", "the person left the data set")
    access_token = store.issue_token(
        store.IssuedToken(
            provider=PROVIDER, kind="user", person_id=grant.person_id, client_id=grant.client_id
        )
    )
    body: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "Bearer",
        "response_type": "code",
    }
    if "openid" in grant.scope.split():
        claims = id_token_claims(
            issuer=common.issuer(request, PROVIDER),
            subject=str(classlink_user_id(user)),
            audience=grant.client_id,
            nonce=grant.nonce,
            login_hint=user.get("username", ""),
            email=user.get("email", ""),
            email_verified=False,
            name=f"{user.get('givenName', '')} {user.get('familyName', '')}".strip(),
            given_name=user.get("givenName", ""),
            family_name=user.get("familyName", ""),
            profile=SIGN_IN_ROLES[user["role"]],
        )
        body["id_token"] = sign_id_token(claims)
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


def _tenant_id() -> int | str:
    value = settings.SANDBOX_CLASSLINK_TENANT_ID
    return int(value) if str(value).isdigit() else value


@require_GET
def my_info(request: HttpRequest) -> JsonResponse:
    caller = store.lookup_token(PROVIDER, common.bearer_token(request))
    if caller is None:
        return JsonResponse({"error": "Unauthorized"}, status=401)
    dataset = data()
    user = dataset.users.get(caller.person_id)
    if user is None:
        return JsonResponse({"error": "Not Found"}, status=404)
    school = _school(user, dataset)
    district = next(
        (o for o in dataset.orgs.items if o.get("type") == "district"), {"name": "Sandbox District"}
    )
    return JsonResponse(
        {
            "UserId": classlink_user_id(user),
            "TenantId": _tenant_id(),
            "StateId": 0,
            "StateName": "",
            "BuildingId": 1,
            "AuthenticationType": 2,
            "DisplayName": f"{user.get('givenName', '')} {user.get('familyName', '')}".strip(),
            "FirstName": user.get("givenName", ""),
            "LastName": user.get("familyName", ""),
            "Email": user.get("email", ""),
            "LoginId": user.get("username", ""),
            "ImagePath": "",
            "LanguageId": 1,
            "Language": "en",
            "DefaultTimeFormat": 0,
            "Profile": SIGN_IN_ROLES[user["role"]] if _can_sign_in(user) else "",
            "ProfileId": 0,
            "Tenant": district.get("name", ""),
            "Building": school.get("name", ""),
            "Role": SIGN_IN_ROLES.get(user.get("role", ""), user.get("role", "")),
            "Role_Level": {"student": 4, "teacher": 3, "administrator": 1}.get(user["role"], 5),
            "LastAccessTime": "2025-08-01T00:00:00.000Z",
            "OrgId": school.get("sourcedId", ""),
            "SourcedId": user["sourcedId"],
        }
    )
