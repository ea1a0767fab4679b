"""OAuth 1.0a request signing with HMAC-SHA256, as OneRoster 1.1 REST servers (ClassLink
Roster Server) require. The base string is Authlib's (RFC 5849 §3.4.1); Authlib ships
HMAC-SHA1 only, so the SHA-256 digest is added here and registered with Authlib's
client so `OAuth1Auth(..., signature_method="HMAC-SHA256")` signs requests with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote
from urllib.request import parse_http_list, parse_keqv_list

from authlib.oauth1.rfc5849.client_auth import ClientAuth
from authlib.oauth1.rfc5849.signature import construct_base_string, generate_signature_base_string
from authlib.oauth1.rfc5849.util import escape
from django.core.cache import cache

HMAC_SHA256 = "HMAC-SHA256"
MAX_CLOCK_SKEW = 300


def hmac_sha256_signature(base_string: str, client_secret: str, token_secret: str = "") -> str:
    key = f"{escape(client_secret or '')}&{escape(token_secret or '')}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign_hmac_sha256(client: Any, request: Any) -> str:
    """Authlib client signature method (register with `ClientAuth`)."""
    base_string = generate_signature_base_string(request)
    return hmac_sha256_signature(base_string, client.client_secret, client.token_secret)


ClientAuth.register_signature_method(HMAC_SHA256, sign_hmac_sha256)


@dataclass(frozen=True)
class SignatureCheck:
    ok: bool
    reason: str = ""


def _oauth_params(authorization: str) -> dict[str, str]:
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "oauth":
        return {}
    params = parse_keqv_list(parse_http_list(rest))
    # Values stay percent-encoded as sent: Authlib's base string decodes oauth_* itself.
    return {k: v.strip('"') for k, v in params.items()}


def verify_request(
    *,
    method: str,
    url: str,
    query: str,
    authorization: str,
    consumer_key: str,
    consumer_secret: str,
    now: float | None = None,
) -> SignatureCheck:
    """Check a request signed with OAuth 1.0a HMAC-SHA256 (Authorization header):
    the consumer key, the signature over method, URL and every parameter, a timestamp
    within five minutes, and a nonce not seen before."""
    oauth = _oauth_params(authorization)
    if not oauth:
        return SignatureCheck(False, "no OAuth Authorization header")
    if oauth.get("oauth_signature_method") != HMAC_SHA256:
        return SignatureCheck(False, "oauth_signature_method must be HMAC-SHA256")
    sent_key = unquote(oauth.get("oauth_consumer_key", ""))
    if not hmac.compare_digest(sent_key.encode(), consumer_key.encode()):
        return SignatureCheck(False, "unknown oauth_consumer_key")
    try:
        timestamp = int(oauth.get("oauth_timestamp", ""))
    except ValueError:
        return SignatureCheck(False, "oauth_timestamp is not a number")
    if abs((now or time.time()) - timestamp) > MAX_CLOCK_SKEW:
        return SignatureCheck(False, "oauth_timestamp is too far from now")
    nonce = oauth.get("oauth_nonce", "")
    if not nonce:
        return SignatureCheck(False, "oauth_nonce is missing")
    params = parse_qsl(query, keep_blank_values=True)
    params += [(k, v) for k, v in oauth.items() if k.startswith("oauth_")]
    base_string = construct_base_string(method, url, params)
    expected = hmac_sha256_signature(base_string, consumer_secret)
    if not hmac.compare_digest(
        expected.encode(), unquote(oauth.get("oauth_signature", "")).encode()
    ):
        return SignatureCheck(False, "the signature does not match")
    if not cache.add(
        f"sandbox:oauth1-nonce:{consumer_key}:{timestamp}:{nonce}", 1, 2 * MAX_CLOCK_SKEW
    ):
        return SignatureCheck(False, "oauth_nonce was already used")
    return SignatureCheck(True)
