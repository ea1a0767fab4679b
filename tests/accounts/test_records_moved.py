"""A child on an old login is told where their records went, after the passcode was
verified and never before (issue 10, item 5).

- merged old account, right passcode: the sign-in page and `POST /api/v1/session` say
  the records are in the new account and how to sign in there (409 `records_moved`);
- merged old account, wrong passcode: exactly the answer an unknown username gets
  (status, body, one hash);
- old account still waiting in a school live with Clever or ClassLink: signs in, and
  the home page says to sign in with the provider and bring the records;
- Get Records of an old account already merged into this same child: "Those records
  are already here (since DATE)", after the right passcode only.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from carryover.accounts.models import ExternalIdentity, SeatState, User
from carryover.audit.models import AuditEvent, EventType
from carryover.merging.engine import merge_legacy_student
from carryover.merging.errors import NoMatchingAccount, RecordsAlreadyHere
from carryover.merging.getrecords import OldDetails, verify_old_account
from carryover.merging.models import GetRecordsGuard, MergeMethod
from carryover.sso.models import ProviderConnection
from tests.accounts.test_lookalikes import count_hash_checks
from tests.merging.helpers import world_state

pytestmark = pytest.mark.django_db

DETAILS = {"account_number": "314159", "username": "mayar7", "passcode": "1234"}


@pytest.fixture
def merged(legacy_student, rostered_student, teacher) -> User:
    """mayar7's records were linked into Maya Ramirez's rostered account by her teacher."""
    merge_legacy_student(
        legacy=legacy_student,
        target=rostered_student,
        actor=teacher,
        on_behalf_of=None,
        method=MergeMethod.TEACHER_LINK,
    )
    legacy_student.refresh_from_db()
    return legacy_student


def page(client, **overrides: str) -> Any:
    return client.post(reverse("web:sign_in"), {"panel": "student", **DETAILS, **overrides})


def api(client, **overrides: str) -> Any:
    return client.post(
        reverse("api:session"),
        json.dumps({**DETAILS, **overrides}),
        content_type="application/json",
    )


def test_a_merged_old_login_is_told_to_sign_in_with_clever(client, merged, rostered_student):
    ExternalIdentity.objects.create(
        user=rostered_student, provider="clever", tenant="d-1", subject="clever-maya"
    )
    before = world_state()

    response = page(client)

    assert response.status_code == 409
    html = response.content.decode()
    assert "Your old records are in your new account now. Sign in with Clever." in html
    assert reverse("sso:clever_login") in html
    assert reverse("sso:classlink_login") in html  # the page's own buttons stay
    assert 'id="student-moved"' in html
    assert "_auth_user_id" not in client.session
    # Nothing changed but the try, reserved and settled as a success (0 failures).
    assert {**world_state(), "guards": []} == {**before, "guards": []}
    assert GetRecordsGuard.objects.get(legacy=merged).failures == 0
    [event] = AuditEvent.objects.filter(event_type=EventType.USER_SIGN_IN_RECORDS_MOVED)
    assert event.subject_id == merged.pk


def test_the_api_answers_409_records_moved_with_the_provider_and_the_date(
    client, merged, rostered_student, account
):
    ProviderConnection.objects.create(account=account, provider="classlink", tenant="t-9")

    response = api(client)

    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "records_moved"
    assert body["provider"] == "classlink"
    assert body["merged_at"] == merged.merged_at.isoformat()
    assert "Sign in with ClassLink" in body["message"]
    assert client.get(reverse("api:session")).json() == {"user": None}


def test_without_a_provider_the_child_is_told_to_ask_their_teacher(client, merged):
    body = api(client).json()

    assert (body["error"], body["provider"]) == ("records_moved", None)
    assert "Ask your teacher" in body["message"]
    html = page(client).content.decode()
    assert "Ask your teacher how to sign in to it." in html


def test_the_childs_own_provider_wins_over_the_schools(client, merged, rostered_student, account):
    ProviderConnection.objects.create(account=account, provider="classlink", tenant="t-9")
    ExternalIdentity.objects.create(
        user=rostered_student, provider="clever", tenant="d-1", subject="clever-maya"
    )
    assert api(client).json()["provider"] == "clever"


@pytest.mark.parametrize("door", ["page", "api"])
def test_a_merged_old_login_with_a_wrong_passcode_answers_like_an_unknown_username(
    client, merged, door
):
    """The records-moved answer needs the right passcode: with a wrong one the merged
    account is indistinguishable from one that does not exist (status, body, one hash)."""
    post = page if door == "page" else api

    with count_hash_checks() as unknown_hashes:
        unknown = post(client, username="nobody7", passcode="9999")
    with count_hash_checks() as merged_hashes:
        wrong = post(client, passcode="9999")

    assert wrong.status_code == unknown.status_code
    assert unknown_hashes.call_count == merged_hashes.call_count == 1
    if door == "api":
        assert (
            wrong.json()
            == unknown.json()
            == {
                "error": "invalid_credentials",
                "message": unknown.json()["message"],
            }
        )
    else:
        assert wrong.context["error"] == unknown.context["error"]
        assert wrong.context["moved"] is None
        assert "new account" not in wrong.content.decode()
    assert not AuditEvent.objects.filter(event_type=EventType.USER_SIGN_IN_RECORDS_MOVED).exists()
    assert GetRecordsGuard.objects.get(legacy=merged).failures == 1


def test_a_merged_old_login_counts_on_its_lock_too(client, merged, settings):
    """Else a merged account would be an oracle without limit for its old passcode."""
    settings.SIGN_IN_FAILURES_PER_15_MIN = 100
    for i in range(10):
        api(client, passcode=f"wrong{i}")

    with count_hash_checks() as counted:
        response = api(client)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_credentials"
    assert counted.call_count == 1  # the dummy hash


@pytest.mark.parametrize(("provider", "label"), [("clever", "Clever"), ("classlink", "ClassLink")])
def test_an_old_login_waiting_in_a_school_live_with_sign_on_sees_the_banner(
    client, legacy_student, account, provider, label
):
    User.objects.filter(pk=legacy_student.pk).update(seat_state=SeatState.TEMPORARY)
    ProviderConnection.objects.create(account=account, provider=provider, tenant="d-7")

    response = page(client)
    assert response.status_code == 302
    home = client.get(reverse("web:student_home"))

    html = home.content.decode()
    assert f"Your school uses {label} now." in html
    assert f"Sign in with {label}, then bring your old records with Get my old records." in html
    assert reverse(f"sso:{provider}_login") in html


def test_no_banner_in_a_school_without_sign_on(client, legacy_student):
    page(client)
    assert "Your school uses" not in client.get(reverse("web:student_home")).content.decode()


# --- Get Records: already here ------------------------------------------------------------


def verify(student: User, **overrides: str) -> User:
    return verify_old_account(
        student=student,
        details=OldDetails(**{**DETAILS, **overrides}),
        actor=student,
        on_behalf_of=None,
        ip_address=None,
    )


def test_get_records_of_an_account_already_merged_into_this_child_says_since_when(
    merged, rostered_student
):
    before = world_state()

    with pytest.raises(RecordsAlreadyHere) as excinfo:
        verify(rostered_student)

    date = formats.date_format(timezone.localtime(merged.merged_at), "DATE_FORMAT")
    assert excinfo.value.message == f"Those records are already here (since {date})."
    assert {**world_state(), "guards": []} == {**before, "guards": []}


def test_already_here_needs_the_right_passcode_and_this_child(merged, rostered_student, account):
    from tests.accounts.factories import RosteredStudentFactory

    with pytest.raises(NoMatchingAccount):
        verify(rostered_student, passcode="9999")
    classmate = RosteredStudentFactory(account=account)
    with pytest.raises(NoMatchingAccount):
        verify(classmate)  # merged into someone else: the one generic answer


def test_the_page_and_the_api_say_already_here(client, merged, rostered_student):
    client.force_login(rostered_student)
    details = {k: DETAILS[k] for k in ("username", "passcode", "account_number")}

    response = client.post(reverse("merging:get_records"), details)
    assert response.status_code == 409
    assert "Those records are already here (since" in response.content.decode()
    assert "We couldn" not in response.content.decode()

    answer = client.post(
        reverse("api:get_records"),
        json.dumps({**details, "confirm": False}),
        content_type="application/json",
    )
    assert answer.status_code == 409
    assert answer.json()["error"] == "records_already_here"
    assert answer.json()["merged_at"] == merged.merged_at.isoformat()


def test_an_old_login_whose_temporary_seat_ended_is_told_where_to_sign_in_now(
    client, legacy_student, account
):
    """After the date the school chose, an old temporary account signs in no more: with
    the right passcode the child learns where to go (and that the records wait); with a
    wrong one, the one generic answer."""
    import datetime as dt

    from carryover.accounts.models import Account

    Account.objects.filter(pk=account.pk).update(
        sso_live_since=timezone.now() - dt.timedelta(days=70),
        temporary_seats_until=timezone.localdate() - dt.timedelta(days=1),
    )
    User.objects.filter(pk=legacy_student.pk).update(seat_state=SeatState.TEMPORARY)
    ProviderConnection.objects.create(account=account, provider="clever", tenant="d-7")

    with count_hash_checks() as unknown_hashes:
        unknown = api(client, username="nobody7")
    with count_hash_checks() as wrong_hashes:
        wrong = api(client, passcode="9999")
    assert wrong.json() == unknown.json()
    assert unknown_hashes.call_count == wrong_hashes.call_count == 1

    answer = api(client)
    assert answer.status_code == 409
    assert (answer.json()["error"], answer.json()["provider"]) == ("old_account_ended", "clever")
    response = page(client)
    assert response.status_code == 409
    html = response.content.decode()
    assert (
        "Your school uses Clever now. Sign in with Clever, then bring your old records with "
        "Get my old records."
    ) in html
    assert "_auth_user_id" not in client.session
