"""`carryover legacy import` with a `passcode_hash` column: old accounts moved from another
system with their encoded hashes, never their plain passcodes."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import (
    MD5PasswordHasher,
    PBKDF2PasswordHasher,
    PBKDF2SHA1PasswordHasher,
    ScryptPasswordHasher,
)
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from carryover.accounts.models import Enrollment, Section, User
from carryover.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

HEADER = "username,passcode_hash,class,teacher_email\n"


@pytest.fixture(autouse=True)
def product_hashers(settings):
    # The product's hashers (what production verifies), fast ones first for the tests.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ]


@pytest.fixture
def csv_file(tmp_path):
    def _write(content: str) -> str:
        path = tmp_path / "moved.csv"
        path.write_text(content, encoding="utf-8")
        return str(path)

    return _write


def snapshot() -> tuple[int, int, int, int]:
    return (
        User.objects.count(),
        Section.objects.count(),
        Enrollment.objects.count(),
        AuditEvent.objects.count(),
    )


def refused(run, path: str) -> str:
    before = snapshot()
    with pytest.raises(CommandError) as excinfo:
        run("legacy", "import", path, "--account", "314159")
    assert snapshot() == before, "a refused import must write nothing"
    return str(excinfo.value)


def sign_in(username: str, passcode: str) -> int:
    client = Client()
    response = client.post(
        reverse("web:sign_in"),
        {
            "panel": "student",
            "account_number": "314159",
            "username": username,
            "passcode": passcode,
        },
    )
    return response.status_code


def test_hashes_are_stored_as_they_are_and_sign_in_works(run, csv_file, section):
    pbkdf2 = PBKDF2PasswordHasher().encode("tulip-1", "saltsaltsalt01", iterations=1000)
    sha1 = PBKDF2SHA1PasswordHasher().encode("daisy-2", "saltsaltsalt02", iterations=1000)
    scrypt = ScryptPasswordHasher().encode("rose-3", "saltsaltsalt03", n=2**10)
    path = csv_file(
        HEADER
        + f"ava.k,{pbkdf2},Room 12,\n"
        + f"ben22,{sha1},Room 12,\n"
        + f"cleo3,{scrypt},Room 12,\n"
    )

    out = run("legacy", "import", path, "--account", "314159")

    assert "Imported 3 legacy students" in out
    stored = dict(User.objects.filter(is_legacy=True).values_list("username", "password"))
    assert stored == {"ava.k": pbkdf2, "ben22": sha1, "cleo3": scrypt}
    assert sign_in("ava.k", "wrong") == 200
    assert sign_in("ava.k", "tulip-1") == 302
    assert sign_in("ben22", "daisy-2") == 302
    assert sign_in("cleo3", "rose-3") == 302


def test_a_weaker_imported_hash_is_replaced_at_the_first_right_passcode(run, csv_file, section):
    weak = PBKDF2SHA1PasswordHasher().encode("daisy-2", "saltsaltsalt02", iterations=1000)
    run("legacy", "import", csv_file(HEADER + f"ben22,{weak},Room 12,\n"), "--account", "314159")

    assert sign_in("ben22", "daisy-2") == 302

    upgraded = User.objects.get(username="ben22").password
    assert upgraded != weak
    assert upgraded.startswith(f"{MD5PasswordHasher.algorithm}$")  # the first (default) hasher
    assert sign_in("ben22", "daisy-2") == 302


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1234", "no configured passcode hasher reads '1234' hashes"),
        ("bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuv", "no configured passcode hasher reads"),
        ("pbkdf2_sha256$1000$salt", "not a well-formed pbkdf2_sha256 hash"),
        ("pbkdf2_sha256$many$salt$aGFzaA==", "not a well-formed pbkdf2_sha256 hash"),
        ("pbkdf2_sha256$1000$salt$not base64!", "its hash part is not base64"),
        ("pbkdf2_sha256$0$salt$aGFzaA==", "iteration count is not a positive number"),
        ("pbkdf2_sha256$999999999$salt$aGFzaA==", "more than 10,000,000 iterations"),
        ("!unusable-hash", "not a usable passcode hash"),
        ("argon2$argon2id$v=19$m=102400,t=2,p=8$c29tZXNhbHQ$aGFzaA", "library is not installed"),
    ],
)
def test_anything_but_a_hash_a_configured_hasher_verifies_is_refused_naming_the_line(
    run, csv_file, section, value, reason
):
    good = PBKDF2PasswordHasher().encode("tulip-1", "saltsaltsalt01", iterations=1000)
    path = csv_file(HEADER + f"ava.k,{good},Room 12,\n" + f'ben22,"{value}",Room 12,\n')

    message = refused(run, path)

    assert "line 3:" in message
    assert reason in message
    assert "line 2" not in message


def test_an_empty_hash_and_both_columns_are_refused(run, csv_file, section):
    assert "line 2: the passcode hash is empty" in refused(
        run, csv_file(HEADER + "ava.k,,Room 12,\n")
    )
    both = "username,passcode,passcode_hash,class\nava.k,1234,md5$salt$abc,Room 12\n"
    assert "both passcode and passcode_hash" in refused(run, csv_file(both))


def test_a_hash_mistaken_for_a_passcode_is_not_hashed_again_silently(run, csv_file, section):
    """With the `passcode` column, a value is a passcode, whatever it looks like: the
    import hashes it (so the child types that string), never stores it as a hash."""
    value = PBKDF2PasswordHasher().encode("tulip-1", "saltsaltsalt01", iterations=1000)
    run(
        "legacy",
        "import",
        csv_file(f"username,passcode,class\nava.k,{value[:60]},Room 12\n"),
        "--account",
        "314159",
    )

    stored = User.objects.get(username="ava.k").password
    assert stored != value[:60]
    assert sign_in("ava.k", value[:60]) == 302
