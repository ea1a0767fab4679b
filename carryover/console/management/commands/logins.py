"""`carryover logins export --account NNNNNN [--class NAME] [--school NAME]
[--format csv|xlsx] -o FILE`: the Export Student Logins file, as the pages give it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carryover.accounts.management.base import get_account_by_number
from carryover.accounts.models import Account, Role, Section, User
from carryover.console.exports import FORMATS, write_csv, write_xlsx
from carryover.console.selectors import iter_login_rows
from carryover.console.services import record_logins_export


class Command(BaseCommand):
    help = "Student logins: export the old (hand-made) accounts as CSV or XLSX."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        export = actions.add_parser(
            "export", help="Write the Student Logins file of an account or one class."
        )
        export.add_argument("--account", required=True, help="The six-digit account number.")
        export.add_argument("--class", dest="class_name", help="Only this class.")
        export.add_argument("--school", help="The class's school (if several have that class).")
        export.add_argument(
            "--format",
            choices=FORMATS,
            help="csv or xlsx (default: from the file name, else csv).",
        )
        export.add_argument("-o", "--output", required=True, help="The file to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        account = get_account_by_number(options["account"])
        output = Path(options["output"])
        file_format = options["format"] or ("xlsx" if output.suffix.lower() == ".xlsx" else "csv")
        section = None
        students = User.objects.filter(account=account, role=Role.STUDENT)
        if options["class_name"]:
            section = _find_section(account, options["class_name"], options["school"])
            students = students.filter(enrollments__section=section)
        rows = iter_login_rows(account=account, students=students, section=section)
        directory = output.resolve().parent
        if not directory.is_dir():
            raise CommandError(f"There is no folder {directory}.")
        # Write next to the target and rename, so a reader never sees half a file.
        handle, partial = tempfile.mkstemp(dir=directory, prefix=f".{output.name}.", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as target:
                count = (
                    write_xlsx(rows, target) if file_format == "xlsx" else write_csv(rows, target)
                )
            Path(partial).replace(output)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        record_logins_export(
            account=account,
            actor=None,
            file_format=file_format,
            section_id=section.pk if section else None,
            via="cli",
        )
        where = f"class {section.name}" if section else f"account {account.account_number}"
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {count} old accounts of {where} to {output} ({file_format})."
            )
        )


def _find_section(account: Account, name: str, school: str | None) -> Section:
    sections = Section.objects.filter(account=account, name__iexact=name.strip())
    if school:
        sections = sections.filter(school__name__iexact=school.strip())
    found = list(sections.select_related("school")[:10])
    if not found:
        raise CommandError(f"Account {account.account_number} has no class {name!r}.")
    if len(found) > 1:
        schools = ", ".join(sorted(s.school.name for s in found))
        raise CommandError(f"Several schools have a class {name!r} ({schools}); add --school NAME.")
    return found[0]
