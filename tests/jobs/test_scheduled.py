"""`carryover scheduled`: the daily work, idempotent and audited, with --dry-run; and what
"end temporary seats whose date passed" means for a child's old account."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from carryover import scheduled
from carryover.accounts.models import Account, SeatState, User
from carryover.audit.models import AuditEvent, EventType
from carryover.merging.getrecords import OldDetails, get_records_merge
from carryover.merging.models import Merge
from carryover.merging.services import link_legacy_student
from carryover.planb.services import prepare_upload
from carryover.rostering import services as rostering
from carryover.rostering.models import RosterSync, SyncSource, SyncStatus
from carryover.rostering.services import SYNC_JOB, set_temporary_seats_until
from carryover.uploads.models import StoredBlob, StoredUpload, UploadKind
from carryover.uploads.services import release_upload, store_upload
from tests.conftest import LEGACY_PASSCODE
from tests.jobs.conftest import ago
from tests.jobs.helpers import changed_tables, every_row
from tests.web.helpers import give_history

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("scheduled", *args, stdout=out)
    return out.getvalue()


def go_live(account: Account, *, until: dt.date) -> None:
    account.sso_live_since = timezone.now() - dt.timedelta(days=70)
    account.temporary_seats_until = until
    account.roster_source = "clever"
    account.save()


def temporary(user: User) -> User:
    User.objects.filter(pk=user.pk).update(seat_state=SeatState.TEMPORARY)
    user.refresh_from_db()
    return user


@pytest.fixture
def due(account: Account, legacy_student: User, other_account: Account, tmp_path: Any) -> Any:
    """One thing due for every step: an erased account past its 30 days, an expired
    session, an account whose temporary seats ended yesterday, an upload past its
    retention, and a sync whose worker died."""
    from tests.accounts.factories import LegacyStudentFactory

    go_live(account, until=timezone.localdate() - dt.timedelta(days=1))
    temporary(legacy_student)
    gone = LegacyStudentFactory(account=other_account, username="gone1")
    User.objects.filter(pk=gone.pk).update(
        seat_state=SeatState.ERASED, erased_at=ago(days=31), is_active=False
    )
    expired = SessionStore()
    expired.set_expiry(ago(days=1))
    expired.create()
    live = SessionStore()
    live.create()
    upload = store_upload(
        kind=UploadKind.ROSTER_CSV, content=io.BytesIO(b"z" * 10), filename="a.zip"
    )
    release_upload(upload.pk, now=ago(days=8))
    sync = rostering.start_sync(account=other_account, source=SyncSource.ONEROSTER_CSV)
    SYNC_JOB.claim(sync.pk)
    RosterSync.objects.filter(pk=sync.pk).update(heartbeat_at=ago(hours=2))
    return {"gone": gone, "live_session": live.session_key, "upload": upload, "sync": sync}


def test_the_daily_work_does_every_step_once_and_audits_each(due: Any, account: Account) -> None:
    printed = run()

    assert not User.objects.filter(pk=due["gone"].pk).exists()
    assert list(Session.objects.values_list("session_key", flat=True)) == [due["live_session"]]
    assert StoredUpload.objects.get(pk=due["upload"].pk).purged_at is not None
    assert not StoredBlob.objects.exists()
    assert RosterSync.objects.get(pk=due["sync"].pk).status == SyncStatus.FAILED
    audited = {
        kind: AuditEvent.objects.filter(event_type=kind).count()
        for kind in (
            EventType.LEGACY_PURGED,
            EventType.SESSIONS_CLEARED,
            EventType.TEMPORARY_SEATS_ENDED,
            EventType.UPLOADS_PURGED,
            EventType.JOB_ABANDONED,
        )
    }
    assert set(audited.values()) == {1}
    ended = AuditEvent.objects.get(event_type=EventType.TEMPORARY_SEATS_ENDED)
    assert ended.account == account
    assert ended.data == {
        "until": account.temporary_seats_until.isoformat(),
        "old_accounts_still_temporary": 1,
    }
    assert AuditEvent.objects.get(event_type=EventType.SESSIONS_CLEARED).data == {"sessions": 1}
    assert printed.splitlines()[0] == f"carryover scheduled, {timezone.localdate().isoformat()}"
    said = " ".join(printed.split())
    assert "purge erased accounts 1 erased account deleted for good" in said
    assert "clear expired sessions 1 expired session removed" in said
    assert "end temporary seats account 314159: 1 old account stopped being seats" in said
    assert "delete old uploads 1 uploaded file (0.0 MB) deleted" in said
    assert (
        f"mark stale jobs failed 1 background job marked failed: roster_sync {due['sync'].pk}"
        in said
    )


def test_a_second_run_the_same_day_changes_nothing_and_says_so(due: Any) -> None:
    run()
    before = every_row()

    printed = run()

    assert changed_tables(before) == set()
    assert printed.count("nothing to do") == 5
    assert printed.rstrip().endswith("Nothing to do: every step is done for today.")


def test_a_dry_run_says_what_it_would_do_and_changes_nothing(due: Any) -> None:
    before = every_row()

    printed = run("--dry-run")

    assert changed_tables(before) == set()
    assert "(dry run: nothing is changed)" in printed
    assert "1 erased account would be deleted for good" in printed
    assert "1 expired session would be removed" in printed
    assert "1 old account would stop being seats" in printed
    assert "1 uploaded file (0.0 MB) would be deleted" in printed
    assert "1 background job would be marked failed" in printed


def test_json_output(due: Any) -> None:
    result = json.loads(run("--json"))

    assert result["dry_run"] is False and result["changed"] == 5
    assert [s["step"] for s in result["steps"]] == [
        "purge erased accounts",
        "clear expired sessions",
        "end temporary seats",
        "delete old uploads",
        "mark stale jobs failed",
    ]
    assert all(s["error"] is None and s["changed"] == 1 for s in result["steps"])


def test_a_failing_step_is_reported_and_the_others_still_run(
    due: Any, monkeypatch: Any, capsys: Any
) -> None:
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("sessions table is gone")

    monkeypatch.setattr(
        scheduled,
        "STEPS",
        tuple(broken if s is scheduled.clear_sessions else s for s in scheduled.STEPS),
    )
    err = io.StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("scheduled", stdout=io.StringIO(), stderr=err)

    assert exited.value.code == 1
    assert "broken failed: RuntimeError: sessions table is gone" in err.getvalue()
    assert not User.objects.filter(pk=due["gone"].pk).exists()  # before it
    assert RosterSync.objects.get(pk=due["sync"].pk).status == SyncStatus.FAILED  # after it


# --- temporary seats that end ---------------------------------------------------------------


def _signs_in(user: User) -> bool:
    """Through the product's sign-in form (Django's authenticate() is no door here)."""
    browser = Client()
    response = browser.post(
        "/sign-in/",
        {
            "panel": "student",
            "account_number": user.account.account_number,
            "username": user.username,
            "passcode": LEGACY_PASSCODE,
        },
    )
    return response.status_code == 302 and browser.session.get("_auth_user_id") == str(user.pk)


def test_after_its_date_an_old_temporary_account_stops_signing_in_and_keeps_everything(
    client: Any, account: Account, legacy_student: User, rostered_student: User
) -> None:
    go_live(account, until=timezone.localdate())
    old = temporary(legacy_student)
    give_history(old, passed_through="D")
    records = old.practice_records.count()
    assert _signs_in(old)
    client.force_login(old)
    assert client.get("/me/").status_code == 200

    go_live(account, until=timezone.localdate() - dt.timedelta(days=1))  # the date passed
    run()

    old.refresh_from_db()
    assert not _signs_in(old)
    assert client.get("/me/").status_code == 302  # its open session ended with the seat
    # Nothing is erased or moved by the timer: the records wait for the child.
    assert (old.seat_state, old.is_active, old.erased_at) == (SeatState.TEMPORARY, True, None)
    assert old.practice_records.count() == records
    # Get Records still brings them over.
    merged = get_records_merge(
        student=rostered_student,
        details=OldDetails(username="mayar7", passcode=LEGACY_PASSCODE, account_number="314159"),
        actor=rostered_student,
        on_behalf_of=None,
        ip_address=None,
    )
    assert merged.merge.legacy_id == old.pk and merged.merge.target_id == rostered_student.pk


def test_an_ended_old_account_can_still_be_linked_by_its_teacher_and_matched_by_plan_b(
    account: Account, legacy_student: User, rostered_student: User, teacher: User
) -> None:
    go_live(account, until=timezone.localdate() - dt.timedelta(days=3))
    old = temporary(legacy_student)
    file = (
        "\ufeffReal name,Username,Class,Teacher,Account number,Last practised,Tracks\r\n"
        "Maya Ramirez,mayar7,Room 12,Tess,314159,,\r\n"
    ).encode()

    prepared = prepare_upload(account=account, data=file, filename="f.csv")

    assert [r.row.username for r in prepared.results] == ["mayar7"] and not prepared.skipped
    assert prepared.results[0].student is not None
    outcome = link_legacy_student(legacy=old, target=rostered_student, actor=teacher)
    assert Merge.objects.get() == outcome.merge


def test_moving_the_date_later_gives_the_seats_back_and_a_new_end_is_recorded_again(
    account: Account, legacy_student: User, school_admin: User
) -> None:
    go_live(account, until=timezone.localdate() - dt.timedelta(days=1))
    old = temporary(legacy_student)
    run()
    assert not _signs_in(old)

    set_temporary_seats_until(
        account=account, until=timezone.localdate() + dt.timedelta(days=14), actor=school_admin
    )

    assert _signs_in(old)
    assert "nothing to do" in run().splitlines()[3]
    Account.objects.filter(pk=account.pk).update(
        temporary_seats_until=timezone.localdate() - dt.timedelta(days=2)
    )
    run()
    ended = AuditEvent.objects.filter(event_type=EventType.TEMPORARY_SEATS_ENDED)
    assert ended.count() == 2


def test_the_seats_page_shows_ended_temporary_seats(
    client: Any, account: Account, legacy_student: User, school_admin: User
) -> None:
    go_live(account, until=dt.date(2026, 1, 31))
    temporary(legacy_student)
    client.force_login(school_admin)

    page = client.get("/seats/").content.decode()

    assert "Ended temporary seats" in page
    assert (
        'Temporary seats ended after <strong><time datetime="2026-01-31">Jan 31, 2026</time>'
        in page
    )
    assert "the 1 old account still temporary no longer signs in." in page
    assert "Nothing is erased unless you erase it." in page


def test_before_the_date_the_seats_page_says_when_they_end(
    client: Any, account: Account, legacy_student: User, school_admin: User
) -> None:
    until = timezone.localdate() + dt.timedelta(days=5)
    go_live(account, until=until)
    temporary(legacy_student)
    client.force_login(school_admin)

    page = client.get("/seats/").content.decode()

    assert "Ended temporary seats" not in page
    assert f'they end on <strong><time datetime="{until:%Y-%m-%d}">' in page
