"""Account numbers are never reused: on PostgreSQL the database refuses to delete an account.

TRUNCATE stays possible (a test database flush uses it; no application path does).
SQLite, the try-out default, relies on the model and its queryset, which refuse deletes
in Python, because Django's test flush empties SQLite tables with DELETE.
"""

from django.db import migrations

POSTGRES_UP = [
    """CREATE OR REPLACE FUNCTION accounts_account_never_deleted() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'accounts are never deleted; their numbers are never reused'; END;
       $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER accounts_account_never_deleted BEFORE DELETE ON accounts_account
        FOR EACH ROW EXECUTE FUNCTION accounts_account_never_deleted();""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS accounts_account_never_deleted ON accounts_account;",
    "DROP FUNCTION IF EXISTS accounts_account_never_deleted();",
]


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_UP:
            schema_editor.execute(statement)


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_roster_fields")]
    operations = [migrations.RunPython(up, down)]
