"""Signing in through the Clever and ClassLink sandboxes, end to end in process:
the browser steps through Django's test client, the server-to-server calls (token,
profile, discovery, JWKS) through `requests` routed to the same Django (see
tests/sandbox/transport.py)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client

from carryover.accounts.models import (
    Account,
    ExternalIdentity,
    Role,
    School,
    SeatState,
    User,
)
from carryover.audit.models import AuditEvent, EventType
from carryover.sandbox.classlink import classlink_user_id
from carryover.sandbox.classlink import data as classlink_data
from carryover.sso.models import ProviderConnection
from carryover.sso.services import connect_provider
from tests.accounts.factories import RosteredStudentFactory, TeacherFactory
from tests.sandbox.support import DEMO_DISTRICT, DEMO_TENANT, choose, local, query, sign_in, start
from tests.sandbox.transport import DjangoTestClientAdapter
from tests.sso.support import signed_in_user_id

pytestmark = pytest.mark.django_db

HOME = resolve_url(settings.LOGIN_REDIRECT_URL)


@pytest.fixture
def clever_connected(account: Account, school: School) -> ProviderConnection:
    return connect_provider(account=account, provider="clever", tenant=DEMO_DISTRICT)


@pytest.fixture
def classlink_connected(account: Account, school: School) -> ProviderConnection:
    return connect_provider(account=account, provider="classlink", tenant=DEMO_TENANT)


def events(event_type: EventType) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("id"))


def test_clever_student_is_created_just_in_time_then_signs_in_again(
    client: Client,
    account: Account,
    school: School,
    clever_connected: ProviderConnection,
    sandbox: DjangoTestClientAdapter,
) -> None:
    response = sign_in(client, "clever", "clever-rusd-10041")

    assert response.status_code == 302 and response["Location"] == HOME
    zoe = User.objects.get(account=account, sis_id="clever-rusd-10041")
    assert (zoe.first_name, zoe.last_name, zoe.role, zoe.grade) == ("Zoe", "Park", "student", "3")
    assert (zoe.school, zoe.email, zoe.is_legacy, zoe.seat_state) == (
        school,
        None,
        False,
        SeatState.ACTIVE,
    )
    assert not zoe.has_usable_password()
    assert signed_in_user_id(client) == str(zoe.pk)
    identity = ExternalIdentity.objects.get(user=zoe)
    assert (identity.provider, identity.tenant, identity.subject) == (
        "clever",
        DEMO_DISTRICT,
        "clever-rusd-10041",
    )
    [created] = events(EventType.SSO_USER_CREATED)
    assert created.subject_id == zoe.pk and created.account_id == account.pk
    [signed_in] = events(EventType.USER_SIGNED_IN)
    assert signed_in.data["method"] == "clever" and signed_in.data["created"] is True
    # The id_token was checked against the sandbox's published keys, found through
    # the issuer's discovery document.
    assert ("GET", "/sandbox/clever/.well-known/openid-configuration") in sandbox.calls
    assert ("GET", "/sandbox/clever/.well-known/jwks.json") in sandbox.calls

    again = Client()
    second = sign_in(again, "clever", "clever-rusd-10041")

    assert second.status_code == 302
    assert signed_in_user_id(again) == str(zoe.pk)
    assert User.objects.filter(account=account).count() == 1
    assert ExternalIdentity.objects.count() == 1
    assert len(events(EventType.SSO_USER_CREATED)) == 1
    latest = events(EventType.USER_SIGNED_IN)
    assert len(latest) == 2 and latest[-1].data["created"] is False


def test_clever_teacher_is_created_with_email_and_admin_as_school_admin(
    client: Client, account: Account, clever_connected: ProviderConnection
) -> None:
    assert sign_in(client, "clever", "clever-rusd-t001").status_code == 302
    priya = User.objects.get(sis_id="clever-rusd-t001")
    assert (priya.role, priya.email, priya.first_name, priya.grade) == (
        Role.TEACHER,
        "priya.patel@riverside.example",
        "Priya",
        "",
    )
    assert signed_in_user_id(client) == str(priya.pk)

    other = Client()
    assert sign_in(other, "clever", "clever-rusd-a001").status_code == 302
    grace = User.objects.get(last_name="Holloway")
    assert grace.role == Role.SCHOOL_ADMIN and grace.account == account


def test_just_in_time_school_is_the_one_the_roster_names(
    client: Client, account: Account, school: School, clever_connected: ProviderConnection
) -> None:
    hilltop = School.objects.create(
        account=account, name="Hilltop", sis_id="clever-school-hilltop-elementary"
    )
    sign_in(client, "clever", "clever-rusd-10042")  # Ibrahim Said, Hilltop
    assert User.objects.get(sis_id="clever-rusd-10042").school == hilltop


def test_a_known_identity_signs_in_its_user_and_rotates_the_session(
    client: Client, account: Account, school: School, clever_connected: ProviderConnection
) -> None:
    maya = RosteredStudentFactory(account=account, school=school, first_name="Maya", sis_id="X1")
    ExternalIdentity.objects.create(
        user=maya, provider="clever", tenant=DEMO_DISTRICT, subject="clever-rusd-10001"
    )
    client.get("/sso/clever/login")
    key_before = client.session.session_key

    callback = choose(client, start(client, "clever"), "clever-rusd-10001")
    response = client.get(local(callback))

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(maya.pk)
    assert client.session.session_key != key_before
    assert User.objects.count() == 1
    maya.refresh_from_db()
    assert maya.sis_id == "X1"  # sign-on does not rewrite what the roster owns


def test_rostered_person_gets_the_identity_by_roster_key(
    client: Client, account: Account, school: School, classlink_connected: ProviderConnection
) -> None:
    maya = RosteredStudentFactory(account=account, school=school, sis_id="RUSD-10001")

    response = sign_in(client, "classlink", "RUSD-10001")

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(maya.pk)
    assert User.objects.count() == 1
    identity = ExternalIdentity.objects.get(user=maya)
    expected_id = classlink_user_id(classlink_data().users.get("RUSD-10001") or {})
    assert (identity.provider, identity.tenant, identity.subject) == (
        "classlink",
        DEMO_TENANT,
        str(expected_id),
    )
    [linked] = events(EventType.SSO_IDENTITY_LINKED)
    assert linked.subject_id == maya.pk
    assert events(EventType.SSO_USER_CREATED) == []


@pytest.mark.parametrize("roster_key", ["clever-rusd-10001", "RUSD-10001"])
def test_clever_links_the_person_a_roster_made(
    client: Client,
    account: Account,
    school: School,
    clever_connected: ProviderConnection,
    roster_key: str,
) -> None:
    """Clever roster sync keys people by Clever id; a CSV import by SIS id: either links."""
    maya = RosteredStudentFactory(account=account, school=school, sis_id=roster_key)
    assert sign_in(client, "clever", "clever-rusd-10001").status_code == 302
    assert signed_in_user_id(client) == str(maya.pk)
    assert User.objects.count() == 1
    assert ExternalIdentity.objects.get(user=maya).subject == "clever-rusd-10001"


def test_classlink_student_created_just_in_time_then_signs_in_again(
    client: Client,
    account: Account,
    school: School,
    classlink_connected: ProviderConnection,
    sandbox: DjangoTestClientAdapter,
) -> None:
    assert sign_in(client, "classlink", "RUSD-10041").status_code == 302
    zoe = User.objects.get(sis_id="RUSD-10041")
    assert (zoe.first_name, zoe.last_name, zoe.role, zoe.account, zoe.school) == (
        "Zoe",
        "Park",
        Role.STUDENT,
        account,
        school,
    )
    assert signed_in_user_id(client) == str(zoe.pk)
    assert ("GET", "/sandbox/classlink/v2/my/info") in sandbox.calls
    assert ("POST", "/sandbox/classlink/oauth2/v2/token") in sandbox.calls

    again = Client()
    assert sign_in(again, "classlink", "RUSD-10041").status_code == 302
    assert signed_in_user_id(again) == str(zoe.pk)
    assert User.objects.count() == 1 and ExternalIdentity.objects.count() == 1


def test_classlink_teacher_signs_in_as_a_teacher_of_the_roster_school(
    client: Client, account: Account, school: School, classlink_connected: ProviderConnection
) -> None:
    riverside = School.objects.create(
        account=account, name="Riverside", sis_id="org-riverside-elementary"
    )
    assert sign_in(client, "classlink", "RUSD-T002").status_code == 302
    marcus = User.objects.get(sis_id="RUSD-T002")
    assert (marcus.role, marcus.first_name, marcus.school) == (Role.TEACHER, "Marcus", riverside)
    assert marcus.email == "marcus.bell@riverside.example"


def test_someone_else_owns_the_email_so_the_new_teacher_has_none(
    client: Client, account: Account, other_account: Account, clever_connected: ProviderConnection
) -> None:
    TeacherFactory(account=other_account, email="priya.patel@riverside.example")
    assert sign_in(client, "clever", "clever-rusd-t001").status_code == 302
    assert User.objects.get(sis_id="clever-rusd-t001").email is None


def test_next_page_is_kept_when_it_is_ours(
    client: Client, clever_connected: ProviderConnection
) -> None:
    authorize = client.get("/sso/clever/login", {"next": "/practice/"})["Location"]
    response = client.get(local(choose(client, authorize, "clever-rusd-10041")))
    assert response["Location"] == "/practice/"

    other = Client()
    authorize = other.get("/sso/clever/login", {"next": "https://evil.example/"})["Location"]
    response = other.get(local(choose(other, authorize, "clever-rusd-10041")))
    assert response["Location"] == HOME


def test_authorization_request_carries_state_nonce_and_s256_pkce(client: Client) -> None:
    params = query(start(client, "clever"))
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32
    assert len(params["code_challenge"]) == 43
    assert params["redirect_uri"] == "http://testserver/sso/clever/callback"
    pending = client.session["sso_pending"][params["state"]]
    assert pending["provider"] == "clever" and pending["nonce"] == params["nonce"]
    # The verifier stays in the session; only its hash goes to the provider.
    assert pending["code_verifier"] not in start(client, "clever")
    classlink = query(start(client, "classlink"))
    assert classlink["scope"] == "openid profile oneroster"
    assert classlink["state"] != params["state"]


def test_site_url_makes_the_redirect_uri(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SITE_URL = "https://carryover.example"
    assert query(start(client, "classlink"))["redirect_uri"] == (
        "https://carryover.example/sso/classlink/callback"
    )


def test_login_hint_goes_to_the_provider_and_skips_its_list(
    client: Client, account: Account, clever_connected: ProviderConnection
) -> None:
    authorize = client.get("/sso/clever/login", {"login_hint": "clever-rusd-t002"})["Location"]
    assert query(authorize)["login_hint"] == "clever-rusd-t002"
    callback = client.get(local(authorize))
    assert callback.status_code == 302
    assert client.get(local(callback["Location"])).status_code == 302
    assert User.objects.get(pk=signed_in_user_id(client)).last_name == "Bell"
