"""The demo's ready-made Plan B file (`var/demo/plan-b-filled-in.csv`): written by
`carryover demo`, exactly the export's columns, names typed the way a teacher types
them, and what the real Plan B upload, review and merge make of it."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rapidfuzz.distance import Levenshtein

from carryover.accounts.models import Account, Role, SeatState, User
from carryover.audit.models import AuditEvent, EventType
from carryover.console.exports import HEADER
from carryover.demo_world import people
from carryover.demo_world.plan_b import TYPED_BY_USERNAME, TYPED_NAMES, TypedName
from carryover.merging.engine import merge_legacy_student
from carryover.merging.models import Merge, MergeMethod
from carryover.namematch.names import fold, related_names
from carryover.planb.jobs.merging import run_merge_job, start_merge
from carryover.planb.models import JobStatus, NameMatchJob
from carryover.planb.review import confirm_all_sure
from carryover.planb.services import upload_logins_file
from tests.cli.test_entry_point import carryover

pytestmark = pytest.mark.django_db

ROSTER = {s.sis_id: s for s in people.ROSTERED_STUDENTS}
HARD = ("left", "mixed_up", "blank")


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


@pytest.fixture
def demo(run, var_dir: Path) -> tuple[str, Path]:
    """`carryover demo --no-server`: what it printed, and the Plan B file."""
    return run("demo", "--no-server"), var_dir / "demo" / "plan-b-filled-in.csv"


def read_rows(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the export's byte-order mark, for Excel
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def exports(kind: str = "demo") -> int:
    return AuditEvent.objects.filter(event_type=EventType.LOGINS_EXPORTED, data__via=kind).count()


def live_legacy_usernames() -> set[str]:
    return set(
        User.objects.filter(
            account__account_number=people.DEMO_ACCOUNT_NUMBER,
            is_legacy=True,
            seat_state__in=(SeatState.ACTIVE, SeatState.TEMPORARY),
        ).values_list("username", flat=True)
    )


# --- the file -------------------------------------------------------------------------


def test_the_demo_writes_the_file_and_says_how_to_try_it(demo, var_dir):
    out, path = demo

    assert path.is_file()
    assert f"  {path}" in out
    assert (
        "1. Sign in as the school admin, grace.holloway@riverside.example / riverside-admin." in out
    )
    assert "2. Open http://127.0.0.1:8000/plan-b/, upload the file, review the rows, merge." in out
    assert f"Or in a terminal: carryover names match {path} --account 424242" in out
    assert exports() == 1


def test_the_file_is_the_export_with_the_names_typed_in(demo, run, tmp_path):
    _, path = demo
    exported = tmp_path / "export.csv"
    run("logins", "export", "--account", "424242", "-o", str(exported))

    filled, plain = read_rows(path), read_rows(exported)

    assert filled[0] == plain[0] == list(HEADER)
    assert len(filled) == len(plain) == 1 + 40
    for ours, theirs in zip(filled[1:], plain[1:], strict=True):
        # Every column but the name is the export's, in the export's order.
        assert ours[1:] == theirs[1:]
        assert theirs[0] == ""
        assert ours[0] == TYPED_BY_USERNAME[ours[1]].typed
    assert {row[1] for row in filled[1:]} == live_legacy_usernames()


def test_the_file_is_written_once_and_again_only_when_missing(demo, run):
    _, path = demo
    first = path.read_bytes()
    path.write_bytes(b"edited by hand")

    run("demo", "--no-server")

    assert path.read_bytes() == b"edited by hand"
    assert exports() == 1
    path.unlink()

    again = run("demo", "--no-server")

    assert path.read_bytes() == first  # deterministic: the same file from the same world
    assert f"  {path}" in again
    assert exports() == 2


def test_old_accounts_merged_meanwhile_are_left_out(demo, run):
    _, path = demo
    maya = User.objects.get(sis_id=people.LEGACY_TO_ROSTERED["mayar7"])
    mayar7 = User.objects.get(username="mayar7")
    merge_legacy_student(legacy=mayar7, target=maya, actor=None, method=MergeMethod.STAFF)
    path.unlink()

    run("demo", "--no-server")

    usernames = [row[1] for row in read_rows(path)[1:]]
    assert len(usernames) == 39
    assert "mayar7" not in usernames
    assert set(usernames) == live_legacy_usernames()


# --- the typed names --------------------------------------------------------------------


def key(text: str) -> str:
    return re.sub(r"[^a-z]", "", fold(text))


def split_typed(typed: str) -> tuple[str, str]:
    """(first, last) as a person reads what was typed."""
    if "," in typed:
        last, _, first = typed.partition(",")
        return first.strip(), last.strip()
    first, _, last = typed.strip().partition(" ")
    return (first, last) if last else ("", first)


def test_every_old_account_has_a_line_and_the_variety_is_there():
    assert [t.username for t in TYPED_NAMES] == [s.username for s in people.LEGACY_STUDENTS]
    kinds = [t.kind for t in TYPED_NAMES]
    for kind in ("last_first", "nickname", "typo", "no_accents", "left", "mixed_up"):
        assert kind in kinds, kind
    assert kinds.count("blank") >= 2
    assert TYPED_BY_USERNAME["bobbyj"].typed == "Bob Johnson"  # Robert
    # Every child of LEGACY_TO_ROSTERED is meant by exactly the rows that say so.
    meant = [t.intended_sis_id for t in TYPED_NAMES if t.intended_sis_id]
    assert len(meant) == len(set(meant))
    assert set(meant) <= set(people.LEGACY_TO_ROSTERED.values())


@pytest.mark.parametrize(
    "typed", [t for t in TYPED_NAMES if t.kind not in HARD], ids=lambda t: t.username
)
def test_each_typed_name_names_its_intended_child(typed: TypedName):
    child = ROSTER[people.LEGACY_TO_ROSTERED[typed.username]]
    first, last = split_typed(typed.typed)
    first_ok = key(first) == key(child.first_name) or key(first) in related_names(
        key(child.first_name)
    )
    last_ok = key(last) == key(child.last_name)
    if typed.kind == "plain":
        assert typed.typed == f"{child.first_name} {child.last_name}"
    elif typed.kind == "last_first":
        assert "," in typed.typed and first_ok and last_ok
    elif typed.kind == "nickname":
        assert key(first) != key(child.first_name) and first_ok and last_ok
    elif typed.kind == "typo":
        distance = Levenshtein.distance(key(first), key(child.first_name)) + Levenshtein.distance(
            key(last), key(child.last_name)
        )
        assert distance == 1
    elif typed.kind == "no_accents":
        assert typed.typed.isascii() and not f"{child.first_name}{child.last_name}".isascii()
        assert first_ok and last_ok
    elif typed.kind == "spelling":  # punctuation or a one-letter variant
        assert last_ok or key(last) == key(child.last_name)
        assert first_ok or Levenshtein.distance(key(first), key(child.first_name)) == 1
    else:
        assert typed.kind == "surname_only"
        assert first == "" and last_ok


def test_the_hard_rows_name_nobody_or_someone_else():
    firsts = {key(s.first_name) for s in people.ROSTERED_STUDENTS}
    for typed in TYPED_NAMES:
        if typed.kind == "left":
            assert typed.username not in people.LEGACY_TO_ROSTERED
            first, _ = split_typed(typed.typed)
            # Nobody on the roster has that first name, nor a nickname of it.
            assert not ({key(first)} | related_names(key(first))) & firsts, typed
        elif typed.kind == "mixed_up":
            assert typed.username not in people.LEGACY_TO_ROSTERED
            [classmate] = [
                t for t in TYPED_NAMES if t.typed == typed.typed and t.username != typed.username
            ]
            assert classmate.intended_sis_id is not None
        elif typed.kind == "blank":
            assert typed.typed == ""


# --- what Plan B makes of it ---------------------------------------------------------------


def expected_decision(typed: TypedName) -> tuple[str, str | None]:
    """(decision, proposed child's SIS id) a person would want."""
    if typed.kind in ("left", "blank"):
        return "none", None
    if typed.kind == "mixed_up":
        return "review", None  # a classmate's name: that classmate's own row fits better
    twice = sum(1 for t in TYPED_NAMES if t.typed == typed.typed) > 1
    if twice:
        return "review", typed.intended_sis_id  # the same name on two rows: a person checks
    return "sure", typed.intended_sis_id


def test_uploading_it_as_the_demo_admin_then_merging_the_sure_rows(demo):
    _, path = demo
    account = Account.objects.get(account_number="424242")
    admin = User.objects.get(email=people.SCHOOL_ADMIN.email, role=Role.SCHOOL_ADMIN)

    job = upload_logins_file(
        account=account, actor=admin, data=path.read_bytes(), filename=path.name
    )

    rows = {r.username: r for r in job.rows.select_related("proposed_student")}
    assert len(rows) == 40
    for username, row in rows.items():
        typed = TYPED_BY_USERNAME[username]
        proposed = row.proposed_student.sis_id if row.proposed_student else None
        assert (row.decision, proposed) == expected_decision(typed), (username, row.reasons)
        assert row.typed_name == typed.typed
    assert job.counts == {"rows": 40, "sure": 32, "review": 2, "none": 6, "skipped": 0}
    # The child who left is never given to Daniel Reyes, the enrolled namesake.
    assert rows["tyler_r"].candidates == []
    # The mixed-up row points at the classmate whose name it carries, for a person to see.
    katherine = User.objects.get(sis_id=people.LEGACY_TO_ROSTERED["katiem"])
    assert [c["student_id"] for c in rows["maxx"].candidates] == [katherine.pk]
    assert rows["maxx"].reasons == ["Katherine Moore fits row 26 (katiem) better"]

    assert confirm_all_sure(job=job, actor=admin) == 32
    start_merge(job=job, actor=admin, enqueue=False)
    job = run_merge_job(job_id=job.pk)

    assert job.status == JobStatus.DONE, job.error
    assert not job.rows.exclude(merge_error="").exists()
    merges = Merge.objects.filter(method=MergeMethod.PLAN_B, undone_at__isnull=True)
    assert merges.count() == 32
    for merge in merges.select_related("legacy", "target"):
        assert merge.target.sis_id == people.LEGACY_TO_ROSTERED[merge.legacy.username]
        assert merge.legacy.seat_state == SeatState.MERGED
    assert live_legacy_usernames() == {u for u, r in rows.items() if r.decision != "sure"}


def test_the_printed_names_match_command_reads_it(demo):
    _, path = demo
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "names", "match", str(path), "--account", "424242", "--json", stdout=out, stderr=err
    )

    rows = json.loads(out.getvalue())
    assert [r["username"] for r in rows] == [r[1] for r in read_rows(path)[1:]]
    for row in rows:
        typed = TYPED_BY_USERNAME[row["username"]]
        proposed = row["student"]["sourced_id"] if row["student"] else None
        assert (row["decision"], proposed) == expected_decision(typed), row["username"]
    assert "40 rows matched against 40 rostered students: 32 sure, 2 to review, 6 without" in (
        err.getvalue()
    )
    assert "Nothing was stored or merged." in err.getvalue()
    assert not NameMatchJob.objects.exists()


