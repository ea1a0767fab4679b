"""`carryover names match FILE --account NNNNNN [--json] [--merge-sure [--commit]]`.

Plan B from the command line: read a filled-in logins file, match its typed names to
the account's rostered students and print each row's decision. Stores and merges
nothing, unless `--merge-sure --commit`: then the upload is stored as a job (it shows
on the account's Plan B page, where the rows to review wait), its sure rows are
confirmed and merged in this process, each a normal `plan_b` merge with its audit row.
`--merge-sure` alone is a dry run that says what would merge.

`--json` prints one JSON document on stdout: an array with one object per row, in the
file's order (summaries go to stderr then, so stdout stays parseable).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carryover.accounts.management.base import get_account_by_number
from carryover.namematch.types import MatchResult, RosterStudent, percent
from carryover.planb.errors import LoginsFileError, NameMatchRefused
from carryover.planb.jobs.merging import list_mergeable_rows, run_merge_job, start_merge
from carryover.planb.models import NameMatchJob
from carryover.planb.review import confirm_all_sure
from carryover.planb.services import PreparedUpload, prepare_upload, store_upload


def _student(student: RosterStudent | None) -> dict[str, Any] | None:
    if student is None:
        return None
    return {"id": student.id, "sourced_id": student.sourced_id, "name": student.display_name}


def row_json(result: MatchResult) -> dict[str, Any]:
    """One row as `--json` prints it."""
    return {
        "row": result.row.row_number,
        "username": result.row.username,
        "typed_name": result.row.typed_name,
        "decision": result.decision,
        "student": _student(result.student),
        "score": result.score,
        "probability": result.probability,
        "reasons": list(result.reasons),
        "candidates": [
            {
                **(_student(c.student) or {}),
                "score": c.score,
                "probability": c.probability,
                "reasons": list(c.reasons),
            }
            for c in result.candidates
        ],
    }


class Command(BaseCommand):
    help = "Plan B: match the typed names of a filled-in logins file to rostered students."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        match = actions.add_parser(
            "match",
            help="Match a filled-in logins file (CSV or XLSX). Stores and merges nothing "
            "unless --merge-sure --commit.",
        )
        match.add_argument("file", help="The filled-in logins file (.csv or .xlsx).")
        match.add_argument("--account", required=True, help="The six-digit account number.")
        match.add_argument(
            "--json", action="store_true", help="Print a JSON array, one object per row."
        )
        match.add_argument(
            "--merge-sure",
            action="store_true",
            help="Merge the sure rows (a dry run that says what would merge, without --commit).",
        )
        match.add_argument(
            "--commit",
            action="store_true",
            help="With --merge-sure: store the upload as a job and merge its sure rows.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["commit"] and not options["merge_sure"]:
            raise CommandError("--commit only goes with --merge-sure.")
        account = get_account_by_number(options["account"])
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
        try:
            prepared = prepare_upload(account=account, data=data, filename=path.name)
        except LoginsFileError as exc:
            raise CommandError(f"{path.name}: {exc.message}") from exc

        merges: dict[int, dict[str, Any]] = {}
        summary: list[str] = [self._counts(prepared)]
        if options["merge_sure"] and options["commit"]:
            job = store_upload(
                account=account,
                actor=None,
                section=None,
                filename=path.name,
                prepared=prepared,
                via="cli",
            )
            merges, line = self._merge_sure(job)
            summary.append(line)
        elif options["merge_sure"]:
            sure = [r for r in prepared.results if r.decision == "sure"]
            merges = {r.row.row_number: {"dry_run": True} for r in sure}
            summary.append(
                f"Dry run: would merge {len(sure)} sure row{'s' * (len(sure) != 1)}. "
                "Nothing was stored or merged; add --commit to merge."
            )
        else:
            summary.append("Nothing was stored or merged.")

        if options["json"]:
            rows = []
            for result in prepared.results:
                item = row_json(result)
                if options["merge_sure"]:
                    item["merge"] = merges.get(result.row.row_number)
                rows.append(item)
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1))
            for line in summary:
                self.stderr.write(line, style_func=str)
            return
        for result in prepared.results:
            self.stdout.write(self._line(result, merges.get(result.row.row_number)))
        for skip in prepared.skipped:
            self.stdout.write(
                f"row {skip['row']:>4}  {skip['username']:<16} left out: {skip['reason']}"
            )
        for line in summary:
            self.stdout.write(line)

    def _counts(self, prepared: PreparedUpload) -> str:
        counts = prepared.counts()
        text = (
            f"{counts['rows']} rows matched against {prepared.roster_size} rostered students: "
            f"{counts['sure']} sure, {counts['review']} to review, {counts['none']} without a match"
        )
        if counts["skipped"]:
            text += f"; {counts['skipped']} left out (already merged or erased)"
        return text + "."

    def _merge_sure(self, job: NameMatchJob) -> tuple[dict[int, dict[str, Any]], str]:
        confirm_all_sure(job=job, actor=None)
        if list_mergeable_rows(job).exists():
            try:
                start_merge(job=job, actor=None, enqueue=False)
            except NameMatchRefused as exc:  # pragma: no cover - checked just above
                raise CommandError(exc.message) from exc
            job = run_merge_job(job_id=job.pk)
        merges: dict[int, dict[str, Any]] = {}
        for number, merge_id, error in job.rows.filter(review_state="confirmed").values_list(
            "row_number", "merge_id", "merge_error"
        ):
            merges[number] = {"merge_id": merge_id} if merge_id else {"error": error}
        merged = sum(1 for m in merges.values() if m.get("merge_id"))
        refused = len(merges) - merged
        line = f"Merged {merged} sure row{'s' * (merged != 1)} (job {job.pk}"
        line += f", {refused} refused)." if refused else ")."
        line += " The rows to review wait on the account's Plan B page."
        return merges, line

    def _line(self, result: MatchResult, merge: dict[str, Any] | None) -> str:
        student = result.student
        who = (
            f"{student.display_name} ({student.sourced_id or student.id})"
            if student is not None
            else "-"
        )
        # A probability belongs to a proposed student; without one there is nothing to say.
        score = f"{percent(result.probability):>8}" if student is not None else "       -"
        text = (
            f"row {result.row.row_number:>4}  {result.row.username:<16} "
            f"{result.row.typed_name!r:<28} {result.decision:<6} {score}  {who}"
        )
        if merge is not None:
            if merge.get("dry_run"):
                text += "  [would merge]"
            elif merge.get("merge_id"):
                text += f"  [merged: merge {merge['merge_id']}]"
            else:
                text += f"  [refused: {merge.get('error', '')}]"
        return text
