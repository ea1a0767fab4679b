"""`carryover rotate_field_keys [--commit]`: re-encrypt every stored secret under the
first of CARRYOVER_FIELD_KEYS, so the older keys can then be removed.

Rotation: put the new key first (`CARRYOVER_FIELD_KEYS=new,old`), restart, run this
with `--commit`, then drop `old`. Without `--commit` it only counts. The values keep
their meaning (the same secret, another ciphertext), so nothing is audited.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from carryover.encryption import (
    SecretDecryptionError,
    decrypt,
    encrypted_by_first_key,
    encrypted_columns,
)


class Command(BaseCommand):
    help = "Re-encrypt the stored secrets under the first of CARRYOVER_FIELD_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--commit", action="store_true", help="write (default: count only)")

    def handle(self, *args: Any, **options: Any) -> None:
        commit = bool(options["commit"])
        total = 0
        for model, field in encrypted_columns():
            table = connection.ops.quote_name(model._meta.db_table)
            column = connection.ops.quote_name(field.column)
            pk = connection.ops.quote_name(model._meta.pk.column)  # type: ignore[union-attr]
            what = f"{model._meta.label}.{field.name}"
            with transaction.atomic():
                with connection.cursor() as cursor:
                    # Raw: the ORM would hand back the decrypted value, and which key
                    # encrypted it is what this command needs to know.
                    cursor.execute(
                        f"SELECT {pk}, {column} FROM {table} WHERE {column} <> ''"  # noqa: S608
                    )
                    rows = cursor.fetchall()
                stale: list[tuple[Any, str]] = []
                for row_pk, raw in rows:
                    if raw and not encrypted_by_first_key(raw):
                        try:
                            stale.append((row_pk, decrypt(raw, what=f"{what} of row {row_pk}")))
                        except SecretDecryptionError as exc:
                            raise CommandError(str(exc)) from exc
                if commit:
                    for row_pk, plain in stale:
                        model._base_manager.filter(pk=row_pk).update(**{field.name: plain})
            total += len(stale)
            verb = "re-encrypted" if commit else "to re-encrypt"
            self.stdout.write(f"{what}: {len(rows)} stored, {len(stale)} {verb}")
        if not commit:
            self.stdout.write(f"dry run: {total} to re-encrypt; nothing written (add --commit)")
