"""What both sandboxes share: their issuer, client checks, redirect URIs, discovery
and JWKS documents, JSON answers."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from carryover.sandbox.keys import public_jwks


def issuer(request: HttpRequest, provider: str) -> str:
    """The sandbox's own base URL as the caller reaches it (what CLEVER_AUTH_BASE or
    CLASSLINK_AUTH_BASE points at)."""
    return request.build_absolute_uri(reverse(f"sandbox:{provider}_root")).rstrip("/")


def client_credentials(provider: str) -> tuple[str, str]:
    if provider == "clever":
        return settings.SANDBOX_CLEVER_CLIENT_ID, settings.SANDBOX_CLEVER_CLIENT_SECRET
    return settings.SANDBOX_CLASSLINK_CLIENT_ID, settings.SANDBOX_CLASSLINK_CLIENT_SECRET


def client_id_known(provider: str, client_id: str) -> bool:
    return hmac.compare_digest(client_id.encode(), client_credentials(provider)[0].encode())


def client_secret_ok(provider: str, client_id: str, secret: str) -> bool:
    expected_id, expected_secret = client_credentials(provider)
    id_ok = hmac.compare_digest(client_id.encode(), expected_id.encode())
    secret_ok = hmac.compare_digest(secret.encode(), expected_secret.encode())
    return id_ok and secret_ok


def basic_auth(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return unquote(client_id), unquote(secret)


def bearer_token(request: HttpRequest) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def registered_redirect_uris(request: HttpRequest, provider: str) -> list[str]:
    """The redirect URIs registered for the sandbox client: SANDBOX_REDIRECT_URIS, or
    this server's own callback (as reached by the browser). The first is the primary
    one (where a portal launch lands)."""
    configured = [u for u in settings.SANDBOX_REDIRECT_URIS if f"/sso/{provider}/" in u]
    if configured:
        return configured
    own = request.build_absolute_uri(reverse(f"sso:{provider}_callback"))
    if settings.SITE_URL:
        return [f"{settings.SITE_URL}{reverse(f'sso:{provider}_callback')}", own]
    return [own]


def pkce_ok(challenge: str, verifier: str) -> bool:
    if not challenge:
        return True
    if not verifier or not 43 <= len(verifier) <= 128:
        return False
    return hmac.compare_digest(create_s256_code_challenge(verifier), challenge)


def redirect_with(uri: str, params: dict[str, str]) -> HttpResponseRedirect:
    query = urlencode({k: v for k, v in params.items() if v})
    return HttpResponseRedirect(f"{uri}{'&' if '?' in uri else '?'}{query}")


def oauth_error(error: str, description: str, *, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def discovery_document(
    request: HttpRequest,
    provider: str,
    *,
    authorize_path: str,
    exchange_path: str,
    scopes: Iterable[str],
) -> dict[str, Any]:
    base = issuer(request, provider)
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}{authorize_path}",
        "token_endpoint": f"{base}{exchange_path}",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": list(scopes),
        "authorization_response_iss_parameter_supported": True,
    }


def jwks_response() -> JsonResponse:
    return JsonResponse(public_jwks())
