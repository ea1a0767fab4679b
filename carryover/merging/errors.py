"""Domain errors of merging, each with a stable code the API and pages answer."""

from __future__ import annotations


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
            "We couldn't find old records with those details. Check the username, "
            "passcode and account number, or ask your teacher."
        )


class TooManyAttempts(MergeError):
    code = "too_many_attempts"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many tries. Wait a little, or ask your teacher for help.")
        self.retry_after = retry_after


class MergeRefused(MergeError):
    """The merge (or undo) is not allowed; the message says why, for staff eyes."""

    code = "merge_refused"
    status = 409
