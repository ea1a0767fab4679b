"""An old account's passcode, checked one way at every door.

The sign-in form, `POST /api/v1/session` and Get Records (its page and its API) all ask
"do these typed details open an old account?". Each is a password oracle for the same
passcodes, so they share one path and one guard (`carryover.merging.guard`): one count
and one lock per old account, whichever door a try comes through.

The path, for every answer alike:
1. one lookup of the old account by the typed, normalised account number and username
   (`carryover.identity`: the same form every limit counts);
2. the door says what the account would be to it if the passcode is right (opened,
   records moved, records already here) or that it is out of reach (as if absent);
3. one reservation on the account's guard (a statement that matches nothing when there
   is no account within reach), refused when it is locked or its tries are used up;
4. exactly one hash verification: the account's, or a dummy one when there is nothing
   (or nothing admitted) to verify;
5. one settling statement: a success starts the count again, a failure counts (and
   locks at the limit, with its audit row, in one transaction).

So a wrong passcode, an unknown username, a locked account and an account out of reach
cost the same queries and one hash, and answer the same. What the door may say after
a *verified* passcode (records moved, already here) is said only then.

Callers count their own cache limits (per identity, student, teacher, address) before
calling, and give their reservation back on success.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, make_password
from django.db.models.functions import Lower

from carryover.accounts.backends import dummy_hash
from carryover.accounts.models import User
from carryover.identity import OldLogin
from carryover.merging import guard
from carryover.merging.guard import Door

__all__ = ["NO_MATCH", "Check", "Door", "Outcome", "check_old_passcode", "find_old_account"]


class Outcome(enum.Enum):
    OPENED = "opened"  # the door lets this account in (sign in, or merge it)
    MOVED = "moved"  # the account was merged: its records are in a new account
    ALREADY_HERE = "already_here"  # merged into the very student asking
    SEAT_ENDED = "seat_ended"  # a temporary seat whose date passed: it signs in no more
    NO_MATCH = "no_match"  # the one answer for everything else


@dataclass(frozen=True)
class Check:
    outcome: Outcome
    legacy: User | None = None

    @property
    def verified(self) -> bool:
        return self.outcome is not Outcome.NO_MATCH


NO_MATCH = Check(Outcome.NO_MATCH)


def find_old_account(login: OldLogin) -> User | None:
    """The old account these normalised details name, whatever its state, or None.

    An exact comparison with `lower(username)` (the column of the unique index): stored
    usernames are ASCII, so that is their normalised form; never `iexact`, whose
    meaning is the database's."""
    return (
        User.objects.filter(is_legacy=True, account__account_number=login.account_number)
        .alias(typed=Lower("username"))
        .filter(typed=login.username)
        .select_related("account")
        .first()
    )


def check_old_passcode(
    *,
    login: OldLogin,
    door: guard.Door,
    outcome_for: Callable[[User], Outcome | None],
) -> Check:
    """Do these details open an old account at this door? See the module docstring.

    `outcome_for(account)` is what the door would answer for that account if its
    passcode is right, or None when the account is out of this door's reach (then it
    is treated as absent: dummy hash, nothing counted). The caller has answered typing
    slips (`OldLogin.slip`) already."""
    candidate = find_old_account(login)
    if_right = outcome_for(candidate) if candidate is not None else None
    in_reach = candidate if if_right is not None else None
    admitted = guard.reserve_try(in_reach.pk if in_reach is not None else None)
    verifying = in_reach if admitted else None

    def upgrade(raw: str) -> None:
        # An imported weaker hash (`legacy import` with passcode_hash) is replaced by
        # the default hasher's on the first right passcode.
        if verifying is not None:
            User.objects.filter(pk=verifying.pk).update(password=make_password(raw))

    encoded = verifying.password if verifying is not None else dummy_hash()
    right = check_password(login.passcode, encoded, setter=upgrade) and verifying is not None
    if right and verifying is not None and if_right is not None:
        if guard.settle_success(verifying.pk):
            return Check(if_right, verifying)
        return NO_MATCH  # locked while this request was verifying
    guard.settle_failure(verifying, door=door)
    return NO_MATCH
