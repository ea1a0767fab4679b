"""`carryover seed --account NNNNNN --students N --history-per-student M`.

Bulk synthetic legacy students with realistic history, for benchmarks and load tests.
Every seeded student gets the same passcode (one hash, printed at the end).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carryover.accounts.errors import AccountsError
from carryover.accounts.management.base import get_account_by_number, get_school_by_name
from carryover.demo_world.seeding import seed_legacy_students


class Command(BaseCommand):
    help = "Create N synthetic legacy students with M history rows each (bulk, for benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", required=True, help="The six-digit account number.")
        parser.add_argument("--students", type=int, required=True, help="How many students.")
        parser.add_argument(
            "--history-per-student",
            type=int,
            required=True,
            help="History rows per student (practice sessions, tests, level passes).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Students generated and written per transaction (default 1000).",
        )
        parser.add_argument(
            "--passcode",
            help="The passcode every seeded student shares (default: a random one, printed).",
        )
        parser.add_argument(
            "--school", help="The school of the seeded classes (if the account has several)."
        )
        parser.add_argument(
            "--random-seed", type=int, help="Seed of the random history, to repeat a run."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        account = get_account_by_number(options["account"])
        school = get_school_by_name(account, options["school"]) if options["school"] else None
        total = options["students"]
        step = max(1, total // 10)
        next_mark = step

        def report(done: int, records: int) -> None:
            # About ten progress lines per run (every batch with -v 2).
            nonlocal next_mark
            if verbosity >= 2 or (verbosity >= 1 and done >= next_mark):
                self.stdout.write(f"  {done:,} / {total:,} students, {records:,} history rows")
            while next_mark <= done:
                next_mark += step

        try:
            result = seed_legacy_students(
                account=account,
                students=total,
                history_per_student=options["history_per_student"],
                batch_size=options["batch_size"],
                passcode=options["passcode"],
                school=school,
                random_seed=options["random_seed"],
                on_batch=report,
            )
        except AccountsError as exc:
            tail = "" if exc.code == "seed_conflict" else " Nothing was created."
            raise CommandError(exc.message + tail) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {result.students:,} legacy students ({result.first_username} to "
                f"{result.last_username}) in {result.sections:,} classes of account "
                f"{account.account_number}, with {result.records:,} history rows and "
                f"{result.awards:,} awards, in {result.seconds:.1f} s."
            )
        )
        self.stdout.write(f"Every seeded student's passcode: {result.passcode}")
