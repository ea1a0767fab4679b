"""The passcode guard counts reservations apart from failures, and a lock always has its date.

Before this, a try was counted as a failure before its hash ran, and the lock's date and
audit row were written afterwards, so a request killed in between left an account
"half locked" (10 failures, no `locked_at`, no audit row). Such rows are completed here:
their lock is dated when the row last changed, with an audit row that says it was
repaired. A row with a date but fewer than 10 failures (not written by the product) is
taken as locked.
"""

from django.db import migrations, models
from django.db.models import F, Q

LOCK_AFTER = 10


def complete_half_locks(apps, schema_editor):
    Guard = apps.get_model("merging", "GetRecordsGuard")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    User = apps.get_model("accounts", "User")
    half = list(Guard.objects.filter(failures__gte=LOCK_AFTER, locked_at__isnull=True))
    accounts = dict(
        User.objects.filter(pk__in=[g.legacy_id for g in half]).values_list("pk", "account_id")
    )
    for guard in half:
        AuditEvent.objects.create(
            event_type="get_records_locked",
            subject_id=guard.legacy_id,
            account_id=accounts.get(guard.legacy_id),
            created_at=guard.updated_at,
            data={"failures": LOCK_AFTER, "repaired": True},
        )
    Guard.objects.filter(failures__gte=LOCK_AFTER, locked_at__isnull=True).update(
        locked_at=F("updated_at")
    )
    Guard.objects.filter(locked_at__isnull=False).update(failures=LOCK_AFTER)
    if schema_editor.connection.vendor == "postgresql":
        # Check the deferred foreign keys of the rows just written now, so the
        # constraints below can be added in this same transaction.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("merging", "0001_initial"),
        ("audit", "0002_append_only_triggers"),
        ("accounts", "0003_accounts_never_deleted"),
    ]

    operations = [
        migrations.AddField(
            model_name="getrecordsguard",
            name="pending",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="Tries reserved and not settled yet (they lapse at pending_until).",
            ),
        ),
        migrations.AddField(
            model_name="getrecordsguard",
            name="pending_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(complete_half_locks, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="getrecordsguard",
            constraint=models.CheckConstraint(
                condition=Q(pending__lte=10), name="guard_pending_at_most_lock_after"
            ),
        ),
        migrations.AddConstraint(
            model_name="getrecordsguard",
            constraint=models.CheckConstraint(
                condition=Q(failures=10, locked_at__isnull=False)
                | Q(failures__lt=10, locked_at__isnull=True),
                name="guard_locked_has_date",
            ),
        ),
    ]
