"""`carryover names match FILE --account NNNNNN [--json] [--merge-sure [--commit]]`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from carryover.audit.models import AuditEvent, EventType
from carryover.merging.models import Merge, MergeMethod
from carryover.planb.models import JobStatus, NameMatchJob, ReviewState
from tests.cli.test_entry_point import carryover

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("names", "match", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def state() -> tuple[int, int, int]:
    return NameMatchJob.objects.count(), Merge.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def filled(world, tmp_path: Path) -> Path:
    path = tmp_path / "room12.csv"
    path.write_bytes(world.file())
    return path


def test_json_prints_one_array_with_a_decision_per_row_and_stores_nothing(world, filled):
    before = state()

    out, err = run(str(filled), "--account", "314159", "--json")

    rows = json.loads(out)
    assert [r["username"] for r in rows] == ["mayar7", "liam.w", "sam2", "zed"]
    assert [r["decision"] for r in rows] == ["sure", "sure", "review", "none"]
    maya = world.rostered["maya"]
    assert rows[0]["typed_name"] == "Maya Ramirez"
    assert rows[0]["student"] == {"id": maya.pk, "sourced_id": maya.sis_id, "name": "Maya Ramirez"}
    assert rows[0]["probability"] >= 0.999  # sure: a calibrated 99.9% at least
    assert 0.99 < rows[0]["score"] <= 1.0  # the raw score beside it
    assert rows[0]["candidates"][0]["id"] == maya.pk
    assert rows[0]["candidates"][0]["probability"] == rows[0]["probability"]
    assert rows[2]["probability"] == rows[2]["candidates"][0]["probability"] < 0.999
    assert "same name Maya Ramirez" in rows[0]["candidates"][0]["reasons"]
    assert {c["id"] for c in rows[2]["candidates"]} == {
        world.rostered["sam_a"].pk,
        world.rostered["sam_b"].pk,
    }
    assert rows[3]["student"] is None and rows[3]["candidates"] == []
    assert "merge" not in rows[0]
    assert "2 sure, 1 to review, 1 without a match" in err
    assert "Nothing was stored or merged." in err
    assert state() == before


def test_the_text_output_lists_each_row(world, filled):
    out, _ = run(str(filled), "--account", "314159")

    assert "mayar7" in out and "Maya Ramirez" in out and "sure" in out
    assert "Nothing was stored or merged." in out
    lines = {line.split()[2]: line for line in out.splitlines() if line.startswith("row ")}
    assert " sure " in lines["mayar7"] and "%  Maya Ramirez (" in lines["mayar7"]
    # The child who left: no student proposed, so no probability either.
    assert lines["zed"].endswith(" none" + " " * 10 + "-  -")


def test_merge_sure_without_commit_is_a_dry_run(world, filled):
    before = state()

    out, err = run(str(filled), "--account", "314159", "--json", "--merge-sure")

    rows = json.loads(out)
    assert [r["merge"] for r in rows] == [{"dry_run": True}, {"dry_run": True}, None, None]
    assert "Dry run: would merge 2 sure rows. Nothing was stored or merged" in err
    assert state() == before

    text, _ = run(str(filled), "--account", "314159", "--merge-sure")
    assert text.count("[would merge]") == 2
    assert state() == before


def test_merge_sure_with_commit_merges_the_sure_rows_as_plan_b_merges(world, filled):
    out, err = run(str(filled), "--account", "314159", "--json", "--merge-sure", "--commit")

    rows = json.loads(out)
    merges = {m.legacy.username: m for m in Merge.objects.select_related("legacy", "target")}
    assert set(merges) == {"mayar7", "liam.w"}
    assert {m.method for m in merges.values()} == {MergeMethod.PLAN_B}
    assert {m.actor for m in merges.values()} == {None}
    assert merges["mayar7"].target == world.rostered["maya"]
    assert rows[0]["merge"] == {"merge_id": merges["mayar7"].pk}
    assert rows[2]["merge"] is None
    job = NameMatchJob.objects.get()
    assert job.status == JobStatus.DONE and job.uploaded_by is None
    assert job.rows.get(username="sam2").review_state == ReviewState.PENDING
    assert f"Merged 2 sure rows (job {job.pk})" in err
    upload = AuditEvent.objects.get(event_type=EventType.NAME_MATCH_UPLOADED)
    assert upload.data["via"] == "cli"
    assert AuditEvent.objects.filter(event_type=EventType.MERGE_CREATED).count() == 2


def test_a_bad_file_is_a_clear_error_that_changes_nothing(world, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(world.file(usernames=["mayar7", "nobody9"]))
    before = state()

    with pytest.raises(CommandError, match=r"bad\.csv: Row 3: there is no old account nobody9"):
        run(str(bad), "--account", "314159", "--merge-sure", "--commit")

    assert state() == before


def test_a_missing_file_and_an_unknown_account_are_errors(world, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "nope.csv"), "--account", "314159")
    with pytest.raises(CommandError, match="There is no account 999999"):
        run(str(tmp_path / "nope.csv"), "--account", "999999")
    with pytest.raises(CommandError, match="--commit only goes with --merge-sure"):
        run(str(tmp_path / "nope.csv"), "--account", "314159", "--commit")


def test_the_console_script_exits_non_zero_with_the_reason_on_stderr(tmp_path):
    database = tmp_path / "ops.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{database}", "CARRYOVER_VAR_DIR": str(tmp_path / "var")}
    assert carryover("migrate", "-v", "0", cwd=tmp_path, **env).returncode == 0
    created = carryover(
        "account", "create", "--number", "123456", "--name", "Pine", cwd=tmp_path, **env
    )
    assert created.returncode == 0, created.stderr
    bad = tmp_path / "typed.csv"
    bad.write_text("Name,Class\nMaya Ramirez,Room 12\n", encoding="utf-8")

    result = carryover(
        "names", "match", str(bad), "--account", "123456", "--json", cwd=tmp_path, **env
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert "typed.csv: No 'Username' column" in result.stderr
