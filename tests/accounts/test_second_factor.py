"""The staff second factor: TOTP through django-otp, proven with real codes computed from
the device's own key (django_otp.oath.TOTP), as an authenticator app computes them."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from carryover.accounts import twofactor
from carryover.accounts.errors import AccountsError
from carryover.audit.models import AuditEvent, EventType
from tests.conftest import TEACHER_PASSWORD
from tests.test_settings import manage, production

pytestmark = pytest.mark.django_db

SECOND_FACTOR = reverse("web:second_factor")
SETUP = reverse("web:second_factor_setup")


@pytest.fixture(autouse=True)
def second_factor_on(settings):
    settings.STAFF_SECOND_FACTOR = True


def code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def password_step(client: Client, email: str = "tess@maple.example", **extra: str) -> Any:
    return client.post(
        reverse("web:sign_in"),
        {"panel": "staff", "email": email, "password": TEACHER_PASSWORD, **extra},
    )


def signed_in(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def set_up(client: Client, user) -> list[str]:
    """The first sign-in: password, then set up the app with a real code."""
    assert password_step(client, user.email)["Location"] == SECOND_FACTOR
    assert client.get(SECOND_FACTOR)["Location"] == SETUP
    page = client.get(SETUP)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(SETUP, {"code": code(device)})
    assert response.status_code == 200
    return re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())


def test_the_password_alone_signs_nobody_in(client, teacher, section):
    response = password_step(client)

    assert response["Location"] == SECOND_FACTOR
    assert signed_in(client) is None
    assert client.get(reverse("web:class_detail", args=[section.pk])).status_code == 302
    assert client.get(reverse("api:session")).json() == {"user": None}
    assert not AuditEvent.objects.filter(event_type=EventType.USER_SIGNED_IN).exists()


def test_first_sign_in_sets_up_the_app_with_a_qr_code_and_ten_recovery_codes(client, teacher):
    assert password_step(client)["Location"] == SECOND_FACTOR
    assert client.get(SECOND_FACTOR)["Location"] == SETUP
    page = client.get(SETUP)
    html = page.content.decode()
    assert "<svg" in html and 'class="segno"' in html
    device = TOTPDevice.objects.get(user=teacher, confirmed=False)
    key = twofactor.start_setup(teacher).key_b32
    assert " ".join(key[i : i + 4] for i in range(0, len(key), 4)) in html
    assert client.get(SETUP).status_code == 200
    assert TOTPDevice.objects.filter(user=teacher).count() == 1  # a reload keeps the device

    response = client.post(SETUP, {"code": code(device)})

    assert response.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    assert len(codes) == 10
    assert sorted(
        StaticToken.objects.filter(device__user=teacher).values_list("token", flat=True)
    ) == sorted(codes)
    assert signed_in(client) == str(teacher.pk)
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(event_type=EventType.SECOND_FACTOR_SET_UP).count() == 1
    event = AuditEvent.objects.get(event_type=EventType.USER_SIGNED_IN)
    assert event.data == {"method": "password", "second_factor": "authenticator app"}
    assert client.get(reverse("web:classes")).status_code == 200


def test_a_wrong_code_at_set_up_is_refused_and_audited(client, teacher):
    password_step(client)
    client.get(SETUP)

    response = client.post(SETUP, {"code": "000000"})

    assert response.status_code == 400
    assert signed_in(client) is None
    assert not TOTPDevice.objects.filter(user=teacher, confirmed=True).exists()
    assert AuditEvent.objects.filter(event_type=EventType.SECOND_FACTOR_FAILED).count() == 1


def test_later_sign_ins_ask_for_the_code_and_a_code_works_once(client, teacher):
    set_up(client, teacher)
    client.post(reverse("web:sign_out"))
    device = TOTPDevice.objects.get(user=teacher, confirmed=True)
    used = code(device)  # the code that set the app up

    assert password_step(client)["Location"] == SECOND_FACTOR
    page = client.get(SECOND_FACTOR)
    assert page.status_code == 200
    wrong = client.post(SECOND_FACTOR, {"code": "123456" if used != "123456" else "654321"})
    assert wrong.status_code == 400
    replay = client.post(SECOND_FACTOR, {"code": used})
    assert replay.status_code == 400  # a code is never accepted twice
    assert signed_in(client) is None
    assert AuditEvent.objects.filter(event_type=EventType.SECOND_FACTOR_FAILED).count() == 2

    # The throttle of django-otp delays after failures; wait it out like a person would.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    response = client.post(SECOND_FACTOR, {"code": code(device, steps_ahead=1)})

    assert response["Location"] == reverse("web:home")
    assert signed_in(client) == str(teacher.pk)


def test_a_recovery_code_signs_in_once(client, teacher):
    codes = set_up(client, teacher)
    client.post(reverse("web:sign_out"))

    password_step(client)
    assert client.post(SECOND_FACTOR, {"code": codes[0].upper()})["Location"] == reverse("web:home")
    assert signed_in(client) == str(teacher.pk)
    [event] = AuditEvent.objects.filter(event_type=EventType.SECOND_FACTOR_RECOVERY_USED)
    assert event.data == {"recovery_codes_left": 9}

    client.post(reverse("web:sign_out"))
    password_step(client)
    StaticDevice.objects.filter(user=teacher).update(throttling_failure_count=0)
    assert client.post(SECOND_FACTOR, {"code": codes[0]}).status_code == 400
    assert signed_in(client) is None


def test_too_many_wrong_codes_wait(client, teacher, settings):
    settings.SECOND_FACTOR_FAILURES_PER_15_MIN = 2
    set_up(client, teacher)
    client.post(reverse("web:sign_out"))
    device = TOTPDevice.objects.get(user=teacher)
    password_step(client)
    for _ in range(2):
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
        assert client.post(SECOND_FACTOR, {"code": "000001"}).status_code == 400

    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    response = client.post(SECOND_FACTOR, {"code": code(device, steps_ahead=1)})

    assert response.status_code == 429  # even the right code, until the window ends
    assert "Too many wrong codes" in response.content.decode()
    assert signed_in(client) is None


def test_the_pending_sign_in_expires(client, teacher, settings):
    settings.SECOND_FACTOR_PENDING_SECONDS = 0
    password_step(client)
    time.sleep(0.01)

    response = client.get(SECOND_FACTOR)

    assert response["Location"] == f"{reverse('web:sign_in')}?staff=1"


def test_next_survives_the_second_factor(client, teacher, section):
    set_up(client, teacher)
    client.post(reverse("web:sign_out"))
    target = reverse("web:class_detail", args=[section.pk])
    assert (
        password_step(client, next=target)["Location"]
        == f"{SECOND_FACTOR}?next={target.replace('/', '%2F')}"
    )
    device = TOTPDevice.objects.get(user=teacher)
    response = client.post(SECOND_FACTOR, {"code": code(device, steps_ahead=1), "next": target})
    assert response["Location"] == target


def test_support_staff_and_admins_need_it_students_never(
    client, support_staff, school_admin, legacy_student
):
    for person in (support_staff, school_admin):
        client = Client()
        response = client.post(
            reverse("web:sign_in"),
            {
                "panel": "staff",
                "email": person.email,
                "password": "support-pass-123" if person.is_support else TEACHER_PASSWORD,
            },
        )
        assert response["Location"] == SECOND_FACTOR, person.email
    child = Client()
    response = child.post(
        reverse("web:sign_in"),
        {"panel": "student", "account_number": "314159", "username": "mayar7", "passcode": "1234"},
    )
    assert response["Location"] == reverse("web:home")


def test_support_resets_a_teachers_second_factor_and_the_next_sign_in_sets_it_up(
    client, teacher, support_staff, other_teacher
):
    set_up(client, teacher)
    client.post(reverse("web:sign_out"))

    with pytest.raises(AccountsError):
        twofactor.reset_second_factor(user=teacher, actor=other_teacher)
    assert twofactor.has_app(teacher)

    removed = twofactor.reset_second_factor(user=teacher, actor=support_staff)

    assert removed == 2  # the app and the recovery codes
    assert not TOTPDevice.objects.filter(user=teacher).exists()
    assert not StaticDevice.objects.filter(user=teacher).exists()
    [event] = AuditEvent.objects.filter(event_type=EventType.SECOND_FACTOR_RESET)
    assert (event.actor_id, event.subject_id) == (support_staff.pk, teacher.pk)
    assert twofactor.reset_second_factor(user=teacher, actor=support_staff) == 0  # twice
    assert AuditEvent.objects.filter(event_type=EventType.SECOND_FACTOR_RESET).count() == 1
    password_step(client)
    assert client.get(SECOND_FACTOR)["Location"] == SETUP


def test_only_a_developer_resets_a_support_persons_second_factor(support_staff):
    from tests.accounts.factories import SupportStaffFactory

    colleague = SupportStaffFactory()
    developer = SupportStaffFactory(is_superuser=True)
    assert not twofactor.may_reset(colleague, support_staff)
    assert twofactor.may_reset(developer, support_staff)
    assert not twofactor.may_reset(support_staff, support_staff)


def test_production_turns_the_second_factor_on_and_the_admin_off(tmp_path):
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.STAFF_SECOND_FACTOR, s.DJANGO_ADMIN_ENABLED, s.EMAIL_BACKEND)",
        tmp_path=tmp_path,
        **production(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "True",
        "False",
        "django.core.mail.backends.smtp.EmailBackend",
    ]

    development = manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.STAFF_SECOND_FACTOR)",
        tmp_path=tmp_path,
    )
    assert development.stdout.strip().splitlines()[-1] == "False"


def test_whoever_was_signed_in_is_signed_out_while_the_code_is_awaited(
    client, teacher, legacy_student
):
    client.force_login(legacy_student)

    password_step(client)

    assert signed_in(client) is None
    assert client.get(reverse("web:student_home")).status_code == 302
