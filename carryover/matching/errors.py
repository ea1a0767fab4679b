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
