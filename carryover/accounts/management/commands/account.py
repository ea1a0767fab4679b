"""`carryover account create|show|list|limits`: customer accounts from the command line.

    carryover account create --number 314159 --name "Maple Elementary" --seats 30 \\
        --school "Maple Elementary"
    carryover account show --number 314159
    carryover account list
    carryover account limits --number 314159 --get-records-address-failures 1000
    carryover account limits --number 314159 --get-records-address-failures default
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from carryover.accounts.errors import AccountsError
from carryover.accounts.management.base import describe_account, get_account_by_number
from carryover.accounts.models import Account, Role, School, User
from carryover.accounts.services import create_account, set_get_records_address_limit


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

        limits = actions.add_parser(
            "limits",
            help="Raise (or restore) the per-address Get Records limit of one account, e.g. "
            "a district whose schools all reach us from one address (one NAT).",
        )
        limits.add_argument("--number", required=True, help="The six-digit account number.")
        limits.add_argument(
            "--get-records-address-failures",
            required=True,
            metavar="N|default",
            help="Get Records failures one address may make per 15 minutes for this account "
            "(only failures count; `default` restores GET_RECORDS_IP_FAILURES_PER_15_MIN).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(options)
        elif action == "show":
            account = get_account_by_number(options["number"])
            self.stdout.write("\n".join(describe_account(account)))
        elif action == "limits":
            self._limits(options)
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

    def _limits(self, options: dict[str, Any]) -> None:
        account = get_account_by_number(options["number"])
        raw = options["get_records_address_failures"].strip().lower()
        if raw == "default":
            limit = None
        else:
            try:
                limit = int(raw)
            except ValueError:
                raise CommandError(
                    f"--get-records-address-failures must be a number or `default`, not {raw!r}."
                ) from None
        try:
            changed = set_get_records_address_limit(account=account, limit=limit, actor=None)
        except AccountsError as exc:
            raise CommandError(f"{exc.message} Nothing was changed.") from exc
        self.stdout.write("Changed:" if changed else "Already so:")
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
