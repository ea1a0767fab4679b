"""Domain errors of practice recording, each with a stable code the API answers."""

from __future__ import annotations


class PracticeError(Exception):
    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
