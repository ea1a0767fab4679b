"""TRUSTED_PROXIES: X-Forwarded-For is believed from our proxies only, read from the right.

The unit cases pin the rule; the request cases prove that what the limits and the audit
trail record is that address (a spoof from a client we do not trust changes nothing).
The same is proven through real nginx in tests/deploy/test_nginx_stack.py.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from carryover.audit.models import AuditEvent, EventType
from carryover.ops.proxy import client_address, parse_networks

NGINX = tuple(parse_networks(["127.0.0.1", "10.0.0.0/8", "::1"]))


@pytest.mark.parametrize(
    ("peer", "header", "trusted", "expected"),
    [
        # No proxies trusted: the header is ignored whoever sends it.
        ("127.0.0.1", "203.0.113.7", (), "127.0.0.1"),
        # Our proxy appended the address it saw.
        ("127.0.0.1", "203.0.113.7", NGINX, "203.0.113.7"),
        # A client wrote its own header; our proxy appended the real address: the right-most
        # untrusted one counts, the claim left of it does not.
        ("127.0.0.1", "198.51.100.1, 203.0.113.7", NGINX, "203.0.113.7"),
        # Two proxies of ours (a balancer at 10.1.2.3, then nginx).
        ("127.0.0.1", "198.51.100.1, 203.0.113.7, 10.1.2.3", NGINX, "203.0.113.7"),
        # The same header from a client we do not trust: ignored.
        ("198.51.100.99", "203.0.113.7", NGINX, "198.51.100.99"),
        # Everything is ours (a teacher on the office LAN): the farthest hop is the client.
        ("127.0.0.1", "10.9.8.7", NGINX, "10.9.8.7"),
        # Garbage a client put in: the right-most real address before it counts.
        ("127.0.0.1", "not-an-ip, 203.0.113.7", NGINX, "203.0.113.7"),
        ("127.0.0.1", "203.0.113.7, unknown", NGINX, "127.0.0.1"),
        # Ports and brackets as some balancers write them; IPv4-mapped IPv6.
        ("127.0.0.1", "203.0.113.7:5100", NGINX, "203.0.113.7"),
        ("::1", "[2001:db8::7]:443", NGINX, "2001:db8::7"),
        ("::ffff:127.0.0.1", "203.0.113.7", NGINX, "203.0.113.7"),
        # A trusted peer without the header.
        ("127.0.0.1", "", NGINX, "127.0.0.1"),
    ],
)
def test_the_client_is_the_right_most_untrusted_address(peer, header, trusted, expected):
    assert client_address(peer, header, trusted) == expected


def test_a_long_header_is_read_only_near_its_end():
    header = ", ".join(["198.51.100.1"] * 10_000 + ["203.0.113.7"])
    assert client_address("127.0.0.1", header, NGINX) == "203.0.113.7"


def _fail_sign_in(client, **headers):
    return client.post(
        reverse("web:sign_in"),
        {"panel": "student", "account_number": "314159", "username": "mayar7", "passcode": "0"},
        **headers,
    )


@pytest.mark.django_db
def test_the_audit_row_records_the_client_behind_a_trusted_proxy(client, legacy_student, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]

    _fail_sign_in(client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")

    event = AuditEvent.objects.get(event_type=EventType.USER_SIGN_IN_FAILED)
    assert event.ip_address == "203.0.113.7"


@pytest.mark.django_db
def test_a_spoofed_header_from_an_untrusted_client_is_ignored(client, legacy_student, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]

    _fail_sign_in(client, REMOTE_ADDR="198.51.100.99", HTTP_X_FORWARDED_FOR="203.0.113.7")

    event = AuditEvent.objects.get(event_type=EventType.USER_SIGN_IN_FAILED)
    assert event.ip_address == "198.51.100.99"


@pytest.mark.django_db
def test_without_trusted_proxies_the_header_is_ignored(client, legacy_student, settings):
    settings.TRUSTED_PROXIES = []

    _fail_sign_in(client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")

    event = AuditEvent.objects.get(event_type=EventType.USER_SIGN_IN_FAILED)
    assert event.ip_address == "127.0.0.1"


@pytest.mark.django_db
def test_the_per_address_sign_in_limit_counts_each_client_behind_the_proxy(
    client, legacy_student, settings
):
    """Behind nginx every request comes from 127.0.0.1; the limit must count the children's
    addresses, not the proxy's, or one school's mistakes lock every school out."""
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.SIGN_IN_IP_FAILURES_PER_15_MIN = 2
    settings.SIGN_IN_FAILURES_PER_15_MIN = 100
    for _ in range(2):
        assert (
            _fail_sign_in(
                client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7"
            ).status_code
            == 200
        )
    assert (
        _fail_sign_in(
            client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7"
        ).status_code
        == 429
    )
    # Another school, through the same proxy: its own counter.
    assert (
        _fail_sign_in(
            client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20"
        ).status_code
        == 200
    )
    # The throttled client cannot get round it by writing another address itself.
    assert (
        _fail_sign_in(
            client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20, 203.0.113.7"
        ).status_code
        == 429
    )
    # Throttled attempts are summarised per identity and address and window: the rows
    # name the throttled school's address, never the proxy's or the forged one.
    throttled = AuditEvent.objects.filter(event_type=EventType.USER_SIGN_IN_THROTTLED)
    assert set(throttled.values_list("ip_address", flat=True)) == {"203.0.113.7"}
