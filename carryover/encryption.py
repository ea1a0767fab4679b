"""Secrets at rest: a text field stored encrypted with Fernet (cryptography's MultiFernet).

Fernet is authenticated encryption (AES-128-CBC with HMAC-SHA256, a random IV per
value), so the column holds no plaintext and a value changed in the database fails to
decrypt instead of turning into another secret. Keys come from
`settings.CARRYOVER_FIELD_KEYS` (Fernet keys, comma-separated in the environment): the
first encrypts, every one decrypts, so a new key is put first and the old ones stay
until `carryover rotate_field_keys --commit` has re-encrypted everything. Without
explicit keys one key is derived from SECRET_KEY (and one from each of
SECRET_KEY_FALLBACKS, which then only decrypt), so changing SECRET_KEY without keeping
the old one in SECRET_KEY_FALLBACKS makes the stored secrets unreadable.

A value that none of the keys opens raises `SecretDecryptionError` naming the field:
never the ciphertext handed on as if it were the secret.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

_DERIVATION_SALT = b"carryover field keys"
_DERIVATION_INFO = b"carryover encrypted fields v1"


class SecretDecryptionError(Exception):
    """A stored secret that none of the configured keys decrypts."""


@lru_cache(maxsize=8)
def key_from_secret_key(secret_key: str) -> bytes:
    """The Fernet key derived from a SECRET_KEY (HKDF-SHA256: SECRET_KEY is already
    long and random, so a slow password hash would add nothing)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_DERIVATION_SALT, info=_DERIVATION_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


def configured_keys() -> tuple[bytes, ...]:
    """The keys in force, the encrypting one first."""
    explicit = tuple(str(k).encode() for k in getattr(settings, "CARRYOVER_FIELD_KEYS", ()) if k)
    if explicit:
        return explicit
    fallbacks = getattr(settings, "SECRET_KEY_FALLBACKS", ()) or ()
    return tuple(key_from_secret_key(k) for k in (settings.SECRET_KEY, *fallbacks) if k)


@lru_cache(maxsize=8)
def _fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


def key_ring(keys: Sequence[bytes] | None = None) -> MultiFernet:
    chosen = tuple(keys) if keys is not None else configured_keys()
    if not chosen:
        raise SecretDecryptionError(
            "no field encryption key: set CARRYOVER_FIELD_KEYS or SECRET_KEY"
        )
    return _fernet(chosen)


def encrypt(text: str, *, keys: Sequence[bytes] | None = None) -> str:
    return key_ring(keys).encrypt(text.encode()).decode("ascii")


def decrypt(
    token: str, *, what: str = "a stored secret", keys: Sequence[bytes] | None = None
) -> str:
    try:
        return key_ring(keys).decrypt(token.encode()).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise SecretDecryptionError(
            f"{what} cannot be decrypted with the configured keys (CARRYOVER_FIELD_KEYS, or "
            "the key derived from SECRET_KEY): put the key that encrypted it back into "
            "CARRYOVER_FIELD_KEYS (after the new one), or store the secret again"
        ) from exc


def is_encrypted(value: str, *, keys: Sequence[bytes] | None = None) -> bool:
    """Whether one of the keys opens `value` (tells stored ciphertext from plaintext)."""
    try:
        key_ring(keys).decrypt(value.encode())
    except (InvalidToken, UnicodeError):
        return False
    return True


def reencrypt(token: str, *, what: str = "a stored secret") -> str:
    """The same secret encrypted under the first key (for key rotation)."""
    return encrypt(decrypt(token, what=what))


def encrypted_by_first_key(token: str) -> bool:
    return is_encrypted(token, keys=configured_keys()[:1])


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text that Python sees in clear and the database holds encrypted.

    The empty string (and NULL) are stored as they are: "no secret set" is not a secret.
    Encrypted values carry a random IV, so equality lookups on the column match nothing;
    never filter on it.
    """

    description = "Text encrypted at rest (Fernet)"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt(value, what=self._what())

    def _what(self) -> str:
        model = getattr(self, "model", None)
        label = model._meta.label if model is not None else "?"
        return f"{label}.{self.name}"


def encrypted_columns() -> list[tuple[type[models.Model], EncryptedTextField]]:
    """Every (model, field) whose column holds encrypted text."""
    from django.apps import apps

    found: list[tuple[type[models.Model], EncryptedTextField]] = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append((model, field))
    return found
