"""Provider calls retry 429 and 5xx a bounded number of times, with backoff and jitter,
honouring Retry-After; then the sync fails naming the request, as before.

The answers are faked with `responses` (which runs urllib3's Retry as requests would, but
never sleeps); the waits themselves are measured against a real server on loopback.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import responses
from responses.registries import OrderedRegistry
from urllib3.exceptions import MaxRetryError
from urllib3.response import HTTPResponse

from carryover import http_retry
from carryover.accounts.models import User
from carryover.rostering import services
from carryover.rostering.errors import SourceError
from carryover.rostering.models import ConnectionProvider, SyncSource, SyncStatus
from carryover.rostering.sources.http import JsonClient
from carryover.rostering.sources.oneroster_rest import ClientCredentials
from carryover.sso import flow
from carryover.sso.providers import CLEVER, ProviderConfig
from tests.rostering.test_http_sources import CLEVER as CLEVER_BASE
from tests.rostering.test_http_sources import clever_page, fake_clever

URL = "https://clever.test/v3.0/districts"


@pytest.fixture(autouse=True)
def _policy(settings):
    settings.PROVIDER_HTTP_RETRIES = 4
    settings.PROVIDER_HTTP_BACKOFF_SECONDS = 0.01
    settings.PROVIDER_HTTP_RETRY_AFTER_MAX = 120
    settings.SSO_HTTP_RETRIES = 2
    settings.SSO_HTTP_BACKOFF_SECONDS = 0.01
    settings.SSO_HTTP_RETRY_AFTER_MAX = 3


def test_a_429_then_a_503_then_the_answer():
    with responses.RequestsMock(registry=OrderedRegistry) as rsps:
        rsps.get(URL, status=429, headers={"Retry-After": "2"})
        rsps.get(URL, status=503)
        rsps.get(URL, json={"data": []})

        body, _response = JsonClient().get(URL)

        assert body == {"data": []}
        assert [call.response.status_code for call in rsps.calls] == [429, 503, 200]


def test_a_provider_that_stays_down_is_asked_a_bounded_number_of_times():
    with responses.RequestsMock() as rsps:
        rsps.get(URL, status=503)

        with pytest.raises(SourceError) as excinfo:
            JsonClient().get(URL)

        assert len(rsps.calls) == 5  # the first try and PROVIDER_HTTP_RETRIES more
    assert str(excinfo.value).startswith("GET /v3.0/districts: HTTP 503 Service Unavailable")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_other_refusals_are_not_retried(status):
    with responses.RequestsMock() as rsps:
        rsps.get(URL, status=status)
        with pytest.raises(SourceError):
            JsonClient().get(URL)
        assert len(rsps.calls) == 1


def test_a_retry_after_longer_than_allowed_is_not_shortened_the_sync_fails_at_once():
    with responses.RequestsMock() as rsps:
        rsps.get(URL, status=429, headers={"Retry-After": "3600"})
        with pytest.raises(SourceError) as excinfo:
            JsonClient().get(URL)
        assert len(rsps.calls) == 1
    assert "HTTP 429" in str(excinfo.value)
    assert "the server asks to wait 3600 s" in str(excinfo.value)


@pytest.mark.django_db
def test_a_sync_rides_out_a_busy_provider_and_applies(account):
    services.connect_provider(
        account=account,
        provider=ConnectionProvider.CLEVER,
        secret="tok",
        base_url=CLEVER_BASE,
        district_id="d1",
    )
    sync = services.start_sync(account=account, source=SyncSource.CLEVER)
    answers = iter(
        [
            (429, {"Retry-After": "1"}, ""),
            (502, {}, ""),
            (200, {}, json.dumps(clever_page([{"id": "d1", "name": "Maple ISD"}]))),
        ]
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_clever(rsps)
        rsps.remove(responses.GET, f"{CLEVER_BASE}/v3.0/districts")
        rsps.add_callback(
            responses.GET, f"{CLEVER_BASE}/v3.0/districts", callback=lambda request: next(answers)
        )

        result = services.run_sync(sync_id=sync.pk)
        districts_asked = sum(1 for c in rsps.calls if "/v3.0/districts" in c.request.url)

    assert result.status == SyncStatus.APPLIED, result.errors
    assert districts_asked == 3
    assert User.objects.filter(account=account, is_legacy=False).count() == 6


@pytest.mark.django_db
def test_a_sync_whose_provider_stays_down_fails_naming_the_request_and_applies_nothing(account):
    services.connect_provider(
        account=account,
        provider=ConnectionProvider.CLEVER,
        secret="tok",
        base_url=CLEVER_BASE,
        district_id="d1",
    )
    sync = services.start_sync(account=account, source=SyncSource.CLEVER)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_clever(rsps)
        rsps.replace(responses.GET, f"{CLEVER_BASE}/v3.0/sections", status=503)

        result = services.run_sync(sync_id=sync.pk)
        sections_asked = sum(1 for c in rsps.calls if "/v3.0/sections" in c.request.url)

    assert result.status == SyncStatus.FAILED
    assert result.errors[0].startswith("GET /v3.0/sections?limit=1000: HTTP 503")
    assert sections_asked == 5
    assert not User.objects.filter(account=account).exists()


def test_the_oneroster_token_request_is_retried_too():
    with responses.RequestsMock(registry=OrderedRegistry) as rsps:
        rsps.post("https://roster.test/token", status=503)
        rsps.post(
            "https://roster.test/token",
            json={"access_token": "a", "token_type": "Bearer", "expires_in": 3600},
        )
        credentials = ClientCredentials(
            token_url="https://roster.test/token", client_id="c", client_secret="s"
        )
        credentials.fetch()
        assert len(rsps.calls) == 2


PROVIDER = ProviderConfig(
    name=CLEVER,
    label="Clever",
    client_id="cid",
    client_secret="secret",
    authorize_url="https://clever.test/oauth/authorize",
    token_url="https://clever.test/oauth/tokens",
    api_base="https://api.clever.test",
    issuer="https://clever.test",
    jwks_url="https://clever.test/jwks",
    scope="",
    token_auth_method="client_secret_basic",
)


def _pending() -> flow.PendingSignOn:
    return flow.PendingSignOn(
        provider=CLEVER,
        state="s",
        nonce="n",
        code_verifier="v" * 64,
        redirect_uri="https://carryover.test/sso/clever/callback",
        next_url="",
        started_at=time.time(),
    )


def test_the_sign_on_token_and_profile_calls_retry_briefly():
    with responses.RequestsMock(registry=OrderedRegistry) as rsps:
        rsps.post(PROVIDER.token_url, status=502)
        rsps.post(PROVIDER.token_url, json={"access_token": "at", "token_type": "Bearer"})
        rsps.get(f"{PROVIDER.api_base}/v3.0/me", status=429, headers={"Retry-After": "1"})
        rsps.get(f"{PROVIDER.api_base}/v3.0/me", json={"data": {"id": "u1"}})

        tokens = flow.exchange_code(provider=PROVIDER, pending=_pending(), code="c")
        me = flow._api_get(PROVIDER, "/v3.0/me", tokens.access_token)

        assert tokens.access_token == "at"
        assert me == {"data": {"id": "u1"}}
        assert len(rsps.calls) == 4


def test_a_sign_on_provider_that_stays_down_is_a_clear_refusal_after_three_tries():
    from carryover.sso.errors import SignOnError

    with responses.RequestsMock() as rsps:
        rsps.get(f"{PROVIDER.api_base}/v3.0/me", status=503)
        with pytest.raises(SignOnError) as excinfo:
            flow._api_get(PROVIDER, "/v3.0/me", "at")
        assert len(rsps.calls) == 3  # the first try and SSO_HTTP_RETRIES more
    assert excinfo.value.code == "provider_bad_answer"


def _after_503s(policy: http_retry.Policy, n: int):
    retry = policy.retry()
    for _ in range(n):
        retry = retry.increment(method="GET", url="/x", response=HTTPResponse(status=503))
    return retry


def test_the_backoff_grows_exponentially_with_jitter():
    policy = http_retry.Policy(retries=5, backoff_seconds=0.5, retry_after_max=60)

    for n in range(2, 6):
        wait = _after_503s(policy, n).get_backoff_time()
        base = 0.5 * 2 ** (n - 1)
        assert base <= wait <= base + 0.5, (n, wait)
    # Jitter: the same policy at the same step does not wait the same time twice.
    assert len({_after_503s(policy, 2).get_backoff_time() for _ in range(10)}) > 1


def test_after_the_last_retry_the_answer_goes_back_to_the_caller():
    policy = http_retry.Policy(retries=2, backoff_seconds=0.5, retry_after_max=60)

    with pytest.raises(MaxRetryError):
        _after_503s(policy, 3)


class _Busy(BaseHTTPRequestHandler):
    hits: list[float] = []

    def do_GET(self) -> None:
        _Busy.hits.append(time.monotonic())
        if len(_Busy.hits) == 1:
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"data": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_retry_after_is_waited_for_against_a_real_server():
    _Busy.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        body, response = JsonClient().get(f"http://127.0.0.1:{server.server_address[1]}/v3.0/x")
    finally:
        server.shutdown()

    assert body == {"data": []}
    assert len(_Busy.hits) == 2
    assert _Busy.hits[1] - _Busy.hits[0] >= 1.0
    assert http_retry.attempts(response) == 2
