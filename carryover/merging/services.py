"""Merges started by staff: a teacher's direct link, support staff's merge.

Get Records (the student's own flow) lives in getrecords.py; every path ends in
engine.merge_legacy_student.
"""

from __future__ import annotations

from carryover.accounts.models import User
from carryover.merging.engine import MergeOutcome, merge_legacy_student, undo_merge
from carryover.merging.errors import MergeRefused
from carryover.merging.models import Merge, MergeMethod
from carryover.merging.selectors import can_manage_student


def link_legacy_student(*, legacy: User, target: User, actor: User) -> MergeOutcome:
    """A teacher (or admin) merges an old account into a student they teach.

    No passcode: the teacher already owns both accounts. The old account must be of the
    same subscription; support staff may cross subscriptions (method `staff`).
    Idempotent like every merge.
    """
    if not can_manage_student(actor, target):
        raise MergeRefused("You can only link accounts for your own students.", code="forbidden")
    if not actor.is_support and legacy.account_id != actor.account_id:
        raise MergeRefused("That old account belongs to another subscription.", code="forbidden")
    method = MergeMethod.STAFF if actor.is_support else MergeMethod.TEACHER_LINK
    return merge_legacy_student(legacy=legacy, target=target, actor=actor, method=method)


def undo_merge_for(*, merge: Merge, actor: User) -> Merge:
    """Undo on behalf of a teacher of the student, an admin of the account, support, or
    the staff member who made the merge (while still of its account)."""
    made_it = merge.actor_id == actor.pk and actor.account_id == merge.account_id
    if not (made_it or can_manage_student(actor, merge.target)):
        raise MergeRefused("You can only undo merges of your own students.", code="forbidden")
    return undo_merge(merge=merge, actor=actor)
