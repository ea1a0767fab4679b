"""`carryover account create|show|list`."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from carryover.accounts.models import Account, School
from carryover.audit.models import AuditEvent, EventType
from tests.accounts.factories import LegacyStudentFactory, RosteredStudentFactory

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[int, int, int]:
    return Account.objects.count(), School.objects.count(), AuditEvent.objects.count()


def test_create_writes_the_account_its_schools_and_one_audit_row(run):
    out = run(
        "account",
        "create",
        "--number",
        "424243",
        "--name",
        "Lakeside District",
        "--seats",
        "120",
        "--school",
        "Lakeside North",
        "--school",
        "Lakeside South",
    )

    account = Account.objects.get(account_number="424243")
    assert (account.name, account.seats_purchased) == ("Lakeside District", 120)
    assert sorted(account.schools.values_list("name", flat=True)) == [
        "Lakeside North",
        "Lakeside South",
    ]
    event = AuditEvent.objects.get(account_id=account.pk)
    assert event.event_type == EventType.ACCOUNT_CREATED
    assert "Account 424243  Lakeside District" in out
    assert "seats purchased: 120" in out
    assert "schools:         Lakeside North, Lakeside South" in out


def test_create_without_a_number_issues_a_six_digit_one(run):
    run("account", "create", "--name", "Birch Academy", "--seats", "5")

    account = Account.objects.get(name="Birch Academy")
    assert len(account.account_number) == 6
    assert account.account_number.isdigit()
    assert account.seats_purchased == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--number", "12345", "--name", "X"], "'12345' is not an account number: six digits."),
        (["--number", "12345a", "--name", "X"], "'12345a' is not an account number"),
        (["--number", "1234567", "--name", "X"], "'1234567' is not an account number"),
        (["--number", "777777", "--name", "X", "--seats", "-1"], "Seats cannot be negative."),
        (["--number", "777777", "--name", "  "], "An account needs a name."),
        (
            ["--number", "777777", "--name", "X", "--school", "A", "--school", "a "],
            "The same school is named twice.",
        ),
        (["--number", "777777", "--name", "X", "--school", ""], "A school needs a name."),
        (["--number", "777777", "--name", "X", "--seats", "many"], "invalid int value: 'many'"),
        (["--number", "777777"], "the following arguments are required: --name"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_written(run, args, message):
    before = snapshot()

    with pytest.raises(CommandError) as excinfo:
        run("account", "create", *args)

    assert message in str(excinfo.value)
    assert snapshot() == before


def test_a_taken_number_is_refused_and_the_existing_account_is_untouched(run, account):
    before = snapshot()

    with pytest.raises(CommandError) as excinfo:
        run("account", "create", "--number", "314159", "--name", "Impostor", "--seats", "3")

    assert str(excinfo.value) == "Account number 314159 is already issued. Nothing was created."
    assert snapshot() == before
    assert Account.objects.get(account_number="314159").name == "Maple Elementary"


def test_show_prints_the_account_with_its_people(run, account, school):
    LegacyStudentFactory.create_batch(3, account=account, school=school)
    RosteredStudentFactory.create_batch(2, account=account, school=school)

    out = run("account", "show", "--number", "314159")

    assert "Account 314159  Maple Elementary" in out
    assert "seats purchased: 30" in out
    assert "schools:         Maple Elementary" in out
    assert "legacy students: 3 current" in out
    assert "rostered students: 2" in out


def test_show_of_an_unknown_or_malformed_number_says_so(run, account):
    with pytest.raises(CommandError, match=r"There is no account 999999\."):
        run("account", "show", "--number", "999999")
    with pytest.raises(CommandError, match=r"'31415' is not an account number"):
        run("account", "show", "--number", "31415")


def test_list_shows_every_account_with_counts(run, account, school, other_account):
    LegacyStudentFactory.create_batch(2, account=account, school=school)

    lines = run("account", "list").splitlines()

    assert lines[0].split() == ["number", "name", "seats", "schools", "students"]
    assert lines[1].split() == ["271828", "Birch", "Academy", "100", "0", "0"]
    assert lines[2].split() == ["314159", "Maple", "Elementary", "30", "1", "2"]


def test_list_with_no_accounts_says_how_to_make_one(run, db):
    assert "No accounts yet" in run("account", "list")


def test_an_action_is_required(run, db):
    with pytest.raises(CommandError, match="required: ACTION"):
        run("account")
