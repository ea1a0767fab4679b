"""`carryover roster ...` from the terminal: JSON line, exit codes, dry run, progress bar."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from carryover.accounts.models import Account, User
from carryover.audit.models import AuditEvent, EventType
from carryover.rostering.models import RosterConnection, RosterSync, SyncStatus
from tests.rostering.builders import district, without_people, write_oneroster


def roster(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("roster", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_import_prints_one_json_line_and_applies(account: Account, tmp_path: Path) -> None:
    folder = write_oneroster(tmp_path / "r", district(students=4, teachers=1, sections=1))

    code, out, _ = roster("import", str(folder), "--account", "314159", "--json")

    assert code == 0
    result = last_json(out)
    assert result["status"] == "applied"
    assert result["created"] == {"schools": 1, "people": 5, "sections": 1, "enrollments": 5}
    assert result["errors"] == []
    assert result["went_live"] is True
    assert User.objects.filter(account=account, is_legacy=False).count() == 5


def test_dry_run_prints_counts_and_writes_nothing(account: Account, tmp_path: Path) -> None:
    folder = write_oneroster(tmp_path / "r", district(students=4, teachers=1, sections=1))

    code, out, err = roster("import", str(folder), "--account", "314159", "--dry-run")

    assert code == 0
    assert "Dry run" in out
    assert out.splitlines()[2].split() == ["created", "1", "5", "1", "5"]
    assert "100%" in err  # the progress bar
    assert not User.objects.filter(account=account, is_legacy=False).exists()
    account.refresh_from_db()
    assert account.sso_live_since is None


def test_held_import_exits_non_zero_and_confirm_applies(account: Account, tmp_path: Path) -> None:
    full = district(students=10, teachers=1, sections=1)
    roster("import", str(write_oneroster(tmp_path / "a", full)), "--account", "314159")
    smaller = write_oneroster(tmp_path / "b", without_people(full, {"s-1", "s-2", "s-3"}))

    code, out, _ = roster("import", str(smaller), "--account", "314159", "--json")

    assert code == 1
    held = last_json(out)
    assert held["status"] == "held"
    assert held["archived"]["people"] == 3
    assert "archive 3 of 11 people" in held["guard"]
    assert User.objects.filter(account=account, archived_at__isnull=False).count() == 0

    code, out, _ = roster("confirm", str(held["sync"]), "--json")

    assert code == 0
    assert last_json(out)["status"] == "applied"
    assert User.objects.filter(account=account, archived_at__isnull=False).count() == 3
    assert AuditEvent.objects.filter(event_type=EventType.ROSTER_SYNC_CONFIRMED).count() == 1


def test_confirm_flag_waives_the_guard(account: Account, tmp_path: Path) -> None:
    full = district(students=10, teachers=1, sections=1)
    roster("import", str(write_oneroster(tmp_path / "a", full)), "--account", "314159")
    smaller = write_oneroster(tmp_path / "b", without_people(full, {"s-1", "s-2", "s-3"}))

    code, out, _ = roster("import", str(smaller), "--account", "314159", "--confirm", "--json")

    assert code == 0
    assert last_json(out)["archived"]["people"] == 3


def test_a_broken_package_fails_with_its_problems_and_changes_nothing(
    account: Account, tmp_path: Path, legacy_student: User
) -> None:
    folder = write_oneroster(tmp_path / "r", district(students=3, teachers=1, sections=1))
    (folder / "enrollments.csv").write_text(
        (folder / "enrollments.csv").read_text().replace("s-2", "s-99"), encoding="utf-8"
    )
    users_before = sorted(User.objects.values_list("id", "seat_state", "is_active"))

    code, out, _ = roster("import", str(folder), "--account", "314159", "--json")

    assert code == 1
    result = last_json(out)
    assert result["status"] == "failed"
    assert result["errors"] == [
        "enrollments.csv line 5: unknown user 's-99': not in this roster nor in the account"
    ]
    assert sorted(User.objects.values_list("id", "seat_state", "is_active")) == users_before
    account.refresh_from_db()
    assert account.sso_live_since is None
    assert RosterSync.objects.get(pk=result["sync"]).status == SyncStatus.FAILED


def test_unknown_account_is_refused(db: None, tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no account 999999"):
        roster("import", str(tmp_path), "--account", "999999")


def test_sync_without_a_connection_fails_in_json(account: Account) -> None:
    code, out, _ = roster("sync", "--account", "314159", "--json")

    assert code == 1
    assert last_json(out)["status"] == "failed"
    assert "not connected" in last_json(out)["errors"][0]


def test_connect_stores_the_connection_without_echoing_the_secret(account: Account) -> None:
    code, out, _ = roster(
        "connect",
        "--account",
        "314159",
        "--provider",
        "classlink",
        "--base-url",
        "https://roster.example/",
        "--key",
        "k1",
        "--secret",
        "s3cret-value-9",
    )

    assert code == 0
    assert "s3cret" not in out
    connection = RosterConnection.objects.get(account=account)
    assert (connection.base_url, connection.client_key) == ("https://roster.example", "k1")
    event = AuditEvent.objects.get(event_type=EventType.ROSTER_CONNECTED)
    assert "s3cret-value-9" not in json.dumps(event.data)


def test_connect_reads_a_secret_given_as_dash_from_standard_input(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("tok-from-stdin-77\n"))

    code, out, _ = roster("connect", "--account", "314159", "--provider", "clever", "--token", "-")

    assert code == 0
    assert "tok-from-stdin-77" not in out
    assert RosterConnection.objects.get(account=account).secret == "tok-from-stdin-77"


def test_connect_with_dash_and_nothing_on_standard_input_stores_nothing(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no secret on standard input"):
        roster("connect", "--account", "314159", "--provider", "clever", "--token", "-")

    assert not RosterConnection.objects.filter(account=account).exists()
