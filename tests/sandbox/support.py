"""Settings and helpers shared by the sandbox and sign-on tests."""

from __future__ import annotations

from functools import cache
from urllib.parse import parse_qs, urlencode, urlsplit

from django.core.cache import cache as django_cache
from django.test import Client
from joserfc.jwk import RSAKey
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.sandbox.transport import TEST_ORIGIN

CLEVER_BASE = f"{TEST_ORIGIN}/sandbox/clever"
CLASSLINK_BASE = f"{TEST_ORIGIN}/sandbox/classlink"
DEMO_DISTRICT = "demo-riverside-unified"
DEMO_TENANT = "4242"


@cache
def test_signing_key_pem() -> str:
    return RSAKey.generate_key(2048, private=True).as_pem(private=True).decode()


def configure_sandbox(settings: SettingsWrapper) -> None:
    """Point both providers at the in-process sandboxes, with the sandbox clients."""
    settings.SANDBOX_ENABLED = True
    settings.SITE_URL = ""
    settings.SANDBOX_REDIRECT_URIS = []
    settings.SANDBOX_SIGNING_KEY = test_signing_key_pem()
    settings.SANDBOX_CLASSLINK_TENANT_ID = DEMO_TENANT
    settings.CLEVER_CLIENT_ID = settings.SANDBOX_CLEVER_CLIENT_ID
    settings.CLEVER_CLIENT_SECRET = settings.SANDBOX_CLEVER_CLIENT_SECRET
    settings.CLEVER_AUTH_BASE = CLEVER_BASE
    settings.CLEVER_API_BASE = CLEVER_BASE
    settings.CLEVER_ISSUER = CLEVER_BASE
    settings.CLEVER_JWKS_URL = ""
    settings.CLASSLINK_CLIENT_ID = settings.SANDBOX_CLASSLINK_CLIENT_ID
    settings.CLASSLINK_CLIENT_SECRET = settings.SANDBOX_CLASSLINK_CLIENT_SECRET
    settings.CLASSLINK_AUTH_BASE = CLASSLINK_BASE
    settings.CLASSLINK_API_BASE = CLASSLINK_BASE
    settings.CLASSLINK_ISSUER = CLASSLINK_BASE
    settings.CLASSLINK_JWKS_URL = ""
    settings.CLASSLINK_SCOPE = "openid profile oneroster"
    # Codes, tokens, used codes and JWKS live in the cache: every test starts empty.
    django_cache.clear()


def local(url: str) -> str:
    """Path and query of a URL on the test server (the test client takes paths)."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" in ("", TEST_ORIGIN), url
    return parts.path + (f"?{parts.query}" if parts.query else "")


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def start(client: Client, provider: str) -> str:
    """Press "Sign in with <provider>": the provider's authorization URL."""
    response = client.get(f"/sso/{provider}/login")
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def choose(client: Client, authorize_url: str, login_hint: str) -> str:
    """Press "Sign in" next to a person on the sandbox page: the callback URL."""
    response = client.get(f"{local(authorize_url)}&{urlencode({'login_hint': login_hint})}")
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def sign_in(client: Client, provider: str, login_hint: str):  # type: ignore[no-untyped-def]
    """The whole browser round trip; returns the callback's response."""
    return client.get(local(choose(client, start(client, provider), login_hint)))
