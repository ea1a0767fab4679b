"""Every way a sign-on can be wrong is refused: a clear page with 400/403, no signed-in
session, nothing created, one audit row saying why."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from django.test import Client
from django.utils import timezone
from joserfc.jwk import RSAKey

from carryover.accounts.models import Account, ExternalIdentity, School, SeatState, User
from carryover.sandbox import classlink as classlink_sandbox
from carryover.sandbox import clever as clever_sandbox
from carryover.sandbox import keys, store
from carryover.sso.models import ProviderConnection
from carryover.sso.services import connect_provider
from tests.accounts.factories import RosteredStudentFactory
from tests.sandbox.support import (
    CLEVER_BASE,
    DEMO_DISTRICT,
    DEMO_TENANT,
    choose,
    local,
    query,
    sign_in,
    start,
)
from tests.sandbox.transport import DjangoTestClientAdapter
from tests.sso.support import assert_refused, counts, failures, signed_in_user_id

pytestmark = pytest.mark.django_db

NOT_CONNECTED = (
    "Your district isn&#x27;t connected to carryover yet — ask your school&#x27;s administrator."
)


@pytest.fixture
def connected(account: Account, school: School) -> tuple[ProviderConnection, ProviderConnection]:
    return (
        connect_provider(account=account, provider="clever", tenant=DEMO_DISTRICT),
        connect_provider(account=account, provider="classlink", tenant=DEMO_TENANT),
    )


def callback_url(client: Client, provider: str, person: str) -> str:
    return local(choose(client, start(client, provider), person))


def with_params(url: str, **changes: str | None) -> str:
    path, _, _ = url.partition("?")
    params = {**query(url), **changes}
    return f"{path}?{urlencode({k: v for k, v in params.items() if v is not None})}"


def token_posts(sandbox: DjangoTestClientAdapter, provider: str) -> int:
    path = (
        "/sandbox/clever/oauth/tokens"
        if provider == "clever"
        else "/sandbox/classlink/oauth2/v2/token"
    )
    return sandbox.calls.count(("POST", path))


# --- state ----------------------------------------------------------------------------


@pytest.mark.usefixtures("connected")
def test_missing_state_is_refused(client: Client) -> None:
    before = counts()
    url = callback_url(client, "classlink", "RUSD-10041")
    response = client.get(with_params(url, state=None))
    assert_refused(client, response, "state_missing", status=400, before=before)


@pytest.mark.usefixtures("connected")
def test_wrong_state_is_refused(client: Client, sandbox: DjangoTestClientAdapter) -> None:
    before = counts()
    url = callback_url(client, "clever", "clever-rusd-10041")
    response = client.get(with_params(url, state="forged-state"))
    assert_refused(client, response, "state_mismatch", status=400, before=before)
    assert token_posts(sandbox, "clever") == 0


@pytest.mark.usefixtures("connected")
def test_state_from_another_browser_is_refused(client: Client) -> None:
    before = counts()
    url = callback_url(Client(), "clever", "clever-rusd-10041")  # started elsewhere
    assert_refused(client, client.get(url), "state_mismatch", status=400, before=before)


@pytest.mark.usefixtures("connected")
def test_state_of_the_other_provider_is_refused_mix_up(
    client: Client, sandbox: DjangoTestClientAdapter
) -> None:
    """An answer to a ClassLink sign-on delivered to the Clever callback: its code is
    never sent to Clever's token endpoint, and the state is spent."""
    before = counts()
    classlink_answer = callback_url(client, "classlink", "RUSD-10041")
    _, _, params = classlink_answer.partition("?")
    response = client.get(f"/sso/clever/callback?{params}")
    event = assert_refused(client, response, "state_wrong_provider", status=400, before=before)
    assert event.data["method"] == "clever"
    assert token_posts(sandbox, "clever") == token_posts(sandbox, "classlink") == 0
    # The state was used up: the right callback cannot use it afterwards either.
    again = client.get(classlink_answer)
    assert again.status_code == 400 and len(failures("state_mismatch")) == 1