def test_a_newcomer_types_the_printed_command_as_it_is(tmp_path):
    """The installed script, in a fresh folder: the file lands in ./var/demo/ and the
    printed command runs there verbatim."""
    demo_run = carryover("demo", "--no-server", cwd=tmp_path)
    assert demo_run.returncode == 0, demo_run.stderr
    command = "carryover names match var/demo/plan-b-filled-in.csv --account 424242"
    assert f"Or in a terminal: {command}\n" in demo_run.stdout
    assert "  var/demo/plan-b-filled-in.csv\n" in demo_run.stdout

    matched = carryover(*command.split()[1:], "--json", cwd=tmp_path)

    assert matched.returncode == 0, matched.stderr
    decisions = Counter(row["decision"] for row in json.loads(matched.stdout))
    assert decisions == {"sure": 32, "review": 2, "none": 6}


def test_the_printed_steps_on_the_pages(demo, client):
    """Step 1 and 2 as printed: the school admin uploads the file on /plan-b/. A teacher
    could not (the file lists every class), which is why the steps name the admin."""
    _, path = demo
    teacher = User.objects.get(email=people.TEACHERS[0].email)
    client.force_login(teacher)

    refused = client.post(
        "/plan-b/upload/", {"file": SimpleUploadedFile(path.name, path.read_bytes())}
    )

    assert refused.status_code == 400
    assert "in another teacher&#x27;s class" in refused.content.decode()
    assert not NameMatchJob.objects.exists()

    client.force_login(User.objects.get(email=people.SCHOOL_ADMIN.email))
    assert client.get("/plan-b/").status_code == 200

    uploaded = client.post(
        "/plan-b/upload/",
        {"file": SimpleUploadedFile(path.name, path.read_bytes())},
        follow=True,
    )

    job = NameMatchJob.objects.get()
    assert uploaded.redirect_chain == [(f"/plan-b/jobs/{job.pk}/", 302)]
    page = uploaded.content.decode()
    assert "Matched 40 old accounts: 32 sure, 2 to review, 6 without a match." in page
    assert "no name typed" in page
    assert "Katherine Moore fits row 26 (katiem) better" in page
