"""`carryover demo [--no-server] [--no-worker] [--reset] [--port 8000]`: the product on a
fresh machine.

Creates ./var/ (settings do: the SQLite file and a generated secret key, unless
DATABASE_URL says otherwise), migrates, loads the demo world once, writes a filled-in
Plan B file (var/demo/plan-b-filled-in.csv, when the world is loaded or the file is
missing), prints how to sign in as each persona and how to try Plan B, and runs the
development server on 127.0.0.1 with the background worker (`db_worker`: roster syncs
and Plan B merges started from the pages) beside it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from carryover.accounts.models import Account, EnrollmentRole, Section
from carryover.demo_world import DemoWorldError, get_demo_account, load_demo_world, people
from carryover.demo_world.plan_b import filled_in_path, write_filled_in_logins


def demo_sqlite_file() -> Path | None:
    """The demo's own SQLite file under ./var/, or None when DATABASE_URL points elsewhere."""
    database = connections["default"].settings_dict
    own = Path(settings.VAR_DIR) / "carryover.sqlite3"
    if database["ENGINE"].endswith("sqlite3") and Path(str(database["NAME"])) == own:
        return own
    return None


class Command(BaseCommand):
    help = "Set up the demo (migrate, load the demo world) and run it on 127.0.0.1."
    requires_system_checks: list[str] = []  # runserver and migrate run their own checks

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-server", action="store_true", help="Set up and print the sign-ins, then stop."
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Start again from an empty demo database (only the demo's own SQLite file).",
        )
        parser.add_argument("--port", type=int, default=8000, help="Port (default 8000).")
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the background worker (roster syncs and Plan B merges "
            "started from the pages then wait for `carryover db_worker`).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port = options["port"]
        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535, not {port}.")
        if options["reset"]:
            self._reset()
        self.stdout.write(f"Database: {self._where()}")
        self.stdout.write("Bringing the database schema up to date (migrate) ...")
        call_command("migrate", interactive=False, verbosity=0)
        try:
            account = get_demo_account()
            loaded = account is None
            if account is None:
                self.stdout.write("Loading the demo world (hashing the demo passcodes) ...")
                account = load_demo_world()
                self.stdout.write(self.style.SUCCESS("Demo world loaded."))
            else:
                self.stdout.write("The demo world is already loaded (use --reset to start over).")
        except DemoWorldError as exc:
            raise CommandError(str(exc)) from exc
        plan_b_file = filled_in_path()
        if loaded or not plan_b_file.exists():
            write_filled_in_logins(account, path=plan_b_file)
        self.stdout.write(self._sign_in_table(account, port))
        self.stdout.write(self._plan_b_steps(account, port, plan_b_file))
        if options["no_server"]:
            return
        worker = None if options["no_worker"] else self._start_worker()
        # Stopped with SIGTERM (not Ctrl-C), still stop the worker on the way out.
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            signal.signal(signal.SIGTERM, previous)
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()

    def _start_worker(self) -> subprocess.Popen[bytes]:
        """The background worker (roster syncs, Plan B merges, purges) beside the server,
        in its own process with the same settings and database; stopped with the server."""
        self.stdout.write("Starting the background worker (carryover db_worker) ...")
        return subprocess.Popen(
            [sys.executable, "-m", "carryover.cli", "db_worker", "--no-reload", "--interval", "1"],
            env=dict(os.environ),  # the same settings module and DATABASE_URL as this process
        )

    def _where(self) -> str:
        own = demo_sqlite_file()
        if own is not None:
            return f"{own} (SQLite)"
        database = connections["default"].settings_dict
        return f"{database['ENGINE'].rsplit('.', 1)[-1]} {database.get('NAME')}"

    def _reset(self) -> None:
        own = demo_sqlite_file()
        if own is None:
            raise CommandError(
                "--reset only starts over the demo's own SQLite file under ./var/; this "
                "database comes from DATABASE_URL. Drop and create that database yourself, "
                "or unset DATABASE_URL. Nothing was changed."
            )
        connections.close_all()
        for path in (own, own.with_name(own.name + "-wal"), own.with_name(own.name + "-shm")):
            path.unlink(missing_ok=True)
        self.stdout.write(f"Removed {own}; starting again.")

    def _sign_in_table(self, account: Account, port: int) -> str:
        base = f"http://127.0.0.1:{port}"
        classes = {c.key: c for c in people.CLASSES}
        teacher_classes: dict[str, list[str]] = {}
        for section in Section.objects.filter(account=account).prefetch_related(
            "enrollments__user"
        ):
            for enrollment in section.enrollments.all():
                if enrollment.role == EnrollmentRole.TEACHER and enrollment.user.email:
                    teacher_classes.setdefault(enrollment.user.email, []).append(section.name)
        passcodes = {s.username: s for s in people.LEGACY_STUDENTS}

        live = (
            f", live with Clever since {account.sso_live_since:%Y-%m-%d}"
            if account.sso_live_since
            else ""
        )
        lines = [
            "",
            f"Sign in at {base}/sign-in/",
            f"Demo account: {account.account_number}  {account.name}"
            f"  ({account.seats_purchased} seats{live})",
            "",
            "Legacy students (account number + username + passcode; "
            f"{len(people.LEGACY_STUDENTS)} in all, see carryover/demo_world/people.py):",
        ]
        rows: list[tuple[str, ...]] = [("account", "username", "passcode", "class", "school")]
        for username in people.FEATURED_LEGACY:
            student = passcodes[username]
            demo_class = classes[student.class_key]
            rows.append(
                (
                    account.account_number,
                    username,
                    student.passcode,
                    demo_class.name,
                    demo_class.school,
                )
            )
        lines += _table(rows)
        lines += ["", "Teachers and the school admin (email + password):"]
        rows = [("email", "password", "role", "classes")]
        for teacher in people.TEACHERS:
            rows.append(
                (
                    teacher.email,
                    people.TEACHER_PASSWORD,
                    "teacher",
                    ", ".join(teacher_classes.get(teacher.email, [])),
                )
            )
        rows.append((people.SCHOOL_ADMIN.email, people.ADMIN_PASSWORD, "school admin", "(all)"))
        lines += _table(rows)
        lines += [
            "",
            "Support staff (the Support role; the Django admin is for developers: "
            "carryover support add EMAIL --superuser):",
            *_table([("email", "password"), (people.SUPPORT_EMAIL, people.SUPPORT_PASSWORD)]),
            "",
            "Rostered students (Maya Ramirez, ...) sign in through Clever; which old username "
            "belongs to which of them is LEGACY_TO_ROSTERED in carryover/demo_world/people.py.",
            f"  Clever (local sandbox):    {base}/sso/clever/login  (pick a person, Sign in)",
            f"  ClassLink (local sandbox): {base}/sso/classlink/login",
            "  Then: Get my old records, with e.g. mayar7 / 1234 / 424242 as Maya Ramirez.",
            "",
        ]
        return "\n".join(lines)

    def _plan_b_steps(self, account: Account, port: int, path: Path) -> str:
        try:
            shown = path.relative_to(Path.cwd())
        except ValueError:
            shown = path
        return "\n".join(
            [
                "",
                "Plan B, with a ready logins file (names typed as a teacher would, a few hard on "
                "purpose):",
                f"  {shown}",
                f"  1. Sign in as the school admin, {people.SCHOOL_ADMIN.email} / "
                f"{people.ADMIN_PASSWORD}.",
                f"  2. Open http://127.0.0.1:{port}/plan-b/, upload the file, review the rows, "
                "merge.",
                f"  Or in a terminal: carryover names match {shown} --account "
                f"{account.account_number}",
                "",
            ]
        )


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
