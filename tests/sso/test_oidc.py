"""id_token checks on their own: only RS256 signatures by the provider's published key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from carryover.sandbox import keys
from carryover.sso.errors import SignOnError
from carryover.sso.oidc import validate_id_token
from carryover.sso.providers import get_provider
from tests.sandbox.support import CLEVER_BASE

pytestmark = pytest.mark.django_db


def claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    base = {
        "iss": CLEVER_BASE,
        "sub": "clever-rusd-10041",
        "aud": get_provider("clever").client_id,
        "iat": now,
        "exp": now + 600,
        "nonce": "n" * 40,
    }
    return {**base, **changes}


def check(token: str) -> object:
    return validate_id_token(get_provider("clever"), token, nonce="n" * 40, access_token="a")


def test_a_token_signed_by_the_published_key_passes() -> None:
    result = check(keys.sign_id_token(claims(district="d1")))
    assert getattr(result, "subject") == "clever-rusd-10041"  # noqa: B009
    assert getattr(result, "district") == "d1"  # noqa: B009


def part(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_hs256_with_the_public_key_as_secret_is_refused() -> None:
    """The classic algorithm confusion: an HMAC "signed" with the public key."""
    public_pem = keys.signing_key().as_pem(private=False)
    signing_input = f"{part({'alg': 'HS256', 'kid': keys.signing_key().kid})}.{part(claims())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(SignOnError) as refused:
        check(forged)
    assert refused.value.code == "id_token_invalid"


def test_unsigned_token_is_refused() -> None:
    unsigned = f"{part({'alg': 'none'})}.{part(claims())}."
    with pytest.raises(SignOnError) as refused:
        check(unsigned)
    assert refused.value.code == "id_token_invalid"


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "aud", "iss", "nonce"])
def test_each_required_claim_must_be_there(missing: str) -> None:
    token_claims = claims()
    del token_claims[missing]
    with pytest.raises(SignOnError) as refused:
        check(keys.sign_id_token(token_claims))
    assert refused.value.code == "id_token_invalid"


def test_garbage_is_refused() -> None:
    with pytest.raises(SignOnError):
        check("not.a.jwt")
