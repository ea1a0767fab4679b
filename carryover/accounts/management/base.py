"""What the `carryover` operator commands share: finding an account, printing one."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.management.base import CommandError
from django.db.models import Count, Q

from carryover.accounts.models import ACCOUNT_NUMBER_RE, Account, Role, School, SeatState


def get_account_by_number(number: str) -> Account:
    """The account with this six-digit number, or a `CommandError` that says why not."""
    number = (number or "").strip()
    if not re.fullmatch(ACCOUNT_NUMBER_RE, number):
        raise CommandError(f"{number!r} is not an account number: six digits, e.g. 314159.")
    account = Account.objects.filter(account_number=number).first()
    if account is None:
        raise CommandError(f"There is no account {number}.")
    return account


def get_school_by_name(account: Account, name: str) -> School:
    school = account.schools.filter(name__iexact=name.strip()).first()
    if school is None:
        known = ", ".join(account.schools.values_list("name", flat=True)) or "none yet"
        raise CommandError(
            f"Account {account.account_number} has no school {name!r} (its schools: {known})."
        )
    return school


def describe_account(account: Account) -> list[str]:
    """Lines that show an account to an operator: number, name, seats, schools, people."""
    people = account.users.aggregate(
        legacy=Count("pk", filter=Q(role=Role.STUDENT, is_legacy=True)),
        legacy_live=Count(
            "pk",
            filter=Q(
                role=Role.STUDENT,
                is_legacy=True,
                seat_state__in=[SeatState.ACTIVE, SeatState.TEMPORARY],
            ),
        ),
        rostered=Count("pk", filter=Q(role=Role.STUDENT, is_legacy=False)),
        teachers=Count("pk", filter=Q(role=Role.TEACHER)),
        admins=Count("pk", filter=Q(role=Role.SCHOOL_ADMIN)),
    )
    schools = list(account.schools.values_list("name", flat=True))
    return [
        f"Account {account.account_number}  {account.name}",
        f"  seats purchased: {account.seats_purchased}",
        f"  roster source:   {account.get_roster_source_display()}",
        f"  schools:         {', '.join(schools) if schools else '(none)'}",
        f"  classes:         {account.sections.count()}",
        f"  legacy students: {people['legacy_live']} current"
        f" ({people['legacy']} including merged and erased)",
        f"  rostered students: {people['rostered']}",
        f"  teachers:        {people['teachers']}, school admins: {people['admins']}",
        "  Get Records failures per address per 15 min: "
        + (
            f"{account.get_records_address_limit} (this account's own)"
            if account.get_records_address_limit
            else f"{settings.GET_RECORDS_IP_FAILURES_PER_15_MIN} (the default)"
        ),
    ]
