"""`carryover scheduled [--dry-run] [--json]`: the daily work, for a timer (carryover.scheduled).

Purges erased accounts, clears expired sessions, records the end of temporary seats
whose date passed, deletes uploaded files past their retention and marks stale
background jobs failed. Idempotent: a second run the same day changes nothing and says
so. Exit status 1 when a step failed (the other steps still ran).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from carryover.scheduled import run_daily_work


class Command(BaseCommand):
    help = (
        "Run the daily work: purge erased accounts, clear expired sessions, end temporary "
        "seats whose date passed, delete old uploads, mark stale jobs failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="say what each step would do; change nothing"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = run_daily_work(dry_run=options["dry_run"])
        if options["json"]:
            self.stdout.write(json.dumps(outcome.as_dict()))
        else:
            mode = " (dry run: nothing is changed)" if outcome.dry_run else ""
            self.stdout.write(f"carryover scheduled, {outcome.day.isoformat()}{mode}")
            width = max(len(step.name) for step in outcome.steps)
            for step in outcome.steps:
                text = f"FAILED: {step.error}" if step.error else step.summary
                self.stdout.write(f"  {step.name:<{width}}  {text}")
            if not outcome.changed and not outcome.failed:
                self.stdout.write("Nothing to do: every step is done for today.")
        if outcome.failed:
            for step in outcome.failed:
                self.stderr.write(f"{step.name} failed: {step.error}")
            sys.exit(1)
