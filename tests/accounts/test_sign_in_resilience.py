"""Sign-in and Get Records when things go wrong around them: the cache that holds the
limits is unreachable (503, never a 500, and no password checked), typing slips (at
once, counting nothing), and a flood of throttled tries (counted, audited in summary)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from carryover.audit.models import AuditEvent, EventType
from carryover.merging.models import GetRecordsGuard
from tests.accounts.test_lookalikes import count_hash_checks
from tests.merging.helpers import world_state

pytestmark = pytest.mark.django_db

DETAILS = {"account_number": "314159", "username": "mayar7", "passcode": "1234"}
DEAD_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
    }
}


def page(client: Client, **fields: str) -> Any:
    return client.post(
        reverse("web:sign_in"),
        {"panel": "student", **DETAILS, **fields},
        REMOTE_ADDR="198.51.100.7",
    )


def api(client: Client, **fields: str) -> Any:
    return client.post(
        reverse("api:session"),
        json.dumps({**DETAILS, **fields}),
        content_type="application/json",
        REMOTE_ADDR="198.51.100.7",
    )


# --- the cache is unreachable -----------------------------------------------------------


def test_without_the_cache_the_sign_in_page_is_a_clear_503(client, legacy_student, settings):
    settings.CACHES = DEAD_CACHE
    before = world_state()

    with count_hash_checks() as counted:
        response = page(client)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    assert "We can&#x27;t sign you in right now" in html or "We can't sign you in right now" in html
    assert counted.call_count == 0  # no passcode checked without its limits
    assert "_auth_user_id" not in client.session
    assert world_state() == before
    assert not AuditEvent.objects.exists()


def test_without_the_cache_the_api_answers_a_json_503(client, legacy_student, settings):
    settings.CACHES = DEAD_CACHE

    response = api(client)

    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
    assert response["Retry-After"] == "30"


def test_without_the_cache_staff_sign_in_is_a_503_too(client, teacher, settings):
    settings.CACHES = DEAD_CACHE
    response = client.post(
        reverse("web:sign_in"),
        {"panel": "staff", "email": "tess@maple.example", "password": "teacher-pass-123"},
    )
    assert response.status_code == 503
    assert "_auth_user_id" not in client.session


def test_without_the_cache_get_records_is_a_503(client, legacy_student, rostered_student, settings):
    client.force_login(rostered_student)
    settings.CACHES = DEAD_CACHE
    before = world_state()
    fields = {k: DETAILS[k] for k in ("username", "passcode", "account_number")}

    with count_hash_checks() as counted:
        response = client.post(reverse("merging:get_records"), fields)
        answer = client.post(
            reverse("api:get_records"), json.dumps(fields), content_type="application/json"
        )

    assert response.status_code == 503
    assert "isn&#x27;t working right now" in response.content.decode()
    assert answer.status_code == 503
    assert answer.json()["error"] == "service_unavailable"
    assert counted.call_count == 0
    assert world_state() == before


# --- typing slips -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"account_number": "31415"}, "account_number_six_digits", "account_number"),
        ({"account_number": "314 15x"}, "account_number_six_digits", "account_number"),
        ({"account_number": ""}, "blank_field", "account_number"),
        ({"username": " "}, "blank_field", "username"),
        ({"passcode": ""}, "blank_field", "passcode"),
    ],
)
def test_the_api_answers_a_typing_slip_at_once_counting_nothing(
    client, legacy_student, settings, fields, code, field
):
    settings.SIGN_IN_FAILURES_PER_15_MIN = 1
    with count_hash_checks() as counted:
        for _ in range(3):
            response = api(client, **fields)
            assert response.status_code == 400
            assert (response.json()["error"], response.json()["field"]) == (code, field)

    assert counted.call_count == 0
    assert not AuditEvent.objects.exists()
    assert not GetRecordsGuard.objects.exists()
    assert api(client).status_code == 200  # no limit was touched


def test_a_spaced_or_full_width_account_number_is_no_slip(client, legacy_student):
    assert api(client, account_number=" 314 159 ").status_code == 200
    client.delete(reverse("api:session"))
    assert api(client, account_number="\uff13\uff11\uff14\uff11\uff15\uff19").status_code == 200


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"account_number": "31415"}, "six numbers"),
        ({"account_number": ""}, "Type your school&#x27;s account number"),
        ({"username": ""}, "Type your old username."),
        ({"passcode": ""}, "Type your old passcode."),
    ],
)
def test_get_records_answers_a_typing_slip_at_once_counting_nothing(
    client, legacy_student, rostered_student, fields, text
):
    client.force_login(rostered_student)
    details = {k: DETAILS[k] for k in ("username", "passcode", "account_number")}
    with count_hash_checks() as counted:
        for _ in range(6):  # more than the child's 5 tries
            response = client.post(reverse("merging:get_records"), {**details, **fields})
            assert response.status_code == 400
            assert text in response.content.decode()
            answer = client.post(
                reverse("api:get_records"),
                json.dumps({**details, **fields}),
                content_type="application/json",
            )
            assert answer.status_code == 400
            assert answer.json()["error"] in {"blank_field", "account_number_six_digits"}

    assert counted.call_count == 0
    assert not AuditEvent.objects.exists()
    assert not GetRecordsGuard.objects.exists()
    assert client.post(reverse("merging:get_records"), details).status_code == 200


# --- throttled tries are counted, not audited one by one -----------------------------------


def test_five_hundred_throttled_sign_ins_write_three_summary_rows(client, legacy_student, settings):
    settings.SIGN_IN_FAILURES_PER_15_MIN = 2
    page(client, passcode="0000")
    page(client, passcode="0001")

    with count_hash_checks() as counted:
        for _ in range(500):
            assert api(client, passcode="0002").status_code == 429

    assert counted.call_count == 0
    rows = list(
        AuditEvent.objects.filter(event_type=EventType.USER_SIGN_IN_THROTTLED).order_by("id")
    )
    assert [row.data["refused_in_window"] for row in rows] == [1, 10, 100]
    assert {row.data["identity"] for row in rows} == {"314159/mayar7"}
    assert {row.ip_address for row in rows} == {"198.51.100.7"}
    assert rows[0].data["window_seconds"] == 15 * 60


def test_refusals_are_summarised_per_identity_and_address(client, legacy_student, settings):
    settings.SIGN_IN_FAILURES_PER_15_MIN = 1
    page(client, passcode="0000")
    other_address = Client()
    for _ in range(3):
        page(client, passcode="x")
        other_address.post(
            reverse("web:sign_in"),
            {"panel": "student", **DETAILS, "passcode": "x"},
            REMOTE_ADDR="198.51.100.99",
        )

    rows = AuditEvent.objects.filter(event_type=EventType.USER_SIGN_IN_THROTTLED)
    assert sorted(rows.values_list("ip_address", "data__refused_in_window")) == [
        ("198.51.100.7", 1),
        ("198.51.100.99", 1),
    ]


def test_throttled_get_records_tries_are_summarised_too(client, legacy_student, rostered_student):
    client.force_login(rostered_student)
    details = {"username": "nobody", "passcode": "0000", "account_number": "314159"}
    for _ in range(5):
        client.post(reverse("merging:get_records"), details)
    for _ in range(30):
        assert client.post(reverse("merging:get_records"), details).status_code == 429

    rows = AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_THROTTLED).order_by("id")
    assert [row.data["refused_in_window"] for row in rows] == [1, 10]
    assert rows[0].data["limit"] == "getrecords.student15m"
