"""Domain errors of the school console, each with a stable code."""

from __future__ import annotations


class ConsoleError(Exception):
    code = "console_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class EraseRefused(ConsoleError):
    """Nothing was erased (or restored); the message says why."""

    code = "erase_refused"
