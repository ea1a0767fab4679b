"""Who may act on Plan B: upload for an account (or one class), review a job, and give a
row any student rather than one of its candidates. Pure checks on loaded objects (one
query for a teacher's classes); the pages reach jobs through scoped selectors first.

Support staff on any account, a school admin on their account, a teacher on the jobs
they uploaded (of their own classes), the command line (actor None) on any.
"""

from __future__ import annotations

from carryover.accounts.models import Account, Role, Section, User
from carryover.accounts.selectors import list_sections_for_user
from carryover.planb.errors import NameMatchRefused
from carryover.planb.models import NameMatchJob


def check_can_upload(*, actor: User | None, account: Account, section: Section | None) -> None:
    """Support staff anywhere; a school admin in their account; a teacher in their
    account, limited to a class they teach when one is named; the command line (None)."""
    if section is not None and section.account_id != account.pk:
        raise NameMatchRefused("forbidden", "That class belongs to another account.")
    if actor is None or actor.is_support:
        return
    if not actor.is_active or actor.account_id != account.pk:
        raise NameMatchRefused("forbidden", "You can upload files of your own account only.")
    if actor.role == Role.SCHOOL_ADMIN:
        return
    if actor.role == Role.TEACHER:
        if section is not None and not list_sections_for_user(actor).filter(pk=section.pk).exists():
            raise NameMatchRefused("forbidden", "You can upload files of your own classes only.")
        return
    raise NameMatchRefused("forbidden", "Only teachers and school admins upload logins files.")


def check_can_review(*, actor: User | None, job: NameMatchJob) -> None:
    if actor is None or actor.is_support:
        return
    if actor.is_active and actor.account_id == job.account_id:
        if actor.role == Role.SCHOOL_ADMIN:
            return
        if actor.role == Role.TEACHER and job.uploaded_by_id == actor.pk:
            return
    raise NameMatchRefused("forbidden", "You can review your own uploads only.")


def may_pick_any_student(*, actor: User | None, job: NameMatchJob) -> bool:
    """Admins, support and the command line may give a row any active rostered student."""
    if actor is None or actor.is_support:
        return True
    return actor.role == Role.SCHOOL_ADMIN and actor.account_id == job.account_id
