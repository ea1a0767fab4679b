"""The audit trail is append-only: the model refuses changes, and so does the database."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from carryover.audit.models import AuditEvent, EventType
from carryover.audit.services import record_event

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table


@pytest.fixture
def event(legacy_student) -> AuditEvent:
    return record_event(
        event_type=EventType.USER_SIGNED_IN,
        actor=legacy_student,
        subject=legacy_student,
        data={"method": "legacy"},
    )


def rows() -> list[dict]:
    return list(AuditEvent.objects.order_by("id").values())


def raw(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_event_takes_its_account_from_the_people_in_it(event, legacy_student):
    assert event.account_id == legacy_student.account_id
    assert event.created_at is not None


def test_the_model_refuses_to_change_a_saved_event(event):
    before = rows()
    event.data = {"method": "rewritten"}

    with pytest.raises(PermissionError):
        event.save()

    assert rows() == before


def test_the_model_refuses_to_delete_an_event(event):
    before = rows()

    with pytest.raises(PermissionError):
        event.delete()

    assert rows() == before


def test_a_bulk_update_is_refused_by_the_database(event):
    before = rows()

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(event_type=EventType.USER_SIGNED_OUT)

    assert rows() == before


def test_a_raw_update_is_refused_by_the_database(event):
    before = rows()
    quoted = connection.ops.quote_name(TABLE)

    with pytest.raises(DatabaseError), transaction.atomic():
        raw(f"UPDATE {quoted} SET event_type = %s WHERE id = %s", ["forged", event.pk])  # noqa: S608

    assert rows() == before


@pytest.mark.postgres
def test_on_postgresql_a_raw_or_bulk_delete_is_refused_too(event):
    before = rows()
    quoted = connection.ops.quote_name(TABLE)

    with pytest.raises(DatabaseError), transaction.atomic():
        raw(f"DELETE FROM {quoted} WHERE id = %s", [event.pk])  # noqa: S608
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()

    assert rows() == before


@pytest.mark.parametrize("key", ["passcode", "Password", "token", "secret", "code"])
def test_secrets_never_reach_the_trail(legacy_student, key):
    with pytest.raises(ValueError, match="must not contain secrets"):
        record_event(event_type=EventType.PASSCODE_RESET, subject=legacy_student, data={key: "x"})

    assert rows() == []
