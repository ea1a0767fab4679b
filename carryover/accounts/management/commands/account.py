"""`carryover account create|show|list`: customer accounts from the command line.

    carryover account create --number 314159 --name "Maple Elementary" --seats 30 \\
        --school "Maple Elementary"
    carryover account show --number 314159
    carryover account list
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from carryover.accounts.errors import AccountsError
from carryover.accounts.management.base import describe_account, get_account_by_number
from carryover.accounts.models import Account, Role, School, User
from carryover.accounts.services import create_account


class Command(BaseCommand):
    help = "Create, show and list customer accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        create = actions.add_parser("create", help="Create an account (and its schools).")
        create.add_argument(
            "--number",
            help="The six-digit account number students type; generated when left out.",
        )
        create.add_argument("--name", required=True, help="The customer's name.")
        create.add_argument(
            "--seats", type=int, default=0, help="Seats purchased (0 or more; default 0)."
        )
        create.add_argument(
            "--school",
            action="append",
            default=[],
            dest="schools",
            metavar="NAME",
            help="A school of the account; repeat for a district with several schools.",
        )

        show = actions.add_parser("show", help="Show one account.")
        show.add_argument("--number", required=True, help="The six-digit account number.")

        actions.add_parser("list", help="List every account.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(options)
        elif action == "show":
            account = get_account_by_number(options["number"])
            self.stdout.write("\n".join(describe_account(account)))
        else:
            self._list()

    def _create(self, options: dict[str, Any]) -> None:
        try:
            account = create_account(
                name=options["name"],
                seats_purchased=options["seats"],
                account_number=options["number"],
                school_names=options["schools"],
                actor=None,
            )
        except AccountsError as exc:
            raise CommandError(f"{exc.message} Nothing was created.") from exc
        self.stdout.write(self.style.SUCCESS("Created:"))
        self.stdout.write("\n".join(describe_account(account)))

    def _list(self) -> None:
        # Two grouped counts, not one query joining schools and people (a cross product).
        schools = dict(
            School.objects.values("account").annotate(n=Count("pk")).values_list("account", "n")
        )
        students = dict(
            User.objects.filter(role=Role.STUDENT)
            .values("account")
            .annotate(n=Count("pk"))
            .values_list("account", "n")
        )
        rows = [("number", "name", "seats", "schools", "students")]
        rows += [
            (
                account.account_number,
                account.name,
                str(account.seats_purchased),
                str(schools.get(account.pk, 0)),
                str(students.get(account.pk, 0)),
            )
            for account in Account.objects.order_by("account_number")
        ]
        if len(rows) == 1:
            self.stdout.write("No accounts yet. Create one with `carryover account create`.")
            return
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())
