"""Domain errors of merging, each with a stable code the API and pages answer."""

from __future__ import annotations

import datetime as dt

from django.utils import formats, timezone
from django.utils.translation import gettext as _


class MergeError(Exception):
    code = "merge_error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NoMatchingAccount(MergeError):
    """One answer for every wrong detail, locked account or account out of reach."""

    code = "no_matching_account"

    def __init__(self) -> None:
        super().__init__(
            _(
                "We couldn't find old records with those details. Check the username, "
                "passcode and account number, or ask your teacher."
            )
        )


class TooManyAttempts(MergeError):
    code = "too_many_attempts"
    status = 429

    def __init__(self, retry_after: int, *, by_teacher: bool = False) -> None:
        super().__init__(_("Too many tries. Wait a little, or ask your teacher for help."))
        self.retry_after = retry_after
        # The limit that stopped a teacher signed in as the student was the teacher's own.
        self.by_teacher = by_teacher


class DetailsSlip(MergeError):
    """A typing slip answered at once, counting nothing: a blank field or an account
    number that is not six digits (nothing here depends on what exists)."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message, code=code)
        self.field = field


class RecordsAlreadyHere(MergeError):
    """The right passcode of an old account already merged into this very student."""

    code = "records_already_here"
    status = 409

    def __init__(self, merged_at: dt.datetime | None) -> None:
        when = (
            formats.date_format(timezone.localtime(merged_at), "DATE_FORMAT") if merged_at else ""
        )
        super().__init__(
            _("Those records are already here (since %(date)s).") % {"date": when}
            if when
            else _("Those records are already here.")
        )
        self.merged_at = merged_at


class GetRecordsUnavailable(MergeError):
    """The limits cannot be counted (the shared cache is unreachable): nothing checked."""

    code = "service_unavailable"
    status = 503
    retry_after = 30

    def __init__(self) -> None:
        super().__init__(
            _("Get Records isn't working right now. Please wait a minute and try again.")
        )


class MergeRefused(MergeError):
    """The merge (or undo) is not allowed; the message says why, for staff eyes."""

    code = "merge_refused"
    status = 409
