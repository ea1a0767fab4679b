"""`carryover legacy erase|purge` and `carryover logins export`."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from openpyxl import load_workbook

from carryover.accounts.models import SeatState, User
from carryover.audit.models import AuditEvent, EventType
from carryover.console.models import Erasure
from tests.console.test_erase import state

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- legacy erase ------------------------------------------------------------------------


def test_erase_without_commit_is_a_dry_run(campaign):
    before = state()

    out = run("legacy", "erase", "--account", "314159")

    assert "Dry run: would erase 4 accounts" in out
    for name in ["ava.k", "ben22", "cleo", "dev.o"]:
        assert name in out
    assert "mayar7" not in out
    assert state() == before


def test_erase_with_commit_erases_the_default_set_with_audit_rows(campaign):
    out = run("legacy", "erase", "--account", "314159", "--all-temporary", "--commit")

    assert "Erased 4 accounts" in out
    assert User.objects.filter(seat_state=SeatState.ERASED).count() == 4
    events = AuditEvent.objects.filter(event_type=EventType.LEGACY_ERASED)
    assert events.count() == 4
    assert {e.actor_id for e in events} == {None}
    assert {e.data["via"] for e in events} == {"cli"}


def test_erase_named_usernames_reports_those_it_cannot_erase(campaign):
    out = run("legacy", "erase", "--account", "314159", "--usernames", "cleo,mayar7", "--commit")

    assert "not erasable" in out and "mayar7" in out
    assert list(User.objects.filter(seat_state=SeatState.ERASED).values_list("username")) == [
        ("cleo",)
    ]


def test_erase_of_an_unknown_account_is_an_error(campaign):
    before = state()

    with pytest.raises(CommandError, match="There is no account 999999"):
        run("legacy", "erase", "--account", "999999", "--commit")

    assert state() == before


# --- legacy purge ------------------------------------------------------------------------


def test_purge_dry_run_then_commit(campaign, school_admin):
    run("legacy", "erase", "--account", "314159", "--usernames", "ava.k,cleo", "--commit")
    Erasure.objects.update(erased_at=timezone.now() - dt.timedelta(days=31))
    User.objects.filter(seat_state=SeatState.ERASED).update(
        erased_at=timezone.now() - dt.timedelta(days=31)
    )
    before = state()

    dry = run("legacy", "purge")

    assert "Dry run: would delete 2 accounts" in dry
    assert state() == before

    done = run("legacy", "purge", "--commit")

    assert "Deleted for good: 2 accounts" in done
    assert not User.objects.filter(username__in=["ava.k", "cleo"]).exists()
    assert AuditEvent.objects.filter(event_type=EventType.LEGACY_PURGED).count() == 2
    assert "Deleted for good: 0 accounts" in run("legacy", "purge", "--commit")


def test_the_import_action_still_works(tmp_path: Path, campaign):
    file = tmp_path / "kids.csv"
    file.write_text("username,passcode,class,teacher_email\nzoe9,7777,Room 12,\n")

    out = run("legacy", "import", str(file), "--account", "314159")

    assert "Imported 1 legacy students" in out


# --- logins export -----------------------------------------------------------------------


def test_logins_export_writes_the_same_csv_as_the_page(campaign, tmp_path: Path, client, teacher):
    target = tmp_path / "logins.csv"

    out = run("logins", "export", "--account", "314159", "--class", "room 12", "-o", str(target))

    assert "Wrote 3 old accounts of class Room 12" in out
    data = target.read_bytes()
    client.force_login(teacher)
    page = client.get(f"/classes/{campaign.section.pk}/logins/export/", {"format": "csv"})
    assert data == b"".join(page.streaming_content)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ["ava.k", "ben22", "cleo"]
    assert not list(tmp_path.glob(".*.part"))
    event = AuditEvent.objects.filter(event_type=EventType.LOGINS_EXPORTED).first()
    assert event is not None and event.data["via"] in {"cli", "page"}


def test_logins_export_as_xlsx_for_the_whole_account(campaign, tmp_path: Path):
    target = tmp_path / "all.xlsx"

    out = run("logins", "export", "--account", "314159", "-o", str(target))

    assert "Wrote 4 old accounts of account 314159" in out and "(xlsx)" in out
    sheet = load_workbook(target).active
    assert sheet is not None
    assert [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        "ava.k",
        "ben22",
        "cleo",
        "dev.o",
    ]


def test_logins_export_of_an_unknown_class_writes_nothing(campaign, tmp_path: Path):
    target = tmp_path / "x.csv"

    with pytest.raises(CommandError, match="has no class 'Room 99'"):
        run("logins", "export", "--account", "314159", "--class", "Room 99", "-o", str(target))

    assert not target.exists()
    assert not AuditEvent.objects.filter(event_type=EventType.LOGINS_EXPORTED).exists()
