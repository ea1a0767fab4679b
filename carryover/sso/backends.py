"""The session backend of people signed in through Clever or ClassLink.

It authenticates nobody by itself (the sign-on flow has already proved who the person
is); it exists so that `login()` records how the session began and so that each later
request reloads the user through a backend that refuses inactive accounts.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


class SignOnBackend(ModelBackend):
    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, **credentials: Any
    ) -> None:
        return None
