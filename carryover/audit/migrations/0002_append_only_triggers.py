"""Make the audit trail append-only in the database itself, not only in Python.

PostgreSQL refuses UPDATE and DELETE of any row. TRUNCATE stays possible: it is what
a test database flush uses, and no application code path issues it. SQLite (the
try-out default) refuses UPDATE only, because Django's test flush empties tables
with DELETE there; the model refuses deletes in Python.
"""

from django.db import migrations

TABLE = "audit_auditevent"

SQLITE_UP = [
    f"""CREATE TRIGGER audit_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;""",

]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS audit_no_update;"]

POSTGRES_UP = [
    """CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql;""",
    f"""CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_append_only();""",
]
POSTGRES_DOWN = [
    f"DROP TRIGGER IF EXISTS audit_append_only ON {TABLE};",
    "DROP FUNCTION IF EXISTS audit_append_only();",
]


def _run(schema_editor, statements):
    for statement in statements:
        schema_editor.execute(statement)


def up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_UP)
    elif vendor == "postgresql":
        _run(schema_editor, POSTGRES_UP)


def down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_DOWN)
    elif vendor == "postgresql":
        _run(schema_editor, POSTGRES_DOWN)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(up, down)]
