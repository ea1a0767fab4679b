"""The one normal form of typed identities (carryover/identity.py), alone."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carryover.identity import (
    OldLogin,
    is_account_number,
    normalize_account_number,
    normalize_identity,
)

LONG_S = "\u017f"  # the long s PostgreSQL's UPPER() turns into S
DOTLESS_I = "\u0131"  # UPPER() gives I, but it is not an i
KELVIN = "\u212a"  # the Kelvin sign: NFKC makes it K


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        (f"{LONG_S}amw", "samw"),
        ("SAMW", "samw"),
        (" samw\t", "samw"),
        ("\uff53\uff41\uff4d\uff57", "samw"),  # full width
        (f"{KELVIN}id5", "kid5"),
        ("Stra\u00dfe", "strasse"),  # casefold, not lower
        ("TESS@Maple.Example", "tess@maple.example"),
        (f"m{DOTLESS_I}ke", f"m{DOTLESS_I}ke"),  # stays: it is not "mike"
        ("mayar7\x00", "mayar7\ufffd"),  # never matches; no NUL reaches the database
        ("", ""),
        (None, ""),
    ],
)
def test_typed_identities_have_one_form(typed, normal):
    assert normalize_identity(typed) == normal


def test_a_dotless_i_is_not_an_i_whatever_upper_says():
    assert f"m{DOTLESS_I}ke".upper() == "MIKE"  # what a database's UPPER() compares
    assert normalize_identity(f"m{DOTLESS_I}ke") != normalize_identity("mike")


@given(st.text(max_size=40))
def test_the_form_is_stable_and_never_holds_control_characters(text):
    once = normalize_identity(text)
    assert normalize_identity(once) == once
    assert not any(unicodedata.category(c) == "Cc" for c in once)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=30))
def test_every_spelling_of_an_ascii_username_reaches_the_same_form(username):
    """Upper case, full width and compatibility forms of a stored (ASCII) username all
    normalise to `lower(username)`, the form the database is asked about."""
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in username)
    for spelling in (username, username.upper(), full_width, f"  {username} "):
        assert normalize_identity(spelling) == username.lower()


@pytest.mark.parametrize(
    ("typed", "number", "six"),
    [
        ("314159", "314159", True),
        (" 314 159 ", "314159", True),
        ("\uff13\uff11\uff14\uff11\uff15\uff19", "314159", True),  # full-width digits
        ("31415", "31415", False),
        ("3141592", "3141592", False),
        ("31415x", "31415x", False),
        ("314\x00159", "314\ufffd159", False),
        ("\u0663\u0661\u0664\u0661\u0665\u0669", "\u0663\u0661\u0664\u0661\u0665\u0669", False),
    ],
)
def test_account_numbers(typed, number, six):
    assert normalize_account_number(typed) == number
    assert is_account_number(number) is six


@pytest.mark.parametrize(
    ("fields", "slip"),
    [
        ({"account_number": "314159", "username": "mayar7", "passcode": "1234"}, None),
        ({"account_number": "", "username": "mayar7", "passcode": "1234"}, "blank"),
        ({"account_number": "314159", "username": "  ", "passcode": "1234"}, "blank"),
        ({"account_number": "314159", "username": "mayar7", "passcode": ""}, "blank"),
        ({"account_number": "31415", "username": "mayar7", "passcode": "1234"}, "account_number"),
        # A passcode is kept exactly as typed: spaces are characters of it.
        ({"account_number": "314159", "username": "mayar7", "passcode": " "}, None),
    ],
)
def test_typing_slips(fields, slip):
    assert OldLogin.from_typed(**fields).slip() == slip


def test_the_passcode_is_never_normalised():
    typed = OldLogin.from_typed(account_number="314159", username="Maya", passcode=" Ab1\uff21")
    assert typed.passcode == " Ab1\uff21"
    assert typed.key == "314159/maya"
