"""`carryover support add|list|remove`: the vendor's support staff.

    carryover support add EMAIL [--password -] [--name "Sam Support"] [--superuser]
    carryover support list
    carryover support remove EMAIL

`add` creates a support person: never a superuser (the Django admin is for developers:
`--superuser` makes one). With `--password -` the password is read from standard input
(one line), so it stays out of the shell history and the process list; without it, a
one-time link to choose a password is printed, once. `remove` ends their access at once
and keeps their name on what they did.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carryover.accounts import passwords, staff
from carryover.accounts.errors import AccountsError


class Command(BaseCommand):
    help = "Add, list and remove the vendor's support staff."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = actions.add_parser("add", help="Add a support person (not a superuser).")
        add.add_argument("email", metavar="EMAIL")
        add.add_argument(
            "--password",
            metavar="-",
            help="'-': read the password from standard input. Without it, a one-time "
            "set-password link is printed.",
        )
        add.add_argument("--name", default="", help='Their name, e.g. "Sam Support".')
        add.add_argument(
            "--superuser",
            action="store_true",
            help="A developer: also the Django admin (/admin/). Not for support staff.",
        )
        actions.add_parser("list", help="List support staff and developers.")
        remove = actions.add_parser("remove", help="End a support person's access.")
        remove.add_argument("email", metavar="EMAIL")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except AccountsError as exc:
            raise CommandError(exc.message) from exc

    def _add(self, options: dict[str, Any]) -> None:
        password: str | None = None
        if options["password"] is not None:
            if options["password"] != "-":  # noqa: S105 (a flag's value, not a secret)
                raise CommandError(
                    "--password takes '-' and reads the password from standard input, "
                    "so it never appears in the shell history or the process list."
                )
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("No password on standard input.")
        first, _, last = options["name"].strip().partition(" ")
        added = staff.add_support_staff(
            email=options["email"],
            password=password,
            superuser=options["superuser"],
            first_name=first,
            last_name=last.strip(),
        )
        who = "developer (superuser, Django admin)" if options["superuser"] else "support person"
        verb = "Added" if added.created else "Brought back"
        self.stdout.write(self.style.SUCCESS(f"{verb} {who} {added.user.email}."))
        if password is None:
            self.stdout.write(
                "They choose their password with this link (it works once; this is the only "
                f"time it is shown):\n  {passwords.set_password_link(added.user)}"
            )

    def _list(self, options: dict[str, Any]) -> None:
        people = staff.list_support_staff()
        if not people:
            self.stdout.write("No support staff yet: carryover support add EMAIL.")
            return
        rows = [("email", "name", "role", "second factor", "last sign-in", "status")]
        for user in people:
            rows.append(
                (
                    user.email or "",
                    f"{user.first_name} {user.last_name}".strip() or "-",
                    "developer" if user.is_superuser else "support",
                    "set up" if staff.has_second_factor(user) else "not yet",
                    user.last_login.strftime("%Y-%m-%d %H:%M") if user.last_login else "never",
                    "active" if user.is_active else "removed",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )

    def _remove(self, options: dict[str, Any]) -> None:
        if staff.remove_support_staff(email=options["email"]):
            self.stdout.write(
                self.style.SUCCESS(f"Removed {options['email'].strip()}: their access ended.")
            )
        else:
            self.stdout.write(f"{options['email'].strip()} was removed already; nothing changed.")
