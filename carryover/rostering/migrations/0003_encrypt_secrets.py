"""Encrypt the stored roster secrets (Clever district tokens, OneRoster secrets), and add
OneRoster 1.2 (OAuth 2 client credentials) to the connection.

The column first becomes plain text (a Fernet token is longer than the old 500
characters), then every stored plaintext is encrypted with the first configured key,
then the field becomes the encrypting field (no schema change: both are text).
Reversible: going back decrypts the values into the 500-character column again.
"""

from django.db import migrations, models

import carryover.encryption


def encrypt_existing(apps, schema_editor):
    from carryover.encryption import encrypt, is_encrypted

    RosterConnection = apps.get_model("rostering", "RosterConnection")
    for pk, secret in RosterConnection.objects.values_list("pk", "secret").iterator():
        if secret and not is_encrypted(secret):
            RosterConnection.objects.filter(pk=pk).update(secret=encrypt(secret))


def decrypt_existing(apps, schema_editor):
    from carryover.encryption import decrypt, is_encrypted

    RosterConnection = apps.get_model("rostering", "RosterConnection")
    for pk, secret in RosterConnection.objects.values_list("pk", "secret").iterator():
        if secret and is_encrypted(secret):
            plain = decrypt(secret, what=f"rostering.RosterConnection {pk} secret")
            RosterConnection.objects.filter(pk=pk).update(secret=plain)


class Migration(migrations.Migration):
    dependencies = [
        ("rostering", "0002_clever_events"),
    ]

    operations = [
        migrations.AlterField(
            model_name="rosterconnection",
            name="secret",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing, elidable=False),
        migrations.AlterField(
            model_name="rosterconnection",
            name="secret",
            field=carryover.encryption.EncryptedTextField(blank=True, default=""),
        ),
        migrations.AlterField(
            model_name="rosterconnection",
            name="provider",
            field=models.CharField(
                choices=[("clever", "Clever"), ("classlink", "ClassLink (OneRoster REST)")],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="rosterconnection",
            name="client_key",
            field=models.CharField(
                blank=True,
                default="",
                help_text="OAuth consumer key or client id.",
                max_length=255,
            ),
        ),
        migrations.AddField(
            model_name="rosterconnection",
            name="oneroster_version",
            field=models.CharField(
                choices=[
                    ("1.1", "OneRoster 1.1 (OAuth 1.0a signatures)"),
                    ("1.2", "OneRoster 1.2 (OAuth 2 client credentials)"),
                ],
                default="1.1",
                max_length=3,
            ),
        ),
        migrations.AddField(
            model_name="rosterconnection",
            name="token_url",
            field=models.URLField(
                blank=True,
                default="",
                help_text="OneRoster 1.2: the OAuth 2 token endpoint (empty: the base URL + /token).",
                max_length=500,
            ),
        ),
        migrations.AddConstraint(
            model_name="rosterconnection",
            constraint=models.CheckConstraint(
                condition=models.Q(("oneroster_version__in", ["1.1", "1.2"])),
                name="rosterconnection_oneroster_version_valid",
            ),
        ),
    ]
