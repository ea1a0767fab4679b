"""Authorization codes and access tokens the sandboxes issue, kept in Django's cache
(the sandboxes have no tables). A code is single-use and lives five minutes."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from django.core.cache import cache

CODE_SECONDS = 300
TOKEN_SECONDS = 24 * 60 * 60
USED_CODE_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class IssuedCode:
    provider: str
    client_id: str
    redirect_uri: str
    person_id: str
    nonce: str
    code_challenge: str
    scope: str


@dataclass(frozen=True)
class IssuedToken:
    provider: str
    kind: str  # "user", "district" or "roster" (OneRoster 1.2 client credentials)
    person_id: str
    client_id: str
    scope: str = ""
    expires_at: float = 0.0  # 0: lives as long as the cache keeps it


def issue_code(code: IssuedCode) -> str:
    value = secrets.token_urlsafe(32)
    cache.set(f"sandbox:code:{code.provider}:{value}", json.dumps(asdict(code)), CODE_SECONDS)
    return value


def peek_code(provider: str, value: str) -> IssuedCode | None:
    raw = cache.get(f"sandbox:code:{provider}:{value}")
    return IssuedCode(**json.loads(raw)) if raw else None


def redeem_code(provider: str, value: str) -> IssuedCode | None:
    """The code's grant the first time it is redeemed; None if unknown, expired or used."""
    if not cache.add(f"sandbox:used-code:{provider}:{value}", 1, USED_CODE_SECONDS):
        return None
    code = peek_code(provider, value)
    cache.delete(f"sandbox:code:{provider}:{value}")
    return code


def code_was_redeemed(provider: str, value: str) -> bool:
    return cache.get(f"sandbox:used-code:{provider}:{value}") is not None


def issue_token(token: IssuedToken) -> str:
    value = secrets.token_urlsafe(32)
    cache.set(f"sandbox:token:{token.provider}:{value}", json.dumps(asdict(token)), TOKEN_SECONDS)
    return value


def lookup_token(provider: str, value: str) -> IssuedToken | None:
    raw: Any = cache.get(f"sandbox:token:{provider}:{value}") if value else None
    return IssuedToken(**json.loads(raw)) if raw else None
