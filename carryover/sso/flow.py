"""The OAuth 2.0 authorization-code flow against Clever and ClassLink (Authlib's
requests client: PKCE S256, the token request with the provider's client
authentication), then the provider's profile endpoints. No request, no session here:
the views keep the pending sign-on in the browser session and pass it in.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings

from carryover import http_retry
from carryover.sso.errors import SignOnError
from carryover.sso.oidc import IdTokenClaims, validate_id_token
from carryover.sso.profiles import (
    SignOnProfile,
    classlink_profile,
    clever_profile,
    parse_classlink_info,
    parse_clever_me,
    parse_clever_user,
)
from carryover.sso.providers import CLEVER, ProviderConfig


@dataclass(frozen=True)
class PendingSignOn:
    """A sign-on this browser started: kept in its session until the provider answers."""

    provider: str
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    next_url: str
    started_at: float

    def as_session_value(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_session_value(cls, value: Any) -> PendingSignOn | None:
        if not isinstance(value, dict):
            return None
        try:
            return cls(**value)
        except TypeError:
            return None

    def expired(self, now: float | None = None) -> bool:
        return (now or time.time()) - self.started_at > settings.SSO_STATE_MAX_AGE


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    id_token: str


def _client(provider: ProviderConfig, redirect_uri: str) -> OAuth2Session:
    client = OAuth2Session(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        redirect_uri=redirect_uri,
        scope=provider.scope or None,
        code_challenge_method="S256",
        token_endpoint_auth_method=provider.token_auth_method,
    )
    # A 429 or 5xx from the token endpoint is sent again (briefly: a child is waiting).
    http_retry.mount(client, http_retry.sign_on_policy())
    return client


def start_sign_on(
    *, provider: ProviderConfig, redirect_uri: str, next_url: str = "", login_hint: str = ""
) -> tuple[str, PendingSignOn]:
    """The provider's authorization URL and the pending sign-on to keep for the callback.

    Fresh random `state`, `nonce` and PKCE verifier every time. `login_hint` (OpenID
    Connect) names who is expected; the sandboxes sign that person in at once."""
    pending = PendingSignOn(
        provider=provider.name,
        state=generate_token(40),
        nonce=generate_token(40),
        code_verifier=generate_token(64),
        redirect_uri=redirect_uri,
        next_url=next_url,
        started_at=time.time(),
    )
    with _client(provider, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            provider.authorize_url,
            state=pending.state,
            code_verifier=pending.code_verifier,
            nonce=pending.nonce,
            **({"login_hint": login_hint} if login_hint else {}),
        )
    return url, pending


def exchange_code(*, provider: ProviderConfig, pending: PendingSignOn, code: str) -> TokenResponse:
    """Trade the authorization code for tokens (sends the PKCE verifier and the exact
    redirect URI the authorization request used)."""
    with _client(provider, pending.redirect_uri) as client:
        try:
            token = client.fetch_token(
                provider.token_url,
                grant_type="authorization_code",
                code=code,
                code_verifier=pending.code_verifier,
                redirect_uri=pending.redirect_uri,
                timeout=settings.SSO_HTTP_TIMEOUT,
            )
        except OAuthError as exc:
            raise SignOnError("token_refused", f"token endpoint: {exc.error}") from exc
        except requests.RequestException as exc:
            raise SignOnError("provider_unreachable", f"token endpoint: {exc}") from exc
        except ValueError as exc:
            raise SignOnError("provider_bad_answer", f"token endpoint: {exc}") from exc
    access_token = token.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise SignOnError("provider_bad_answer", "token response has no access_token")
    id_token = token.get("id_token")
    return TokenResponse(
        access_token=access_token, id_token=id_token if isinstance(id_token, str) else ""
    )


def _api_get(provider: ProviderConfig, path: str, access_token: str) -> Any:
    url = f"{provider.api_base}{path}"
    try:
        with http_retry.mount(requests.Session(), http_retry.sign_on_policy()) as session:
            response = session.get(
                url,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=settings.SSO_HTTP_TIMEOUT,
            )
    except requests.RequestException as exc:
        raise SignOnError("provider_unreachable", f"GET {path}: {exc.__class__.__name__}") from exc
    if response.status_code != 200:
        raise SignOnError("provider_bad_answer", f"GET {path}: HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise SignOnError("provider_bad_answer", f"GET {path}: not JSON") from exc


def fetch_profile(
    *, provider: ProviderConfig, tokens: TokenResponse, pending: PendingSignOn
) -> SignOnProfile:
    """Who signed in: the checked id_token (when the provider sent one) and the
    provider's profile endpoints, which must agree with it."""
    claims: IdTokenClaims | None = None
    if tokens.id_token:
        claims = validate_id_token(
            provider, tokens.id_token, nonce=pending.nonce, access_token=tokens.access_token
        )
    if provider.name == CLEVER:
        me = parse_clever_me(_api_get(provider, "/v3.0/me", tokens.access_token))
        if me.type and me.type != "user":
            raise SignOnError("provider_bad_answer", f"/me is a {me.type} token, not a user's")
        user = parse_clever_user(
            _api_get(provider, f"/v3.0/users/{quote(me.id, safe='')}", tokens.access_token)
        )
        if user.id != me.id or user.district != me.district:
            raise SignOnError("identity_mismatch", "/users/{id} names another person")
        profile = clever_profile(me, user)
    else:
        profile = classlink_profile(
            parse_classlink_info(_api_get(provider, "/v2/my/info", tokens.access_token))
        )
    if claims is not None:
        if claims.subject != profile.subject:
            raise SignOnError("identity_mismatch", "id_token sub differs from the profile")
        if claims.district and claims.district != profile.tenant:
            raise SignOnError("identity_mismatch", "id_token district differs from /me")
    return profile
