"""What someone typed to say who they are, in the one form every limit and lookup uses.

A sign-in or Get Records form is a password oracle, limited per typed identity. If two
spellings reach the same account but count against different limits, each spelling
gets a fresh budget of tries: PostgreSQL's `UPPER()` matched `samw` typed with a long
s (U+017F) to the account `samw`, which then signed in with 10 new tries. So what was
typed is normalised once, here, before any limit is counted, and the database is asked about
that same normalised form with an exact comparison (never `iexact`, whose meaning is
the database's and differs between PostgreSQL, SQLite and Python).

The form is Unicode's "NFKC casefold" as Python can write it: NFKC, casefold, NFKC
again (casefolding can undo a composition), without surrounding white space.
`samw` with a long s (U+017F), `SAMW` and full-width `samw` (U+FF53...) are all `samw`;
a dotless i (U+0131) stays what it is, so `mike` typed with it is not `mike`, whatever a
database's `UPPER()` says. Stored usernames are ASCII (`LEGACY_USERNAME_RE`) and stored
emails lower case, so `lower(column)` equals the normalised form of what was stored,
and the comparison uses the existing `lower(...)` indexes.

Pure: no Django import, so it is easy to test alone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# What a child or a teacher could plausibly type; longer input is cut before any work.
MAX_TYPED = 256
_ACCOUNT_NUMBER = re.compile(r"[0-9]{6}", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def normalize_identity(typed: str | None) -> str:
    """The one form of a typed username or email: NFKC, casefold, NFKC, stripped."""
    text = (typed or "")[:MAX_TYPED]
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    # Control characters are never part of a name, and PostgreSQL refuses NUL in a
    # query: they become U+FFFD, which no stored name holds (so nothing matches).
    return _CONTROL.sub("\ufffd", folded.strip())


def normalize_account_number(typed: str | None) -> str:
    """A typed account number: NFKC (full-width digits become 0-9), white space removed.

    Teachers write the number on the board as `314 159`; the spaces are not a mistake."""
    text = unicodedata.normalize("NFKC", (typed or "")[:MAX_TYPED])
    return _CONTROL.sub("\ufffd", re.sub(r"[ \u00a0\u2009\u202f]+", "", text.strip()))


def is_account_number(number: str) -> bool:
    """Six ASCII digits (after `normalize_account_number`)."""
    return _ACCOUNT_NUMBER.fullmatch(number) is not None


@dataclass(frozen=True)
class OldLogin:
    """An old account's sign-in as typed, normalised: account number, username, passcode.

    The passcode is kept exactly as typed (a passcode is compared by its hash, and a
    child who learned `Ab1` must not get in with `ab1`)."""

    account_number: str
    username: str
    passcode: str

    @classmethod
    def from_typed(
        cls, *, account_number: str | None, username: str | None, passcode: str | None
    ) -> OldLogin:
        return cls(
            account_number=normalize_account_number(account_number),
            username=normalize_identity(username),
            passcode=(passcode or "")[:MAX_TYPED],
        )

    @property
    def key(self) -> str:
        """The identity the limits count: account number and username."""
        return f"{self.account_number}/{self.username}"

    def slip(self) -> str | None:
        """A typing slip answered at once, before any limit or hash: a blank field or an
        account number that is not six digits. None when the details can be checked.

        Nothing here depends on what exists, so answering at once tells nobody anything."""
        if not self.account_number or not self.username or not self.passcode:
            return "blank"
        if not is_account_number(self.account_number):
            return "account_number"
        return None
