"""`carryover legacy import FILE --account NNNNNN [--school NAME]`, and the console's
`carryover legacy erase --account NNNNNN [--all-temporary|--usernames a,b] [--commit]`
and `carryover legacy purge [--account NNNNNN] [--commit]`.

Creates hand-made (legacy) student accounts from a CSV with the columns
`username,passcode,class,teacher_email`, or `passcode_hash` instead of `passcode` for
accounts moved from another system with their hashes (see `carryover.accounts.legacy_csv` for the
accepted shapes and encodings). Unknown classes and teachers are created. All or
nothing: one bad line refuses the whole file, and every bad line is listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from carryover.accounts.errors import AccountsError, ImportFileError
from carryover.accounts.legacy_csv import LegacyCsvError, parse_legacy_csv
from carryover.accounts.management.base import get_account_by_number, get_school_by_name
from carryover.accounts.models import Role, Section, User
from carryover.accounts.services import LegacyStudentInput, create_legacy_students
from carryover.console.cli import LEGACY_ACTIONS, add_legacy_subcommands, run_legacy_action

MAX_FILE_BYTES = 20 * 1024 * 1024


class Command(BaseCommand):
    help = "Import legacy (hand-made) student accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        imp = actions.add_parser(
            "import",
            help="Create legacy students from a CSV: username,passcode,class,teacher_email "
            "(or passcode_hash instead of passcode).",
        )
        imp.add_argument("file", metavar="FILE", help="The CSV file (UTF-8).")
        imp.add_argument("--account", required=True, help="The six-digit account number.")
        imp.add_argument(
            "--school",
            help="The school new classes belong to (needed when the account has several).",
        )
        # `erase` and `purge` belong to the school console (carryover.console.cli).
        add_legacy_subcommands(actions)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] in LEGACY_ACTIONS:
            run_legacy_action(self, options)
            return
        self._import(options)

    def _import(self, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        account = get_account_by_number(options["account"])
        school = get_school_by_name(account, options["school"]) if options["school"] else None
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise CommandError(f"{path} is larger than 20 MB; split it into several files.")
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc

        try:
            parsed = parse_legacy_csv(data)
        except LegacyCsvError as exc:
            raise self._refused(path, [str(p) for p in exc.problems]) from exc

        rows = [
            LegacyStudentInput(
                username=row.username,
                passcode=row.passcode,
                passcode_hash=row.passcode_hash,
                section_name=row.class_name,
                teacher_email=row.teacher_email,
                line=row.line,
            )
            for row in parsed.rows
        ]
        sections_before = set(Section.objects.filter(account=account).values_list("pk", flat=True))
        teachers_before = set(
            User.objects.filter(account=account, role=Role.TEACHER).values_list("pk", flat=True)
        )
        try:
            with transaction.atomic():
                students = create_legacy_students(
                    account=account,
                    students=rows,
                    actor=None,
                    school=school,
                    create_missing=True,
                )
        except ImportFileError as exc:
            raise self._refused(path, [str(e) for e in exc.errors]) from exc
        except AccountsError as exc:
            hint = " Say which with --school NAME." if exc.code == "school_required" else ""
            raise self._refused(path, [exc.message + hint]) from exc

        new_sections = Section.objects.filter(account=account).exclude(pk__in=sections_before)
        new_teachers = User.objects.filter(account=account, role=Role.TEACHER).exclude(
            pk__in=teachers_before
        )
        self._report(
            account_label=str(account),
            students=students,
            parsed_encoding=parsed.encoding,
            new_sections=list(new_sections.values_list("name", flat=True)),
            new_teachers=[e for e in new_teachers.values_list("email", flat=True) if e],
        )

    def _refused(self, path: Path, problems: list[str]) -> CommandError:
        lines = "\n".join(f"  {p}" for p in problems)
        return CommandError(f"{path} was refused; no student was created:\n{lines}")

    def _report(
        self,
        *,
        account_label: str,
        students: list[User],
        parsed_encoding: str,
        new_sections: list[str],
        new_teachers: list[str],
    ) -> None:
        self.stdout.write(
            self.style.SUCCESS(f"Imported {len(students)} legacy students into {account_label}.")
        )
        if parsed_encoding == "cp1252":
            self.stdout.write(
                "The file was read as Windows-1252 (not UTF-8); check the class names below."
            )
        if new_sections:
            self.stdout.write(f"Classes created: {', '.join(sorted(new_sections))}")
        if new_teachers:
            self.stdout.write(f"Teachers created: {', '.join(sorted(new_teachers))}")
            self.stdout.write(
                "These teachers have no password yet and cannot sign in. Give each one a "
                "password with `carryover changepassword EMAIL`, or let them sign in with "
                "Clever or ClassLink once the account is rostered."
            )
