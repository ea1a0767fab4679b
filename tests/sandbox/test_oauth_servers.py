"""The sandboxes' OAuth servers: the sign-in page, exact redirect URIs, client
authentication, single-use codes, PKCE, id_tokens signed with the published JWKS."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from django.test import Client
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.sandbox.openapi import validate_clever
from tests.sandbox.support import CLASSLINK_BASE, CLEVER_BASE, DEMO_TENANT, query

pytestmark = pytest.mark.django_db

CLEVER_CALLBACK = "http://testserver/sso/clever/callback"
CLASSLINK_CALLBACK = "http://testserver/sso/classlink/callback"
VERIFIER = "v" * 50


def basic(client_id: str, secret: str) -> dict[str, str]:
    value = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {value}"}


def clever_basic() -> dict[str, str]:
    return basic(settings.SANDBOX_CLEVER_CLIENT_ID, settings.SANDBOX_CLEVER_CLIENT_SECRET)


def authorize_params(**extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": settings.SANDBOX_CLEVER_CLIENT_ID,
        "redirect_uri": CLEVER_CALLBACK,
        "state": "st4te",
        "nonce": "n0nce",
        "code_challenge": create_s256_code_challenge(VERIFIER),
        "code_challenge_method": "S256",
        **extra,
    }


def clever_code(client: Client, person: str = "clever-rusd-10001", **extra: str) -> str:
    response = client.get(
        "/sandbox/clever/oauth/authorize", authorize_params(login_hint=person, **extra)
    )
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(CLEVER_CALLBACK + "?")
    answer = query(location)
    assert answer["state"] == "st4te" and answer["iss"] == CLEVER_BASE
    return answer["code"]


def redeem(client: Client, code: str, **overrides: Any) -> Any:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CLEVER_CALLBACK,
        "code_verifier": VERIFIER,
        **overrides,
    }
    headers = overrides.pop("headers", None) or clever_basic()
    form.pop("headers", None)
    return client.post("/sandbox/clever/oauth/tokens", form, headers=headers)


def test_sign_in_page_lists_people_with_sign_in_buttons(client: Client) -> None:
    response = client.get("/sandbox/clever/oauth/authorize", authorize_params())
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count(">Sign in</button>") == 42 + 3 + 1
    assert "Maya Ramirez" in page and "Priya Patel" in page and "Grace Holloway" in page
    # Each button carries the whole request plus the person, so the request survives.
    assert 'name="code_challenge"' in page and 'value="clever-rusd-10001"' in page


def test_unknown_login_hint_shows_the_list_with_a_note(client: Client) -> None:
    response = client.get("/sandbox/clever/oauth/authorize", authorize_params(login_hint="ghost"))
    assert response.status_code == 200
    assert "Nobody in the sandbox data is called" in response.content.decode()


def test_unregistered_redirect_uri_gets_an_error_page_never_a_redirect(client: Client) -> None:
    for redirect in ("http://evil.example/cb", CLEVER_CALLBACK + "/", CLEVER_CALLBACK + "?x=1"):
        response = client.get(
            "/sandbox/clever/oauth/authorize",
            authorize_params(redirect_uri=redirect, login_hint="clever-rusd-10001"),
        )
        assert response.status_code == 400
        assert "not registered" in response.content.decode()


def test_unknown_client_is_refused(client: Client) -> None:
    response = client.get(
        "/sandbox/clever/oauth/authorize", authorize_params(client_id="someone-else")
    )
    assert response.status_code == 400


def test_code_exchange_gives_a_token_for_me_and_a_signed_id_token(client: Client) -> None:
    response = redeem(client, clever_code(client))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    keys = KeySet.import_key_set(client.get("/sandbox/clever/.well-known/jwks.json").json())
    token = jwt.decode(body["id_token"], keys, algorithms=["RS256"])
    assert token.claims["iss"] == CLEVER_BASE
    assert token.claims["aud"] == settings.SANDBOX_CLEVER_CLIENT_ID
    assert token.claims["sub"] == "clever-rusd-10001"
    assert token.claims["nonce"] == "n0nce"
    assert token.claims["district"] == "demo-riverside-unified"
    me = client.get(
        "/sandbox/clever/v3.0/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json()
    assert me["data"] == {
        "id": "clever-rusd-10001",
        "type": "user",
        "district": "demo-riverside-unified",
    }
    own = client.get(
        "/sandbox/clever/v3.0/users/clever-rusd-10001",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    validate_clever("/sandbox/clever/v3.0/users/clever-rusd-10001", {}, 200, own.json())
    # A user's SSO token reads that user only, and none of the district's data.
    other = client.get(
        "/sandbox/clever/v3.0/users/clever-rusd-10002",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert other.status_code == 404
    listing = client.get(
        "/sandbox/clever/v3.0/users", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert listing.status_code == 403


def test_a_code_is_used_once(client: Client) -> None:
    code = clever_code(client)
    assert redeem(client, code).status_code == 200
    again = redeem(client, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_verifier": "w" * 50},
        {"code_verifier": ""},
        {"redirect_uri": "http://testserver/sso/classlink/callback"},
        {"grant_type": "client_credentials"},
    ],
)
def test_token_request_must_match_the_authorization(
    client: Client, overrides: dict[str, str]
) -> None:
    response = redeem(client, clever_code(client), **overrides)
    assert response.status_code == 400
    assert response.json()["error"] in {"invalid_grant", "unsupported_grant_type"}
    assert "access_token" not in response.json()


def test_client_must_authenticate_with_basic(client: Client) -> None:
    code = clever_code(client)
    wrong = redeem(
        client,
        code,
        headers=basic(settings.SANDBOX_CLEVER_CLIENT_ID, "not-the-secret"),
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    in_body = client.post(
        "/sandbox/clever/oauth/tokens",
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": settings.SANDBOX_CLEVER_CLIENT_ID,
            "client_secret": settings.SANDBOX_CLEVER_CLIENT_SECRET,
        },
    )
    assert in_body.status_code == 401
    # A refused client does not burn the code.
    assert redeem(client, code).status_code == 200


def test_portal_launch_sends_a_code_without_state(client: Client) -> None:
    response = client.get("/sandbox/clever/portal", {"launch": "clever-rusd-10001"})
    assert response.status_code == 302
    assert response["Location"].startswith(CLEVER_CALLBACK + "?code=")
    assert set(query(response["Location"])) == {"code"}


def test_discovery_names_the_issuer_and_jwks(client: Client) -> None:
    for base, path in ((CLEVER_BASE, "/sandbox/clever"), (CLASSLINK_BASE, "/sandbox/classlink")):
        document = client.get(f"{path}/.well-known/openid-configuration").json()
        assert document["issuer"] == base
        assert document["jwks_uri"] == f"{base}/.well-known/jwks.json"
        keys = client.get(f"{path}/.well-known/jwks.json").json()["keys"]
        assert [k["kty"] for k in keys] == ["RSA"] and "d" not in keys[0]


def test_classlink_sign_in_by_sourced_id_with_post_body_credentials(client: Client) -> None:
    params = {
        "response_type": "code",
        "client_id": settings.SANDBOX_CLASSLINK_CLIENT_ID,
        "redirect_uri": CLASSLINK_CALLBACK,
        "scope": "openid profile oneroster",
        "state": "s",
        "nonce": "n",
        "code_challenge": create_s256_code_challenge(VERIFIER),
        "code_challenge_method": "S256",
        "login_hint": "RUSD-T001",
    }
    location = client.get("/sandbox/classlink/oauth2/v2/auth", params)["Location"]
    code = query(location)["code"]
    token = client.post(
        "/sandbox/classlink/oauth2/v2/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CLASSLINK_CALLBACK,
            "code_verifier": VERIFIER,
            "client_id": settings.SANDBOX_CLASSLINK_CLIENT_ID,
            "client_secret": settings.SANDBOX_CLASSLINK_CLIENT_SECRET,
        },
    )
    assert token.status_code == 200
    body = token.json()
    info = client.get(
        "/sandbox/classlink/v2/my/info", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json()
    assert info["SourcedId"] == "RUSD-T001"
    assert info["Role"] == "Teacher"
    assert (info["FirstName"], info["LastName"]) == ("Priya", "Patel")
    assert str(info["TenantId"]) == DEMO_TENANT
    assert info["OrgId"] == "org-riverside-elementary"
    keys = KeySet.import_key_set(client.get("/sandbox/classlink/.well-known/jwks.json").json())
    claims = jwt.decode(body["id_token"], keys, algorithms=["RS256"]).claims
    assert claims["sub"] == str(info["UserId"]) and claims["iss"] == CLASSLINK_BASE
    assert claims["nonce"] == "n"


def test_classlink_without_openid_scope_sends_no_id_token(client: Client) -> None:
    params = {
        "response_type": "code",
        "client_id": settings.SANDBOX_CLASSLINK_CLIENT_ID,
        "redirect_uri": CLASSLINK_CALLBACK,
        "scope": "profile",
        "login_hint": "RUSD-10001",
    }
    code = query(client.get("/sandbox/classlink/oauth2/v2/auth", params)["Location"])["code"]
    body = client.post(
        "/sandbox/classlink/oauth2/v2/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CLASSLINK_CALLBACK,
        },
        headers=basic(
            settings.SANDBOX_CLASSLINK_CLIENT_ID, settings.SANDBOX_CLASSLINK_CLIENT_SECRET
        ),
    ).json()
    assert "access_token" in body and "id_token" not in body


def test_my_info_needs_a_token(client: Client) -> None:
    assert client.get("/sandbox/classlink/v2/my/info").status_code == 401
