"""The sign-on services on their own: connecting districts, and the account a checked
profile signs in as."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from django.db import connection

from carryover.accounts.models import Account, ExternalIdentity, Role, School, User
from carryover.audit.models import AuditEvent, EventType
from carryover.sso import services
from carryover.sso.errors import ProviderConnectionError, SignOnError
from carryover.sso.models import ProviderConnection
from carryover.sso.profiles import SignOnProfile
from carryover.sso.services import connect_provider, sign_on_user
from tests.accounts.factories import AccountFactory, RosteredStudentFactory, SchoolFactory

pytestmark = pytest.mark.django_db

ZOE = SignOnProfile(
    provider="clever",
    tenant="district-1",
    subject="clever-zoe",
    provider_role="student",
    role=Role.STUDENT,
    first_name="Zoe",
    last_name="Park",
    grade="3",
    roster_keys=("clever-zoe", "S-41"),
    sis_id="S-41",
)


def audit(event_type: EventType) -> int:
    return AuditEvent.objects.filter(event_type=event_type).count()


def test_connect_provider_is_idempotent(account: Account) -> None:
    first = connect_provider(account=account, provider="clever", tenant="district-1", name="A")
    second = connect_provider(account=account, provider="clever", tenant=" district-1 ")
    assert first.pk == second.pk and second.name == "A"
    assert ProviderConnection.objects.count() == 1
    assert audit(EventType.SSO_DISTRICT_CONNECTED) == 1


def test_a_district_belongs_to_one_account(account: Account, other_account: Account) -> None:
    connect_provider(account=account, provider="clever", tenant="district-1")
    with pytest.raises(ProviderConnectionError) as refused:
        connect_provider(account=other_account, provider="clever", tenant="district-1")
    assert refused.value.code == "tenant_taken"
    assert list(ProviderConnection.objects.values_list("account_id", flat=True)) == [account.pk]
    # The same id at the other provider is another district.
    connect_provider(account=other_account, provider="classlink", tenant="district-1")
    assert ProviderConnection.objects.count() == 2


@pytest.mark.parametrize(
    ("provider", "tenant", "code"), [("google", "x", "bad_provider"), ("clever", " ", "no_tenant")]
)
def test_connect_provider_refuses_nonsense(
    account: Account, provider: str, tenant: str, code: str
) -> None:
    with pytest.raises(ProviderConnectionError) as refused:
        connect_provider(account=account, provider=provider, tenant=tenant)
    assert refused.value.code == code
    assert ProviderConnection.objects.count() == 0


def test_sign_on_twice_creates_once_and_audits_each_sign_in(
    account: Account, school: School
) -> None:
    connect_provider(account=account, provider="clever", tenant="district-1")
    first = sign_on_user(profile=ZOE, ip_address="10.0.0.1")
    second = sign_on_user(profile=ZOE, ip_address="10.0.0.1")
    assert first.created and not second.created and first.user.pk == second.user.pk
    assert User.objects.count() == 1 and ExternalIdentity.objects.count() == 1
    assert audit(EventType.SSO_USER_CREATED) == 1
    assert audit(EventType.USER_SIGNED_IN) == 2
    event = AuditEvent.objects.filter(event_type=EventType.USER_SIGNED_IN).first()
    assert event is not None and event.ip_address == "10.0.0.1"


def test_a_role_carryover_does_not_have_is_refused(account: Account) -> None:
    connect_provider(account=account, provider="clever", tenant="district-1")
    with pytest.raises(SignOnError) as refused:
        sign_on_user(profile=replace(ZOE, role=None, provider_role="contact"))
    assert refused.value.code == "role_not_supported"
    assert User.objects.count() == 0 and audit(EventType.USER_SIGNED_IN) == 0


def test_two_rostered_matches_are_refused(account: Account, school: School) -> None:
    connect_provider(account=account, provider="clever", tenant="district-1")
    RosteredStudentFactory(account=account, school=school, sis_id="clever-zoe")
    RosteredStudentFactory(account=account, school=school, sis_id="S-41")
    with pytest.raises(SignOnError) as refused:
        sign_on_user(profile=ZOE)
    assert refused.value.code == "roster_ambiguous"
    assert ExternalIdentity.objects.count() == 0


def test_a_roster_key_held_by_another_signed_on_person_is_refused(
    account: Account, school: School
) -> None:
    connect_provider(account=account, provider="clever", tenant="district-1")
    taken = RosteredStudentFactory(account=account, school=school, sis_id="S-41")
    ExternalIdentity.objects.create(user=taken, provider="clever", tenant="district-1", subject="x")
    with pytest.raises(SignOnError) as refused:
        sign_on_user(profile=ZOE)
    assert refused.value.code == "roster_conflict"
    assert User.objects.count() == 1 and ExternalIdentity.objects.count() == 1


def test_people_of_other_accounts_are_never_linked(
    account: Account, school: School, other_account: Account
) -> None:
    connect_provider(account=account, provider="clever", tenant="district-1")
    stranger = RosteredStudentFactory(
        account=other_account, school=SchoolFactory(account=other_account), sis_id="S-41"
    )
    result = sign_on_user(profile=ZOE)
    assert result.created and result.user.account == account and result.user.pk != stranger.pk
    assert not ExternalIdentity.objects.filter(user=stranger).exists()


def test_a_new_person_lands_in_the_first_school_without_a_roster_match(account: Account) -> None:
    connect_provider(account=account, provider="clever", tenant="district-1")
    first = SchoolFactory(account=account, name="B first")
    SchoolFactory(account=account, name="A second")
    assert sign_on_user(profile=ZOE).user.school == first


def test_an_account_without_schools_still_gets_the_person() -> None:
    bare = AccountFactory()
    connect_provider(account=bare, provider="classlink", tenant="77")
    result = sign_on_user(profile=replace(ZOE, provider="classlink", tenant="77", subject="5"))
    assert result.user.school is None and result.user.account == bare


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_first_sign_ons_at_once_make_one_person(monkeypatch: pytest.MonkeyPatch) -> None:
    account = AccountFactory()
    SchoolFactory(account=account)
    connect_provider(account=account, provider="clever", tenant="district-1")
    both_read = threading.Barrier(2, timeout=10)
    original = services._create_person

    def slow_create(**kwargs):  # type: ignore[no-untyped-def]
        both_read.wait()  # both have found no identity before either writes
        return original(**kwargs)

    monkeypatch.setattr(services, "_create_person", slow_create)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(sign_on_user(profile=ZOE).user.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 2 and results[0] == results[1]
    assert User.objects.filter(account=account).count() == 1
    assert ExternalIdentity.objects.count() == 1
    assert audit(EventType.SSO_USER_CREATED) == 1 and audit(EventType.USER_SIGNED_IN) == 2
