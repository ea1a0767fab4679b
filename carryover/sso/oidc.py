"""OpenID Connect id_token checks: signature against the provider's JWKS, issuer,
audience, expiry, nonce (Authlib's `CodeIDToken` rules on joserfc, Authlib's JOSE).

The JWKS comes from `jwks_url` when configured, otherwise from the issuer's discovery
document (whose `issuer` must be exactly the configured one). Both are cached; a token
signed with a key id we have not seen refetches the JWKS once (key rotation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from carryover import http_retry
from carryover.sso.errors import SignOnError
from carryover.sso.providers import ProviderConfig

JWKS_CACHE_SECONDS = 60 * 60
# Providers sign id_tokens with RS256; anything else (none, HS256 with the public key
# as a secret) is refused before the signature is looked at.
ALLOWED_ALGORITHMS = ("RS256",)
CLOCK_LEEWAY_SECONDS = 60


@dataclass(frozen=True)
class IdTokenClaims:
    issuer: str
    subject: str
    audience: tuple[str, ...]
    nonce: str
    district: str  # Clever's `district` claim; empty for ClassLink


def _get_json(url: str) -> Any:
    try:
        with http_retry.mount(requests.Session(), http_retry.sign_on_policy()) as session:
            response = session.get(url, timeout=settings.SSO_HTTP_TIMEOUT)
    except requests.RequestException as exc:
        raise SignOnError("provider_unreachable", f"GET {url}: {exc.__class__.__name__}") from exc
    if response.status_code != 200:
        raise SignOnError("provider_bad_answer", f"GET {url}: HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise SignOnError("provider_bad_answer", f"GET {url}: not JSON") from exc


def _jwks_url(provider: ProviderConfig) -> str:
    if provider.jwks_url:
        return provider.jwks_url
    key = f"sso:discovery:{provider.name}:{provider.issuer}"
    jwks_uri = cache.get(key)
    if jwks_uri:
        return str(jwks_uri)
    document = _get_json(provider.discovery_url)
    if not isinstance(document, dict) or document.get("issuer") != provider.issuer:
        raise SignOnError(
            "provider_bad_answer",
            f"discovery at {provider.discovery_url} names another issuer",
        )
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
        raise SignOnError("provider_bad_answer", "discovery document has no jwks_uri")
    cache.set(key, jwks_uri, JWKS_CACHE_SECONDS)
    return jwks_uri


def provider_keys(provider: ProviderConfig, *, refresh: bool = False) -> KeySet:
    key = f"sso:jwks:{provider.name}:{provider.issuer}"
    data = None if refresh else cache.get(key)
    if data is None:
        data = _get_json(_jwks_url(provider))
        cache.set(key, data, JWKS_CACHE_SECONDS)
    try:
        return KeySet.import_key_set(data)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise SignOnError("provider_bad_answer", "the provider's JWKS is not a key set") from exc


def _decode(id_token: str, keys: KeySet) -> jwt.Token:
    return jwt.decode(id_token, keys, algorithms=list(ALLOWED_ALGORITHMS))


def validate_id_token(
    provider: ProviderConfig, id_token: str, *, nonce: str, access_token: str
) -> IdTokenClaims:
    """The checked claims of `id_token`, or SignOnError("id_token_invalid")."""
    try:
        try:
            token = _decode(id_token, provider_keys(provider))
        except JoseError as exc:
            # A key id we do not know yet: the provider may have rotated its keys.
            if exc.error != "invalid_key_id":
                raise
            token = _decode(id_token, provider_keys(provider, refresh=True))
        claims = CodeIDToken(
            token.claims,
            token.header,
            {
                "iss": {"essential": True, "value": provider.issuer},
                "aud": {"essential": True, "value": provider.client_id},
                "sub": {"essential": True},
                "exp": {"essential": True},
                "iat": {"essential": True},
                "nonce": {"essential": True},
            },
            {"nonce": nonce, "client_id": provider.client_id, "access_token": access_token},
        )
        claims.validate(leeway=CLOCK_LEEWAY_SECONDS)
    except JoseError as exc:
        raise SignOnError("id_token_invalid", f"{exc.error}: {exc.description or ''}") from exc
    except (ValueError, TypeError) as exc:
        raise SignOnError("id_token_invalid", f"malformed id_token: {exc}") from exc
    audience = claims["aud"]
    return IdTokenClaims(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        audience=tuple(audience) if isinstance(audience, list) else (str(audience),),
        nonce=str(claims.get("nonce", "")),
        district=str(claims.get("district") or ""),
    )
