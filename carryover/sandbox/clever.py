"""The Clever sandbox: Clever's OAuth server (`/oauth/authorize`, `/oauth/tokens`), the
SSO endpoints (`/v3.0/me`, `/v3.0/users/{id}`), an OpenID discovery document and JWKS,
an Instant Login portal, and the Data API v3.0 a district token reads with
`limit`/`starting_after`/`ending_before` paging and `links` (rel self, next, prev),
in the shapes of Clever's published OpenAPI description; and the Events API
(`/v3.0/events`, the log in clever_events.py) with a sandbox-only way to add events.
"""

from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import urlencode

from csp.decorators import csp_replace
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from carryover.sandbox import clever_events, common, store
from carryover.sandbox.authorize import Person, authorize, redeem
from carryover.sandbox.datasets import CLEVER_ROLES, CleverData, Collection
from carryover.sandbox.keys import id_token_claims, sign_id_token

PROVIDER = "clever"
MAX_LIMIT = 10000
DEFAULT_LIMIT = 100
_ROLE_LABELS = {"district_admin": "admin", "staff": "teacher"}


def data() -> CleverData:
    """The data set, with the events added to the sandbox's event log applied."""
    return clever_events.current_data()


def _person(user: dict[str, Any], dataset: CleverData) -> Person:
    name, role, school = dataset.person_label(user)
    return Person(id=str(user["id"]), name=name, role=_ROLE_LABELS.get(role, role), school=school)


def _people() -> list[Person]:
    dataset = data()
    return [
        _person(u, dataset)
        for u in dataset.users.items
        if set(u.get("roles") or {}) & {"student", "teacher", "staff", "district_admin"}
    ]


def _find(hint: str) -> Person | None:
    dataset = data()
    user = dataset.users.get(hint)
    return _person(user, dataset) if user else None


def _message(text: str, status: int) -> JsonResponse:
    return JsonResponse({"message": text}, status=status)


