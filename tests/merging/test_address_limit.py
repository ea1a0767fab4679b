"""The per-address Get Records limit for a district behind one NAT.

It counts failures only (a classroom of children typing the right passcodes never uses
it up), per account (another customer behind the same address has its own), and an
account's own limit can be raised (`carryover account limits`).
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from carryover.accounts.models import Account
from carryover.audit.models import AuditEvent, EventType
from carryover.merging.errors import NoMatchingAccount, TooManyAttempts
from carryover.merging.getrecords import OldDetails, verify_old_account
from tests.accounts.factories import LegacyStudentFactory, RosteredStudentFactory

pytestmark = pytest.mark.django_db

NAT = "198.51.100.50"


@pytest.fixture
def run():
    def _run(*args: str) -> str:
        out = io.StringIO()
        call_command(*args, stdout=out, stderr=out)
        return out.getvalue()

    return _run


def _try(student, *, username, account_number, passcode="1234", ip=NAT):
    details = OldDetails(username=username, passcode=passcode, account_number=account_number)
    return verify_old_account(
        student=student, details=details, actor=student, on_behalf_of=None, ip_address=ip
    )


def test_successes_never_use_up_the_address_limit(account, settings):
    settings.GET_RECORDS_IP_FAILURES_PER_15_MIN = 2
    pairs = [
        (RosteredStudentFactory(account=account), LegacyStudentFactory(account=account))
        for _ in range(6)
    ]

    for student, legacy in pairs:
        assert _try(student, username=legacy.username, account_number="314159") == legacy

    # Two failures are still allowed after six successes: they were never counted.
    for student, _legacy in pairs[:2]:
        with pytest.raises(NoMatchingAccount):
            _try(student, username="nobody", account_number="314159")
    with pytest.raises(TooManyAttempts):
        _try(pairs[2][0], username=pairs[2][1].username, account_number="314159")


def test_the_limit_is_per_account_behind_one_address(account, other_account, settings):
    settings.GET_RECORDS_IP_FAILURES_PER_15_MIN = 2
    ours = [RosteredStudentFactory(account=account) for _ in range(3)]
    theirs = RosteredStudentFactory(account=other_account)
    their_old = LegacyStudentFactory(account=other_account)
    for student in ours[:2]:
        with pytest.raises(NoMatchingAccount):
            _try(student, username="nobody", account_number="314159")
    with pytest.raises(TooManyAttempts):
        _try(ours[2], username="nobody", account_number="314159")

    assert _try(theirs, username=their_old.username, account_number="271828") == their_old


def test_an_account_of_its_own_raises_the_limit_for_that_account_only(
    account, other_account, settings, run
):
    settings.GET_RECORDS_IP_FAILURES_PER_15_MIN = 2
    run("account", "limits", "--number", "314159", "--get-records-address-failures", "4")
    account.refresh_from_db()  # as each request loads its student's account
    students = [RosteredStudentFactory(account=account) for _ in range(5)]
    for student in students[:4]:
        with pytest.raises(NoMatchingAccount):
            _try(student, username="nobody", account_number="314159")
    with pytest.raises(TooManyAttempts):
        _try(students[4], username="nobody", account_number="314159")

    others = [RosteredStudentFactory(account=other_account) for _ in range(3)]
    for student in others[:2]:
        with pytest.raises(NoMatchingAccount):
            _try(student, username="nobody", account_number="271828")
    with pytest.raises(TooManyAttempts):
        _try(others[2], username="nobody", account_number="271828")


def test_the_limits_command_is_audited_once_and_restores_the_default(account, run):
    out = run("account", "limits", "--number", "314159", "--get-records-address-failures", "900")
    again = run("account", "limits", "--number", "314159", "--get-records-address-failures", "900")

    assert "900 (this account's own)" in out
    assert again.startswith("Already so:")
    events = AuditEvent.objects.filter(event_type=EventType.ACCOUNT_LIMITS_CHANGED)
    assert [e.data for e in events] == [{"get_records_address_limit": {"old": None, "new": 900}}]

    out = run(
        "account", "limits", "--number", "314159", "--get-records-address-failures", "default"
    )
    assert "100 (the default)" in out
    assert Account.objects.get(pk=account.pk).get_records_address_limit is None
    assert AuditEvent.objects.filter(event_type=EventType.ACCOUNT_LIMITS_CHANGED).count() == 2


@pytest.mark.parametrize("value", ["0", "-5", "lots", "100001"])
def test_a_bad_limit_is_refused_and_changes_nothing(account, run, value):
    with pytest.raises(CommandError) as excinfo:
        run("account", "limits", "--number", "314159", "--get-records-address-failures", value)

    assert "Nothing was changed" in str(excinfo.value) or "must be a number" in str(excinfo.value)
    assert Account.objects.get(pk=account.pk).get_records_address_limit is None
    assert not AuditEvent.objects.filter(event_type=EventType.ACCOUNT_LIMITS_CHANGED).exists()