@pytest.mark.usefixtures("connected")
def test_expired_state_is_refused(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    url = callback_url(client, "clever", "clever-rusd-10041")
    settings.SSO_STATE_MAX_AGE = -1
    assert_refused(client, client.get(url), "state_mismatch", status=400, before=before)


@pytest.mark.usefixtures("connected")
def test_provider_error_is_refused(client: Client) -> None:
    before = counts()
    url = callback_url(client, "clever", "clever-rusd-10041")
    response = client.get(with_params(url, code=None, error="access_denied"))
    event = assert_refused(client, response, "provider_error", status=400, before=before)
    assert event.data["detail"] == "access_denied"


@pytest.mark.usefixtures("connected")
def test_redirect_uri_changed_since_the_start_is_refused(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    url = callback_url(client, "clever", "clever-rusd-10041")
    settings.SITE_URL = "https://carryover.example"
    assert_refused(client, client.get(url), "redirect_uri_mismatch", status=400, before=before)


# --- issuer, nonce, id_token ------------------------------------------------------------


@pytest.mark.usefixtures("connected")
def test_wrong_issuer_in_the_authorization_response_is_refused(client: Client) -> None:
    before = counts()
    url = callback_url(client, "clever", "clever-rusd-10041")
    assert query(url)["iss"] == CLEVER_BASE
    response = client.get(with_params(url, iss="https://attacker.example"))
    assert_refused(client, response, "issuer_mismatch", status=400, before=before)


@pytest.mark.usefixtures("connected")
def test_wrong_nonce_is_refused(client: Client) -> None:
    before = counts()
    authorize = start(client, "clever")
    # The id_token will carry the nonce the request sent; the session expects another.
    session = client.session
    pending = session["sso_pending"]
    for entry in pending.values():
        entry["nonce"] = "a-different-nonce-" + "x" * 30
    session["sso_pending"] = pending
    session.save()
    response = client.get(local(choose(client, authorize, "clever-rusd-10041")))
    event = assert_refused(client, response, "id_token_invalid", status=400, before=before)
    assert "nonce" in event.data["detail"]


def tamper(monkeypatch: pytest.MonkeyPatch, module: Any, **changes: Any) -> None:
    """Make a sandbox issue id_tokens with these claims changed (still properly signed)."""
    original: Callable[..., dict[str, Any]] = module.id_token_claims

    def changed(**kwargs: Any) -> dict[str, Any]:
        return {**original(**kwargs), **changes}

    monkeypatch.setattr(module, "id_token_claims", changed)


@pytest.mark.usefixtures("connected")
@pytest.mark.parametrize(
    ("provider", "person", "changes", "reason", "detail"),
    [
        ("clever", "clever-rusd-10041", {"iss": "https://clever.com"}, "id_token_invalid", "iss"),
        ("classlink", "RUSD-10041", {"iss": CLEVER_BASE}, "id_token_invalid", "iss"),
        ("clever", "clever-rusd-10041", {"aud": "another-app"}, "id_token_invalid", "aud"),
        ("classlink", "RUSD-10041", {"aud": ["another-app"]}, "id_token_invalid", "aud"),
        (
            "clever",
            "clever-rusd-10041",
            {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
            "id_token_invalid",
            "exp",
        ),
        ("clever", "clever-rusd-10041", {"nonce": None}, "id_token_invalid", "nonce"),
        ("clever", "clever-rusd-10041", {"sub": "clever-rusd-10001"}, "identity_mismatch", ""),
        ("clever", "clever-rusd-10041", {"district": "another"}, "identity_mismatch", ""),
        ("classlink", "RUSD-10041", {"sub": "1"}, "identity_mismatch", ""),
    ],
)
def test_id_token_claims_are_checked(
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
    provider: str,
    person: str,
    changes: dict[str, Any],
    reason: str,
    detail: str,
) -> None:
    before = counts()
    tamper(monkeypatch, clever_sandbox if provider == "clever" else classlink_sandbox, **changes)
    response = client.get(callback_url(client, provider, person))
    event = assert_refused(client, response, reason, status=400, before=before)
    assert detail in event.data["detail"]


@pytest.mark.usefixtures("connected")
def test_signature_by_another_key_with_the_published_key_id_is_refused(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = counts()
    # Another key that claims the published key's id.
    fresh = RSAKey.generate_key(2048, private=True).as_dict(private=True)
    impostor = RSAKey.import_key({**fresh, "kid": keys.signing_key().kid})
    real_sign = keys.sign_id_token
    monkeypatch.setattr(
        clever_sandbox, "sign_id_token", lambda claims: real_sign(claims, key=impostor)
    )
    response = client.get(callback_url(client, "clever", "clever-rusd-10041"))
    event = assert_refused(client, response, "id_token_invalid", status=400, before=before)
    assert "bad_signature" in event.data["detail"]


@pytest.mark.usefixtures("connected")
def test_unknown_signing_key_is_refused_after_one_jwks_refresh(
    client: Client, monkeypatch: pytest.MonkeyPatch, sandbox: DjangoTestClientAdapter
) -> None:
    before = counts()
    stranger = RSAKey.generate_key(2048, private=True)
    stranger.ensure_kid()
    real_sign = keys.sign_id_token
    monkeypatch.setattr(
        classlink_sandbox, "sign_id_token", lambda claims: real_sign(claims, key=stranger)
    )
    response = client.get(callback_url(client, "classlink", "RUSD-10041"))
    assert_refused(client, response, "id_token_invalid", status=400, before=before)
    assert sandbox.calls.count(("GET", "/sandbox/classlink/.well-known/jwks.json")) == 2


# --- codes ------------------------------------------------------------------------------


@pytest.mark.usefixtures("connected")
def test_a_code_is_used_once(client: Client, sandbox: DjangoTestClientAdapter) -> None:
    first = callback_url(client, "clever", "clever-rusd-10041")
    assert client.get(first).status_code == 302
    client.logout()
    before = counts()
    # Replaying the whole answer: its state is spent.
    assert_refused(client, client.get(first), "state_mismatch", status=400, before=before)
    # The old code under a fresh state of this browser: refused before the provider.
    fresh = query(start(client, "clever"))["state"]
    response = client.get(with_params(first, state=fresh))
    assert response.status_code == 400 and len(failures("code_reused")) == 1
    assert signed_in_user_id(client) is None
    assert token_posts(sandbox, "clever") == 1


@pytest.mark.usefixtures("connected")
def test_clever_portal_code_without_state_is_never_used_and_sign_in_restarts(
    client: Client, sandbox: DjangoTestClientAdapter
) -> None:
    before = counts()
    launch = client.get("/sandbox/clever/portal", {"launch": "clever-rusd-10041"})
    unsolicited = local(launch["Location"])
    portal_code = query(unsolicited)["code"]

    response = client.get(unsolicited)

    assert response.status_code == 302 and response["Location"] == "/sso/clever/login"
    assert signed_in_user_id(client) is None
    assert counts() == before
    assert token_posts(sandbox, "clever") == 0
    assert not store.code_was_redeemed("clever", portal_code)
    # Our own request, which Clever answers at once for someone signed in to Clever.
    authorize = client.get("/sso/clever/login")["Location"]
    assert "state=" in authorize and portal_code not in authorize
    assert client.get(local(choose(client, authorize, "clever-rusd-10041"))).status_code == 302
    assert signed_in_user_id(client) is not None


def test_classlink_code_without_state_is_refused(client: Client) -> None:
    before = counts()
    response = client.get("/sso/classlink/callback", {"code": "unsolicited"})
    assert_refused(client, response, "state_missing", status=400, before=before)


# --- who may sign in --------------------------------------------------------------------


def test_district_not_connected_gets_a_clear_page(client: Client, account: Account) -> None:
    before = counts()
    response = sign_in(client, "clever", "clever-rusd-10041")
    assert_refused(client, response, "district_not_connected", status=403, before=before)
    assert NOT_CONNECTED in response.content.decode()
    classlink = sign_in(client, "classlink", "RUSD-10041")
    assert classlink.status_code == 403 and NOT_CONNECTED in classlink.content.decode()


@pytest.mark.usefixtures("connected")
def test_district_in_the_token_not_the_identitys_is_refused(
    client: Client, account: Account, school: School
) -> None:
    maya = RosteredStudentFactory(account=account, school=school)
    ExternalIdentity.objects.create(
        user=maya, provider="clever", tenant="another-district", subject="clever-rusd-10001"
    )
    before = counts()
    response = sign_in(client, "clever", "clever-rusd-10001")
    event = assert_refused(client, response, "district_mismatch", status=403, before=before)
    assert event.account_id == account.pk


def test_identity_in_another_account_than_the_district_is_refused(
    client: Client, account: Account, school: School, other_account: Account
) -> None:
    connect_provider(account=account, provider="clever", tenant=DEMO_DISTRICT)
    elsewhere = RosteredStudentFactory(
        account=other_account, school=School.objects.create(account=other_account, name="Birch")
    )
    ExternalIdentity.objects.create(
        user=elsewhere, provider="clever", tenant=DEMO_DISTRICT, subject="clever-rusd-10001"
    )
    before = counts()
    response = sign_in(client, "clever", "clever-rusd-10001")
    assert_refused(client, response, "account_mismatch", status=403, before=before)


@pytest.mark.usefixtures("connected")
@pytest.mark.parametrize("state", ["merged", "archived", "erased"])
def test_inactive_or_merged_user_is_refused(
    client: Client, account: Account, school: School, state: str
) -> None:
    maya = RosteredStudentFactory(account=account, school=school)
    ExternalIdentity.objects.create(
        user=maya, provider="clever", tenant=DEMO_DISTRICT, subject="clever-rusd-10001"
    )
    now = timezone.now()
    if state == "merged":
        target = RosteredStudentFactory(account=account, school=school)
        User.objects.filter(pk=maya.pk).update(
            seat_state=SeatState.MERGED, merged_into=target, merged_at=now, is_active=False
        )
    elif state == "erased":
        User.objects.filter(pk=maya.pk).update(
            seat_state=SeatState.ERASED, erased_at=now, is_active=False
        )
    else:
        User.objects.filter(pk=maya.pk).update(is_active=False)
    before = counts()
    response = sign_in(client, "clever", "clever-rusd-10001")
    assert_refused(client, response, "user_inactive", status=403, before=before)


@pytest.mark.usefixtures("connected")
def test_inactive_rostered_person_is_not_linked_either(
    client: Client, account: Account, school: School
) -> None:
    RosteredStudentFactory(account=account, school=school, sis_id="RUSD-10001", is_active=False)
    before = counts()
    response = sign_in(client, "classlink", "RUSD-10001")
    assert_refused(client, response, "user_inactive", status=403, before=before)


@pytest.mark.usefixtures("connected")
def test_a_failed_sign_on_leaves_whoever_was_signed_in_signed_in(
    client: Client, teacher: User
) -> None:
    """Anyone can send a browser to a callback with a made-up state (a link, an image):
    that must not sign a teacher out in the middle of a lesson."""
    client.force_login(teacher)
    session_key = client.session.session_key
    before = counts()
    url = callback_url(client, "clever", "clever-rusd-10041")
    event = assert_refused(
        client,
        client.get(with_params(url, state="nope")),
        "state_mismatch",
        status=400,
        before=before,
        still_signed_in=teacher.pk,
    )
    assert "signed_out_user" not in event.data
    assert client.session.session_key == session_key
    assert client.get("/classes/").status_code == 200


@pytest.mark.usefixtures("connected")
def test_provider_down_is_a_502_page(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    before = counts()
    url = callback_url(client, "clever", "clever-rusd-10041")

    def down(self: Any, request: Any, **kwargs: Any) -> Any:
        raise requests.ConnectionError("no route to host")

    monkeypatch.setattr(DjangoTestClientAdapter, "send", down)
    assert_refused(client, client.get(url), "provider_unreachable", status=502, before=before)


def test_unconfigured_provider_is_a_503_page(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CLEVER_CLIENT_SECRET = ""
    before = counts()
    response = client.get("/sso/clever/login")
    assert_refused(client, response, "provider_not_configured", status=503, before=before)
    assert settings.CLEVER_CLIENT_ID  # the id alone is not enough


DEAD_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
    }
}


@pytest.mark.usefixtures("connected")
def test_with_the_cache_unreachable_a_sign_on_is_a_clear_503(client: Client, settings: Any) -> None:
    """The code-replay guard lives in the cache: without it a replayed code could not be
    told apart, so the sign-on is refused with a page that says to wait, not a 500."""
    url = callback_url(client, "clever", "clever-rusd-10041")
    before = counts()
    settings.CACHES = DEAD_CACHE

    response = client.get(url)

    assert_refused(client, response, "cache_unavailable", status=503, before=before)
    assert "wait a minute" in response.content.decode()
