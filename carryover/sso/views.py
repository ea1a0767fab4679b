"""Sign-on pages: start at the provider, come back, sign in. Thin: the flow, the checks
and the account decisions live in flow.py, oidc.py and services.py.

The pending sign-on (state, nonce, PKCE verifier, redirect URI) lives in the browser's
session under its random state; a callback takes it out exactly once, and only the
provider it was started for may use it (mix-up defence).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from carryover.accounts.signin import client_ip
from carryover.ratelimit import CacheError
from carryover.sso.errors import SignOnError
from carryover.sso.flow import PendingSignOn, exchange_code, fetch_profile, start_sign_on
from carryover.sso.providers import CLASSLINK, CLEVER, get_provider
from carryover.sso.services import record_sign_on_failure, sign_on_user

SESSION_KEY = "sso_pending"
# A browser may have a few sign-ons under way (two tabs); older ones are dropped.
MAX_PENDING = 4
BACKEND = "carryover.sso.backends.SignOnBackend"


def redirect_uri_for(request: HttpRequest, provider: str) -> str:
    """The exact redirect URI of `provider`'s callback: from SITE_URL when set."""
    path = reverse(f"sso:{provider}_callback")
    if settings.SITE_URL:
        return f"{settings.SITE_URL}{path}"
    return request.build_absolute_uri(path)


def _safe_next(request: HttpRequest, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def _remember(request: HttpRequest, pending: PendingSignOn) -> None:
    entries: dict[str, Any] = dict(request.session.get(SESSION_KEY) or {})
    entries[pending.state] = pending.as_session_value()
    if len(entries) > MAX_PENDING:
        oldest = sorted(entries, key=lambda s: entries[s].get("started_at", 0))
        for state in oldest[: len(entries) - MAX_PENDING]:
            entries.pop(state)
    request.session[SESSION_KEY] = entries


def _take(request: HttpRequest, state: str) -> PendingSignOn | None:
    entries: dict[str, Any] = dict(request.session.get(SESSION_KEY) or {})
    value = entries.pop(state, None)
    request.session[SESSION_KEY] = entries
    return PendingSignOn.from_session_value(value)


def _claim_code(provider: str, code: str) -> bool:
    """True the first time this code is seen; used codes are remembered for longer than
    any provider lets a code live, so a replay is refused before it reaches the provider.
    Without the cache a replay cannot be told apart, so the sign-on is refused (503)."""
    digest = hashlib.sha256(code.encode()).hexdigest()
    try:
        return bool(
            cache.add(f"sso:used-code:{provider}:{digest}", 1, max(settings.SSO_STATE_MAX_AGE, 900))
        )
    except (CacheError, OSError) as exc:
        raise SignOnError("cache_unavailable", f"replay guard: {exc}") from exc


def _refuse(request: HttpRequest, provider: str, error: SignOnError) -> HttpResponse:
    # Whoever is signed in stays signed in: anyone can send a browser to a callback URL
    # with a made-up state, and that must not sign a teacher out in the middle of a
    # lesson. (A successful sign-on as someone else replaces the session: `login`.)
    record_sign_on_failure(
        provider=provider,
        reason=error.code,
        detail=error.detail,
        account_id=error.account_id,
        ip_address=client_ip(request),
    )
    label = {CLEVER: "Clever", CLASSLINK: "ClassLink"}.get(provider, provider)
    return render(
        request,
        "sso/refused.html",
        {
            "provider_label": label,
            "message": error.message,
            "reason": error.code,
            "retry_url": reverse(f"sso:{provider}_login"),
            "sign_in_url": resolve_url(settings.LOGIN_URL),
        },
        status=error.status,
    )


@require_GET
@never_cache
def start(request: HttpRequest, provider: str) -> HttpResponse:
    try:
        config = get_provider(provider)
    except SignOnError as error:
        return _refuse(request, provider, error)
    url, pending = start_sign_on(
        provider=config,
        redirect_uri=redirect_uri_for(request, provider),
        next_url=_safe_next(request, request.GET.get("next", "")),
        login_hint=request.GET.get("login_hint", "")[:200],
    )
    _remember(request, pending)
    return HttpResponseRedirect(url)


@require_GET
@never_cache
def callback(request: HttpRequest, provider: str) -> HttpResponse:
    params = request.GET
    state = params.get("state", "")
    code = params.get("code", "")
    if provider == CLEVER and code and not state and "error" not in params:
        # A launch from the Clever portal (Instant Login) brings a code we never asked
        # for. Using it would sign in whoever's code it is (login CSRF), so it is never
        # exchanged: we start our own authorization request, which Clever answers at
        # once for a person already signed in to Clever.
        return HttpResponseRedirect(reverse("sso:clever_login"))
    try:
        config = get_provider(provider)
        if not state:
            raise SignOnError("state_missing")
        pending = _take(request, state)
        if pending is None:
            raise SignOnError("state_mismatch", "no sign-on with this state in the session")
        if pending.provider != provider:
            raise SignOnError(
                "state_wrong_provider", f"state issued for {pending.provider}, not {provider}"
            )
        if pending.expired():
            raise SignOnError("state_mismatch", "the sign-on expired")
        if "error" in params:
            raise SignOnError("provider_error", params.get("error", "")[:100])
        # RFC 9207: when the provider names itself, it must be the one we asked.
        if "iss" in params and params["iss"] != config.issuer:
            raise SignOnError("issuer_mismatch", f"iss={params['iss'][:200]}")
        if redirect_uri_for(request, provider) != pending.redirect_uri:
            raise SignOnError("redirect_uri_mismatch")
        if not code:
            raise SignOnError("code_missing")
        if not _claim_code(provider, code):
            raise SignOnError("code_reused")
        tokens = exchange_code(provider=config, pending=pending, code=code)
        profile = fetch_profile(provider=config, tokens=tokens, pending=pending)
        result = sign_on_user(profile=profile, ip_address=client_ip(request))
    except SignOnError as error:
        return _refuse(request, provider, error)
    # Rotates the session key (or starts a fresh session when someone else was signed in).
    login(request, result.user, backend=BACKEND)
    return HttpResponseRedirect(
        _safe_next(request, pending.next_url) or resolve_url(settings.LOGIN_REDIRECT_URL)
    )
