"""The authorization endpoint and the token exchange both sandboxes share.

Authorize: checks the client and the exact redirect URI (an unknown one gets an error
page, never a redirect), then either signs in the person named by `login_hint` or
shows the data set's people, each with a Sign in button. Token: checks the client,
the code (single use, five minutes), the redirect URI and the PKCE verifier.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from carryover.sandbox import common, store

MAX_LISTED = 60


@dataclass(frozen=True)
class Person:
    id: str  # what login_hint names: the Clever user id, or the OneRoster sourcedId
    name: str
    role: str
    school: str


AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


def _error_page(request: HttpRequest, provider: str, message: str) -> HttpResponse:
    return render(
        request,
        "sandbox/authorize_error.html",
        {"provider": provider, "message": message},
        status=400,
    )


def authorize(
    request: HttpRequest,
    *,
    provider: str,
    label: str,
    people: Callable[[], Sequence[Person]],
    find: Callable[[str], Person | None],
) -> HttpResponse:
    params = request.GET
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    if not common.client_id_known(provider, client_id):
        return _error_page(request, provider, "Unknown client_id: this app isn't registered.")
    if redirect_uri not in common.registered_redirect_uris(request, provider):
        return _error_page(
            request, provider, f"redirect_uri {redirect_uri!r} is not registered for this app."
        )
    state = params.get("state", "")
    iss = common.issuer(request, provider)
    if params.get("response_type") != "code":
        return common.redirect_with(
            redirect_uri, {"error": "unsupported_response_type", "state": state, "iss": iss}
        )
    challenge = params.get("code_challenge", "")
    if challenge and params.get("code_challenge_method") != "S256":
        return common.redirect_with(
            redirect_uri,
            {"error": "invalid_request", "error_description": "PKCE needs S256", "state": state},
        )
    hint = params.get("login_hint", "")
    person = find(hint) if hint else None
    if person is not None:
        code = store.issue_code(
            store.IssuedCode(
                provider=provider,
                client_id=client_id,
                redirect_uri=redirect_uri,
                person_id=person.id,
                nonce=params.get("nonce", ""),
                code_challenge=challenge,
                scope=params.get("scope", ""),
            )
        )
        return common.redirect_with(redirect_uri, {"code": code, "state": state, "iss": iss})
    query = params.get("q", "").strip().lower()
    everyone = [p for p in people() if not query or query in p.name.lower()]
    groups: dict[str, list[Person]] = {}
    for p in everyone:
        groups.setdefault(p.role, []).append(p)
    return render(
        request,
        "sandbox/authorize.html",
        {
            "label": label,
            "hidden": [(k, params[k]) for k in AUTHORIZE_PARAMS if k in params],
            "groups": [(role, found[:MAX_LISTED], len(found)) for role, found in groups.items()],
            "unknown_hint": hint,
            "query": params.get("q", ""),
        },
    )


def redeem(
    request: HttpRequest, *, provider: str, client_id: str
) -> store.IssuedCode | JsonResponse:
    """The grant behind a token request's code, or the OAuth error answer."""
    if request.POST.get("grant_type") != "authorization_code":
        return common.oauth_error("unsupported_grant_type", "only authorization_code")
    value = request.POST.get("code", "")
    code = store.redeem_code(provider, value) if value else None
    if code is None:
        return common.oauth_error("invalid_grant", "the code is unknown, expired or used")
    if code.client_id != client_id:
        return common.oauth_error("invalid_grant", "the code was issued to another client")
    if request.POST.get("redirect_uri", "") != code.redirect_uri:
        return common.oauth_error("invalid_grant", "redirect_uri differs from the authorization")
    if not common.pkce_ok(code.code_challenge, request.POST.get("code_verifier", "")):
        return common.oauth_error("invalid_grant", "the PKCE code_verifier does not match")
    return code
