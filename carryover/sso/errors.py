"""Why a sign-on was refused: a stable code, what the person is told, the HTTP status."""

from __future__ import annotations

from typing import ClassVar

_START_AGAIN = "Start again from the sign-in page."


class SignOnError(Exception):
    """A refused sign-on. `code` is stable (audit rows and tests use it); `message` is
    what the person sees; `detail` is for the audit trail only, never for the page."""

    MESSAGES: ClassVar[dict[str, tuple[int, str]]] = {
        "provider_not_configured": (
            503,
            "Signing in with this provider isn't set up on this server yet.",
        ),
        "provider_error": (400, "The sign-in provider did not sign you in. " + _START_AGAIN),
        "state_missing": (
            400,
            "This sign-in link is missing its security check, so we can't use it. " + _START_AGAIN,
        ),
        "state_mismatch": (
            400,
            "This sign-in doesn't match one started in this browser (it may have expired, "
            "or been opened in another browser). " + _START_AGAIN,
        ),
        "state_wrong_provider": (
            400,
            "This answer came back to the wrong sign-in provider, so we can't use it. "
            + _START_AGAIN,
        ),
        "issuer_mismatch": (
            400,
            "This answer didn't come from the sign-in provider we asked. " + _START_AGAIN,
        ),
        "redirect_uri_mismatch": (
            400,
            "This sign-in came back to a different address than it started from. " + _START_AGAIN,
        ),
        "code_missing": (400, "The sign-in provider sent no sign-in code. " + _START_AGAIN),
        "code_reused": (
            400,
            "This sign-in link was already used. " + _START_AGAIN,
        ),
        "cache_unavailable": (
            503,
            "Signing in isn't working right now. Please wait a minute and try again.",
        ),
        "token_refused": (
            400,
            "The sign-in provider refused this sign-in (it may have expired). " + _START_AGAIN,
        ),
        "provider_unreachable": (
            502,
            "We couldn't reach the sign-in provider. Wait a minute and try again.",
        ),
        "provider_bad_answer": (
            502,
            "The sign-in provider answered in a way we don't understand. Try again later.",
        ),
        "id_token_invalid": (
            400,
            "The sign-in provider's proof of who you are didn't check out. " + _START_AGAIN,
        ),
        "identity_mismatch": (
            400,
            "The sign-in provider gave two different answers about who you are. " + _START_AGAIN,
        ),
        "district_not_connected": (
            403,
            "Your district isn't connected to carryover yet — ask your school's administrator.",
        ),
        "district_mismatch": (
            403,
            "Your sign-in names a different district than the one your carryover account "
            "belongs to. Ask your school's administrator.",
        ),
        "account_mismatch": (
            403,
            "Your carryover account belongs to a different school account than your "
            "district. Ask your school's administrator.",
        ),
        "user_inactive": (
            403,
            "This carryover account is no longer in use. Ask your teacher or your school's "
            "administrator.",
        ),
        "role_not_supported": (
            403,
            "carryover is for students, teachers and school administrators; your account "
            "type can't sign in here.",
        ),
        "roster_conflict": (
            403,
            "Your district's roster gives your student or staff number to another carryover "
            "account. Ask your school's administrator.",
        ),
        "roster_ambiguous": (
            403,
            "Your district's roster lists more than one carryover account for you. Ask your "
            "school's administrator.",
        ),
    }

    def __init__(self, code: str, detail: str = "", *, account_id: int | None = None) -> None:
        if code not in self.MESSAGES:
            raise ValueError(f"unknown sign-on error code {code!r}")
        self.code = code
        self.status, self.message = self.MESSAGES[code]
        self.detail = detail
        self.account_id = account_id
        super().__init__(f"{code}: {detail}" if detail else code)


class ProviderConnectionError(Exception):
    """A district or tenant could not be connected to an account; `code` is stable."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