@require_GET
def root(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"sandbox": "clever", "issuer": common.issuer(request, PROVIDER)})


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        common.discovery_document(
            request,
            PROVIDER,
            authorize_path="/oauth/authorize",
            exchange_path="/oauth/tokens",
            scopes=(),
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
    return authorize(request, provider=PROVIDER, label="Clever", people=_people, find=_find)


@require_GET
@never_cache
def portal(request: HttpRequest) -> HttpResponse:
    """Clever's portal: launching an app sends the person to the app's primary redirect
    URI with a fresh code and no state (Instant Login)."""
    launch = request.GET.get("launch", "")
    if launch:
        person = _find(launch)
        if person is None:
            return _message("unknown person", 404)
        redirect_uri = common.registered_redirect_uris(request, PROVIDER)[0]
        code = store.issue_code(
            store.IssuedCode(
                provider=PROVIDER,
                client_id=settings.SANDBOX_CLEVER_CLIENT_ID,
                redirect_uri=redirect_uri,
                person_id=person.id,
                nonce="",
                code_challenge="",
                scope="",
            )
        )
        return common.redirect_with(redirect_uri, {"code": code})
    return render(request, "sandbox/portal.html", {"people": _people()})


@csrf_exempt
@require_http_methods(["GET", "POST"])
@never_cache
def oauth_tokens(request: HttpRequest) -> JsonResponse:
    credentials = common.basic_auth(request)
    if credentials is None or not common.client_secret_ok(PROVIDER, *credentials):
        response = common.oauth_error("invalid_client", "HTTP Basic client credentials", status=401)
        response["WWW-Authenticate"] = 'Basic realm="clever"'
        return response
    if request.method == "GET":
        # The district-app tokens of this app (how an app finds its district token).
        if request.GET.get("owner_type", "district") != "district":
            return JsonResponse({"data": []})
        district = data().district
        return JsonResponse(
            {
                "data": [
                    {
                        "id": "sandbox-district-token",
                        "created": "2025-08-01T00:00:00.000Z",
                        "owner": {"type": "district", "id": district["id"]},
                        "access_token": settings.SANDBOX_CLEVER_DISTRICT_TOKEN,
                        "scopes": ["read:district_admins", "read:students", "read:teachers"],
                    }
                ]
            }
        )
    grant = redeem(request, provider=PROVIDER, client_id=credentials[0])
    if isinstance(grant, JsonResponse):
        return grant
    dataset = data()
    user = dataset.users.get(grant.person_id)
    if user is None:
        return common.oauth_error("invalid_grant", "the person left the data set")
    access_token = store.issue_token(
        store.IssuedToken(
            provider=PROVIDER, kind="user", person_id=grant.person_id, client_id=grant.client_id
        )
    )
    roles = user.get("roles") or {}
    user_type = next(
        (r for r in ("district_admin", "teacher", "staff", "student") if r in roles), ""
    )
    name = user.get("name") or {}
    claims = id_token_claims(
        issuer=common.issuer(request, PROVIDER),
        subject=str(user["id"]),
        audience=grant.client_id,
        nonce=grant.nonce,
        user_id=str(user["id"]),
        multi_role_user_id=str(user["id"]),
        user_type=user_type.replace("_", " "),
        district=str(user.get("district") or dataset.district["id"]),
        email=user.get("email") or "",
        email_verified=False,
        given_name=name.get("first") or "",
        family_name=name.get("last") or "",
    )
    response = JsonResponse(
        {"access_token": access_token, "token_type": "bearer", "id_token": sign_id_token(claims)}
    )
    response["Cache-Control"] = "no-store"
    return response


# --- the API ----------------------------------------------------------------------


def _caller(request: HttpRequest) -> store.IssuedToken | None:
    token = common.bearer_token(request)
    if token and hmac.compare_digest(
        token.encode(), settings.SANDBOX_CLEVER_DISTRICT_TOKEN.encode()
    ):
        return store.IssuedToken(provider=PROVIDER, kind="district", person_id="", client_id="")
    return store.lookup_token(PROVIDER, token)


def _unauthorized() -> JsonResponse:
    response = _message("invalid or missing bearer token", 401)
    response["WWW-Authenticate"] = 'Bearer realm="clever"'
    return response


@require_GET
def me(request: HttpRequest) -> JsonResponse:
    caller = _caller(request)
    if caller is None:
        return _unauthorized()
    district_id = str(data().district["id"])
    if caller.kind == "district":
        body = {"type": "district", "data": {"id": district_id, "type": "district"}}
    else:
        body = {
            "type": "user",
            "data": {"id": caller.person_id, "type": "user", "district": district_id},
        }
    return JsonResponse({**body, "links": [{"rel": "self", "uri": request.path}]})


def _page(
    request: HttpRequest, collection: Collection, *, keep: dict[str, str | list[str]]
) -> JsonResponse:
    try:
        limit = int(request.GET.get("limit", DEFAULT_LIMIT))
    except ValueError:
        return _message("limit must be an integer", 400)
    if not 1 <= limit <= MAX_LIMIT:
        return _message(f"limit must be between 1 and {MAX_LIMIT}", 400)
    after = request.GET.get("starting_after", "")
    before = request.GET.get("ending_before", "")
    items = collection.items
    if after:
        if after not in collection.positions:
            return _message(f"starting_after {after!r} is not a known id", 400)
        start = collection.positions[after] + 1
        end = start + limit
    elif before == "last":
        # Clever's way to ask for the newest records (the newest event, for a cursor).
        end = len(items)
        start = max(0, end - limit)
    elif before:
        if before not in collection.positions:
            return _message(f"ending_before {before!r} is not a known id", 400)
        end = collection.positions[before]
        start = max(0, end - limit)
    else:
        start, end = 0, limit
    page = items[start:end]

    def link(rel: str, **params: str) -> dict[str, str]:
        query = urlencode({"limit": str(limit), **keep, **params}, doseq=True)
        return {"rel": rel, "uri": f"{request.path}?{query}"}

    here = {"starting_after": after} if after else {"ending_before": before} if before else {}
    links = [link("self", **here)]
    if page and end < len(items):
        links.append(link("next", starting_after=str(page[-1]["id"])))
    if page and start > 0:
        links.append(link("prev", ending_before=str(page[0]["id"])))
    return JsonResponse({"data": [{"data": item} for item in page], "links": links})


def _district_only(request: HttpRequest) -> JsonResponse | None:
    caller = _caller(request)
    if caller is None:
        return _unauthorized()
    if caller.kind != "district":
        return _message("this endpoint needs a district token", 403)
    return None


@require_GET
def districts(request: HttpRequest) -> JsonResponse:
    refused = _district_only(request)
    if refused:
        return refused
    return JsonResponse(
        {"data": [{"data": data().district}], "links": [{"rel": "self", "uri": request.path}]}
    )


@require_GET
def district(request: HttpRequest, id: str) -> JsonResponse:
    caller = _caller(request)
    if caller is None:
        return _unauthorized()
    found = data().district
    if str(found["id"]) != id:
        return _message("district not found", 404)
    return JsonResponse({"data": found})


def _collection_view(name: str) -> Any:
    @require_GET
    def view(request: HttpRequest) -> JsonResponse:
        refused = _district_only(request)
        if refused:
            return refused
        return _page(request, getattr(data(), name), keep={})

    view.__name__ = name
    return view


def _item_view(name: str, label: str) -> Any:
    @require_GET
    def view(request: HttpRequest, id: str) -> JsonResponse:
        refused = _district_only(request)
        if refused:
            return refused
        found = getattr(data(), name).get(id)
        if found is None:
            return _message(f"{label} not found", 404)
        return JsonResponse({"data": found})

    view.__name__ = f"{name}_item"
    return view


schools = _collection_view("schools")
sections = _collection_view("sections")
terms = _collection_view("terms")
school = _item_view("schools", "school")
section = _item_view("sections", "section")


@require_GET
def users(request: HttpRequest) -> JsonResponse:
    refused = _district_only(request)
    if refused:
        return refused
    role = request.GET.get("role", "")
    dataset = data()
    if role and role not in CLEVER_ROLES:
        return _message(f"role must be one of {', '.join(CLEVER_ROLES)}", 400)
    collection = dataset.users_by_role[role] if role else dataset.users
    return _page(request, collection, keep={"role": role} if role else {})


@require_GET
def user(request: HttpRequest, id: str) -> JsonResponse:
    caller = _caller(request)
    if caller is None:
        return _unauthorized()
    # A user's SSO token reads only that user; a district token reads anyone.
    if caller.kind == "user" and caller.person_id != id:
        return _message("user not found", 404)
    found = data().users.get(id)
    if found is None:
        return _message("user not found", 404)
    return JsonResponse({"data": found})


# --- the Events API ----------------------------------------------------------------


@require_GET
def events(request: HttpRequest) -> JsonResponse:
    """`GET /v3.0/events`: the event log oldest first, paged like every list (and
    `ending_before=last` for the newest); `record_type` (repeatable) and `school` filter."""
    refused = _district_only(request)
    if refused:
        return refused
    log = clever_events.event_log()
    record_types = request.GET.getlist("record_type")
    school = request.GET.get("school", "")
    keep: dict[str, str | list[str]] = {}
    if record_types or school:
        log = Collection([e for e in log.items if clever_events.matches(e, record_types, school)])
        keep = {"record_type": record_types} if record_types else {}
        if school:
            keep["school"] = school
    return _page(request, log, keep=keep)


@require_GET
def event(request: HttpRequest, id: str) -> JsonResponse:
    refused = _district_only(request)
    if refused:
        return refused
    found = clever_events.event_log().get(id)
    if found is None:
        return _message("event not found", 404)
    return JsonResponse({"data": found})


@csrf_exempt
@require_http_methods(["POST"])
def admin_events(request: HttpRequest) -> JsonResponse:
    """Not Clever's: add an event to the sandbox's log (and apply it to its data), for the
    demo. `{"type": "users.updated", "object": {...}}` with the sandbox's district token;
    mounted only while SANDBOX_ENABLED."""
    if not settings.SANDBOX_ENABLED:
        return _message("not found", 404)
    refused = _district_only(request)
    if refused:
        return refused
    try:
        body = json.loads(request.body or b"{}")
        added = clever_events.add_event(str(body["type"]), body["object"])
    except (ValueError, KeyError, TypeError) as exc:
        return _message(
            f"needs {{'type': '<record>.<action>', 'object': {{'id': ...}}}}: {exc}", 400
        )
    return JsonResponse({"data": added}, status=201)
