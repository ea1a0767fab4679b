"""Each provider's endpoints and client credentials, read from settings at call time."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from carryover.sso.errors import SignOnError

CLEVER = "clever"
CLASSLINK = "classlink"
PROVIDERS = (CLEVER, CLASSLINK)


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    label: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    api_base: str
    issuer: str
    jwks_url: str  # empty: read `jwks_uri` from the issuer's discovery document
    scope: str
    # Clever takes the client credentials as HTTP Basic; ClassLink in the form body.
    token_auth_method: str

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"


def get_provider(name: str) -> ProviderConfig:
    """The configuration of `name`; refuses a provider without client credentials."""
    if name == CLEVER:
        config = ProviderConfig(
            name=CLEVER,
            label="Clever",
            client_id=settings.CLEVER_CLIENT_ID,
            client_secret=settings.CLEVER_CLIENT_SECRET,
            authorize_url=f"{settings.CLEVER_AUTH_BASE}/oauth/authorize",
            token_url=f"{settings.CLEVER_AUTH_BASE}/oauth/tokens",
            api_base=settings.CLEVER_API_BASE,
            issuer=settings.CLEVER_ISSUER,
            jwks_url=settings.CLEVER_JWKS_URL,
            # Clever manages scopes in the application's dashboard, not in the request.
            scope="",
            token_auth_method="client_secret_basic",  # noqa: S106 - a method name
        )
    elif name == CLASSLINK:
        config = ProviderConfig(
            name=CLASSLINK,
            label="ClassLink",
            client_id=settings.CLASSLINK_CLIENT_ID,
            client_secret=settings.CLASSLINK_CLIENT_SECRET,
            authorize_url=f"{settings.CLASSLINK_AUTH_BASE}/oauth2/v2/auth",
            token_url=f"{settings.CLASSLINK_AUTH_BASE}/oauth2/v2/token",
            api_base=settings.CLASSLINK_API_BASE,
            issuer=settings.CLASSLINK_ISSUER,
            jwks_url=settings.CLASSLINK_JWKS_URL,
            scope=settings.CLASSLINK_SCOPE,
            token_auth_method="client_secret_post",  # noqa: S106 - a method name
        )
    else:
        raise ValueError(f"unknown sign-on provider {name!r}")
    if not config.client_id or not config.client_secret:
        raise SignOnError("provider_not_configured", f"{name} client id or secret is empty")
    return config
