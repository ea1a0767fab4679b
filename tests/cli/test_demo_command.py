"""`carryover demo` and the demo world it loads."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management.base import CommandError
from django.db.models import Count, Max, Min

from carryover.accounts.backends import verify_legacy_credentials, verify_staff_password
from carryover.accounts.management.commands import demo as demo_command
from carryover.accounts.models import (
    Account,
    Enrollment,
    EnrollmentRole,
    ExternalIdentity,
    Role,
    RosterSource,
    School,
    SeatState,
    Section,
    User,
)
from carryover.audit.models import AuditEvent
from carryover.demo_world import people
from carryover.progress.models import Award, PracticeRecord, TrackProgress
from tests.accounts.factories import AccountFactory
from tests.cli.helpers import assert_progress_matches_history

pytestmark = pytest.mark.django_db

TABLES = (
    Account,
    School,
    Section,
    User,
    Enrollment,
    ExternalIdentity,
    PracticeRecord,
    Award,
    TrackProgress,
    AuditEvent,
)


@pytest.fixture(autouse=True)
def demo_var_dir(settings, tmp_path):
    # The demo writes its Plan B file under VAR_DIR: keep it out of the checkout's ./var/.
    settings.VAR_DIR = tmp_path / "var"


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TABLES}


def test_demo_twice_loads_the_world_once(run):
    first = run("demo", "--no-server")
    after_first = counts()
    second = run("demo", "--no-server")

    assert counts() == after_first
    assert after_first["Account"] == 1
    assert after_first["User"] == 3 + 1 + 1 + 40 + 40
    assert "Demo world loaded." in first
    assert "already loaded" in second
    for out in (first, second):
        assert "Sign in at http://127.0.0.1:8000/sign-in/" in out
        assert "424242   mayar7     1234      Room 12  Riverside Elementary" in out
        assert "priya.patel@riverside.example     riverside-teacher  teacher       Room 12" in out
        assert "grace.holloway@riverside.example  riverside-admin    school admin" in out
        assert "support@carryover.example  carryover-support" in out
        assert "carryover support add EMAIL --superuser" in out


def test_every_printed_persona_can_sign_in(run):
    run("demo", "--no-server")

    for username in people.FEATURED_LEGACY:
        passcode = next(s.passcode for s in people.LEGACY_STUDENTS if s.username == username)
        user = verify_legacy_credentials("424242", username, passcode)
        assert user is not None, username
        assert user.username == username
        assert verify_legacy_credentials("424242", username, "nope") is None
    for email, password in [
        *((t.email, people.TEACHER_PASSWORD) for t in people.TEACHERS),
        (people.SCHOOL_ADMIN.email, people.ADMIN_PASSWORD),
        (people.SUPPORT_EMAIL, people.SUPPORT_PASSWORD),
    ]:
        user = verify_staff_password(email, password)
        assert user is not None, email
    support = User.objects.get(email=people.SUPPORT_EMAIL)
    assert (support.role, support.is_staff, support.is_superuser) == (Role.SUPPORT, True, False)
    assert list(support.groups.values_list("name", flat=True)) == ["Support"]


def test_the_demo_world_is_a_district_after_clever_go_live(run):
    run("demo", "--no-server")

    account = Account.objects.get(account_number="424242")
    assert (account.name, account.seats_purchased) == ("Riverside Unified (demo)", 60)
    assert account.roster_source == RosterSource.CLEVER
    assert account.sso_live_since is not None
    assert sorted(account.schools.values_list("name", flat=True)) == [
        "Hilltop Elementary",
        "Riverside Elementary",
    ]
    assert Section.objects.filter(account=account).count() == 4
    teachers = User.objects.filter(account=account, role=Role.TEACHER)
    assert teachers.count() == 3
    assert all(t.has_usable_password() for t in teachers)
    assert User.objects.filter(account=account, role=Role.SCHOOL_ADMIN).count() == 1

    legacy = User.objects.filter(account=account, is_legacy=True)
    assert legacy.count() == 40
    assert set(legacy.values_list("seat_state", flat=True)) == {SeatState.TEMPORARY}
    rostered = User.objects.filter(account=account, role=Role.STUDENT, is_legacy=False)
    assert rostered.count() == 40
    assert all(u.first_name and u.last_name and u.grade and u.sis_id for u in rostered)
    assert (
        ExternalIdentity.objects.filter(
            user__in=rostered, provider="clever", tenant=people.DEMO_CLEVER_DISTRICT
        ).count()
        == 40
    )
    for section in Section.objects.filter(account=account):
        members = Enrollment.objects.filter(section=section)
        assert members.filter(role=EnrollmentRole.TEACHER).count() == 1
        assert members.filter(role=EnrollmentRole.STUDENT, user__is_legacy=True).count() == 10
        assert members.filter(role=EnrollmentRole.STUDENT, user__is_legacy=False).count() == 10


def test_the_intended_pairs_point_at_real_children_of_the_same_class(run):
    run("demo", "--no-server")

    for username, sis_id in people.LEGACY_TO_ROSTERED.items():
        old = User.objects.get(account__account_number="424242", username=username)
        new = User.objects.get(account__account_number="424242", sis_id=sis_id)
        assert old.sections.get() == new.sections.get(), username
    assert len(set(people.LEGACY_TO_ROSTERED.values())) == len(people.LEGACY_TO_ROSTERED)
    maya = User.objects.get(sis_id=people.LEGACY_TO_ROSTERED["mayar7"])
    assert (maya.first_name, maya.last_name) == ("Maya", "Ramirez")


def test_legacy_students_have_months_of_consistent_history(run):
    run("demo", "--no-server")
    account = Account.objects.get(account_number="424242")
    go_live = account.sso_live_since
    assert go_live is not None

    legacy = User.objects.filter(account=account, is_legacy=True)
    spans = (
        PracticeRecord.objects.filter(student__in=legacy)
        .values("student_id")
        .annotate(
            first=Min("recorded_at"), last=Max("recorded_at"), tracks=Count("track", distinct=True)
        )
    )
    assert len(spans) == 40
    for span in spans:
        months = (span["last"] - span["first"]) / dt.timedelta(days=30)
        assert 2.5 <= months <= 9, months
        assert 1 <= span["tracks"] <= 3
        assert span["last"] < go_live
    ids = list(User.objects.filter(account=account, role=Role.STUDENT).values_list("pk", flat=True))
    assert assert_progress_matches_history(ids) >= 40
    assert Award.objects.filter(student__in=legacy, kind=Award.Kind.LEVEL_STAR).count() > 100
    started_again = TrackProgress.objects.filter(student__sis_id__in=people.STARTED_AGAIN)
    assert started_again.count() == len(people.STARTED_AGAIN)
    assert all(p.started_at >= go_live for p in started_again)


def test_demo_runs_the_development_server_on_localhost_without_the_reloader(run, monkeypatch):
    calls = []
    real = demo_command.call_command

    def fake(name, *args, **kwargs):
        if name == "runserver":
            calls.append((args, kwargs))
            return None
        return real(name, *args, **kwargs)

    monkeypatch.setattr(demo_command, "call_command", fake)
    workers = _fake_workers(monkeypatch)

    out = run("demo", "--port", "8123")

    assert calls == [(("127.0.0.1:8123",), {"use_reloader": False})]
    assert "Sign in at http://127.0.0.1:8123/sign-in/" in out
    # The background worker ran beside the server, and stopped with it.
    [worker] = workers
    assert worker.args[1:4] == ["-m", "carryover.cli", "db_worker"]
    assert worker.env["DJANGO_SETTINGS_MODULE"] == "tests.settings"
    assert worker.terminated


class _FakeWorker:
    def __init__(self, args, env):
        self.args, self.env, self.terminated = args, env, False

    def terminate(self):
        self.terminated = True

    def wait(self, timeout=None):
        return 0

    def kill(self):  # pragma: no cover - only when terminate is not enough
        raise AssertionError("terminate was enough")


def _fake_workers(monkeypatch):
    started = []

    def popen(args, env):
        started.append(_FakeWorker(args, env))
        return started[-1]

    monkeypatch.setattr(demo_command.subprocess, "Popen", popen)
    return started


def test_demo_without_a_worker_starts_none_and_the_server_still_runs(run, monkeypatch):
    served = []
    real = demo_command.call_command
    monkeypatch.setattr(
        demo_command,
        "call_command",
        lambda name, *a, **k: served.append(name) if name == "runserver" else real(name, *a, **k),
    )
    workers = _fake_workers(monkeypatch)

    run("demo", "--no-worker")

    assert served == ["runserver"]
    assert workers == []


def test_reset_outside_the_demo_sqlite_file_is_refused_and_changes_nothing(run):
    run("demo", "--no-server")
    before = counts()

    with pytest.raises(CommandError, match="--reset only starts over the demo's own SQLite"):
        run("demo", "--no-server", "--reset")

    assert counts() == before


def test_a_foreign_account_424242_is_not_taken_for_the_demo(run):
    AccountFactory(account_number="424242", name="A real customer")

    with pytest.raises(CommandError, match="424242 already exists and is not the demo world"):
        run("demo", "--no-server")

    assert not User.objects.exists()


def test_a_bad_port_is_refused(run, db):
    with pytest.raises(CommandError, match="--port must be between 1 and 65535"):
        run("demo", "--no-server", "--port", "70000")
