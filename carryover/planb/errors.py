"""Errors of Plan B matching with stable codes (the API and the pages show `message`)."""

from __future__ import annotations


class LoginsFileError(Exception):
    """The filled-in logins file cannot be used; nothing is matched or merged.

    `code` is stable for the API and tests; `row` is the spreadsheet row the
    problem is on (1 = the first line of the file) or None for the whole file.
    """

    def __init__(self, code: str, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.row = row

    def __str__(self) -> str:
        return self.message


class NameMatchRefused(Exception):
    """A review action or merge run of Plan B is not allowed; `message` says why.

    `code` is stable for the tests and the command line (e.g. `student_taken`,
    `not_a_candidate`, `job_merging`, `nothing_to_merge`).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message
