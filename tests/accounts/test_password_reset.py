""" "Forgot your password?" on the staff form: Django's reset views and tokens, limited per
address and per email, audited, and answered the same whether or not the email is known
(the lookup and the email happen in the background worker)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from carryover.accounts import passwords
from carryover.accounts.errors import AccountsError
from carryover.audit.models import AuditEvent, EventType
from tests.accounts.factories import RosteredStudentFactory

# The email goes out from the background worker (`db_worker`), which uses its own
# transactions: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

RESET = reverse("web:password_reset")
NEW_PASSWORD = "a-much-longer-new-passphrase-42"


@pytest.fixture
def ask(client, django_capture_on_commit_callbacks):
    def _ask(email: str, *, ip: str = "203.0.113.50", who: Client | None = None) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return (who or client).post(RESET, {"email": email}, REMOTE_ADDR=ip)

    return _ask


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def link_in(message: Any) -> str:
    [url] = re.findall(r"https?://\S+/password/reset/\S+/", message.body)
    return url.split("testserver", 1)[1]


def test_a_known_email_gets_a_one_time_link_that_sets_the_password(client, ask, teacher):
    response = ask("TESS@maple.example")

    assert response.status_code == 302
    assert response["Location"] == reverse("web:password_reset_done")
    assert mail.outbox == []  # nothing sent by the request itself
    run_worker()
    [message] = mail.outbox
    assert message.to == ["tess@maple.example"]
    assert "Choose a new carryover password" in message.subject
    link = link_in(message)

    form = client.get(link, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done["Location"] == reverse("web:password_reset_complete")
    teacher.refresh_from_db()
    assert teacher.check_password(NEW_PASSWORD)
    assert "_auth_user_id" not in client.session  # set, not signed in: sign in as usual
    events = list(AuditEvent.objects.order_by("id").values_list("event_type", "subject_id"))
    assert events == [
        (EventType.PASSWORD_RESET_REQUESTED, None),
        (EventType.PASSWORD_RESET_SENT, teacher.pk),
        (EventType.PASSWORD_RESET_COMPLETED, teacher.pk),
    ]
    # The link works once.
    again = Client().get(link, follow=True)
    assert again.context["validlink"] is False


def test_an_unknown_email_gets_the_same_answer_the_same_work_and_no_email(client, ask, teacher):
    known = ask("tess@maple.example")
    unknown = ask("nobody@maple.example", who=Client())

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    rows = list(
        AuditEvent.objects.order_by("id").values_list("event_type", "subject_id", "actor_id")
    )
    assert rows == [(EventType.PASSWORD_RESET_REQUESTED, None, None)] * 2  # the same row
    assert DBTaskResult.objects.count() == 2  # a task queued either way
    run_worker()
    assert [m.to for m in mail.outbox] == [["tess@maple.example"]]


@pytest.mark.parametrize("who", ["student", "inactive teacher"])
def test_students_and_inactive_staff_never_get_a_link(ask, teacher, account, who):
    if who == "student":
        RosteredStudentFactory(account=account, email="maya@maple.example")
        email = "maya@maple.example"
    else:
        type(teacher).objects.filter(pk=teacher.pk).update(is_active=False)
        email = teacher.email
    assert ask(email).status_code == 302
    run_worker()
    assert mail.outbox == []


def test_requests_are_limited_per_email_whatever_the_address(ask, teacher, settings):
    settings.PASSWORD_RESET_PER_EMAIL_PER_HOUR = 2
    for i in range(2):
        assert ask("tess@maple.example", ip=f"203.0.113.{i}").status_code == 302

    refused = ask("TESS@maple.example", ip="203.0.113.9", who=Client())

    assert refused.status_code == 429
    assert "Too many reset requests" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 3601
    assert DBTaskResult.objects.count() == 2
    [event] = AuditEvent.objects.filter(event_type=EventType.PASSWORD_RESET_THROTTLED)
    assert event.data["email"] == "tess@maple.example"
    # Another email is not held up.
    assert ask("otto@maple.example", ip="203.0.113.9").status_code == 302


def test_requests_are_limited_per_address_whatever_the_email(ask, settings):
    settings.PASSWORD_RESET_IP_PER_HOUR = 3
    for i in range(3):
        assert ask(f"person{i}@maple.example").status_code == 302
    assert ask("person9@maple.example").status_code == 429
    assert ask("person9@maple.example", ip="203.0.113.51").status_code == 302


def test_a_malformed_email_is_answered_at_once(client):
    response = client.post(RESET, {"email": "not an email"})
    assert response.status_code == 200
    assert "valid email" in response.content.decode()
    assert not AuditEvent.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_the_staff_form_links_to_forgot_your_password(client):
    html = client.get(reverse("web:sign_in")).content.decode()
    assert f'href="{RESET}"' in html
    assert "Forgot your password?" in html


def test_a_forged_or_student_link_is_refused(client, legacy_student):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(legacy_student.pk))
    token = default_token_generator.make_token(legacy_student)
    response = client.get(reverse("web:password_reset_confirm", args=[uid, token]), follow=True)
    assert response.context["validlink"] is False


def test_support_sends_a_teacher_a_reset_link(
    django_capture_on_commit_callbacks, teacher, support_staff, other_teacher
):
    with pytest.raises(AccountsError):
        passwords.send_reset_link_for(user=teacher, actor=other_teacher)

    with django_capture_on_commit_callbacks(execute=True):
        passwords.send_reset_link_for(
            user=teacher, actor=support_staff, site="https://carryover.example.org"
        )
    run_worker()

    [message] = mail.outbox
    assert message.to == [teacher.email]
    assert "https://carryover.example.org/password/reset/" in message.body
    requested = AuditEvent.objects.get(event_type=EventType.PASSWORD_RESET_REQUESTED)
    assert (requested.actor_id, requested.subject_id, requested.data["by"]) == (
        support_staff.pk,
        teacher.pk,
        "support",
    )
