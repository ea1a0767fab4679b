"""Domain errors of accounts and people, each with a stable code."""

from __future__ import annotations

from typing import Any


class AccountsError(Exception):
    code = "accounts_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class SignInThrottled(AccountsError):
    """Too many failed sign-ins for these details or from this address; nothing was checked."""

    code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, (retry_after + 59) // 60)
        super().__init__(
            f"Too many sign-in attempts. Wait {minutes} minute{'s' * (minutes != 1)} "
            "and try again, or ask your teacher."
        )
        self.retry_after = retry_after


class ImportRowError:
    """One bad line of an import file."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportFileError(AccountsError):
    """The whole file was refused; nothing was written."""

    code = "import_refused"

    def __init__(self, errors: list[ImportRowError] | str) -> None:
        if isinstance(errors, str):
            errors = [ImportRowError(0, errors)]
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


class SignInSlip(AccountsError):
    """A typing slip answered at once, before any limit is counted or any hash runs: a
    blank field, or an account number that is not six digits. Says nothing about what
    exists, so it may be specific."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message, code=code)
        self.field = field


class RecordsMoved(AccountsError):
    """The old account's passcode was right, and its records were merged into a new
    account: sign in there (with `provider`, when the school has one)."""

    code = "records_moved"

    def __init__(self, message: str, *, provider: str | None, merged_at: Any) -> None:
        super().__init__(message)
        self.provider = provider
        self.merged_at = merged_at


class OldAccountEnded(AccountsError):
    """The old account's passcode was right, but its temporary seat ended (the school
    went live with sign-on and the date passed): it signs in no more; its records wait
    for Get Records (with `provider`, when the school has one)."""

    code = "old_account_ended"

    def __init__(self, message: str, *, provider: str | None) -> None:
        super().__init__(message)
        self.provider = provider


class SignInUnavailable(AccountsError):
    """Sign-in cannot count its tries (the shared cache is unreachable), so it refuses
    to check any password until it can."""

    code = "service_unavailable"
    retry_after = 30
