"""Passcodes of a pasted class list are hashed on every core, each with its own salt."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password

from carryover.accounts.services import hash_passcodes


@pytest.mark.parametrize("count", [0, 1, 5])
def test_each_passcode_gets_its_own_hash_in_order(count):
    passcodes = [f"{1000 + i}" for i in range(count)] + (["1234", "1234"] if count else [])

    hashes = hash_passcodes(passcodes)

    assert len(hashes) == len(passcodes)
    for passcode, encoded in zip(passcodes, hashes, strict=True):
        assert check_password(passcode, encoded)
        assert not check_password(passcode + "x", encoded)
    if count:
        assert hashes[-1] != hashes[-2]  # the same passcode twice: two salts
