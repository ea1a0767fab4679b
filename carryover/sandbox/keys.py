"""The RSA key the sandboxes sign id_tokens with, and the JWKS that publishes it.

From settings.SANDBOX_SIGNING_KEY (PEM) when set (tests), otherwise generated on first
use into VAR_DIR/sandbox_signing_key.pem and reused, so id_tokens stay verifiable
across restarts of the development server.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from joserfc import jwt
from joserfc.jwk import RSAKey

_lock = threading.Lock()
_loaded: dict[str, RSAKey] = {}


def _key_file() -> Path:
    return Path(settings.VAR_DIR) / "sandbox_signing_key.pem"


def signing_key() -> RSAKey:
    pem = settings.SANDBOX_SIGNING_KEY
    cache_key = pem or str(_key_file())
    with _lock:
        key = _loaded.get(cache_key)
        if key is not None:
            return key
        if pem:
            key = RSAKey.import_key(pem)
        else:
            path = _key_file()
            if path.exists():
                key = RSAKey.import_key(path.read_bytes())
            else:
                key = RSAKey.generate_key(2048, private=True)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(key.as_pem(private=True))
                path.chmod(0o600)
        key.ensure_kid()
        _loaded[cache_key] = key
        return key


def public_jwks() -> dict[str, Any]:
    key = signing_key()
    public = key.as_dict(private=False)
    public.update({"use": "sig", "alg": "RS256"})
    return {"keys": [public]}


def sign_id_token(claims: dict[str, Any], *, key: RSAKey | None = None) -> str:
    key = key or signing_key()
    header = {"alg": "RS256", "typ": "JWT", "kid": key.kid}
    return jwt.encode(header, claims, key)


def id_token_claims(
    *, issuer: str, subject: str, audience: str, nonce: str, lifetime: int = 3600, **extra: Any
) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime,
        "auth_time": now,
        **extra,
    }
    if nonce:
        claims["nonce"] = nonce
    return claims
