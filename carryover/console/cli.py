"""The console's operator commands: `carryover legacy erase|purge` and `carryover logins export`.

`legacy` is the accounts app's command; it hands its `erase` and `purge` actions here
(`add_legacy_subcommands`, `run_legacy_action`), so the rules stay in the services.
Destructive actions are dry runs unless told `--commit`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from carryover.accounts.management.base import get_account_by_number
from carryover.console.errors import EraseRefused
from carryover.console.models import RESTORE_DAYS
from carryover.console.selectors import EraseSelection, preview_erase
from carryover.console.services import erase_legacy_accounts, purge_erased_accounts

LEGACY_ACTIONS = ("erase", "purge")
SHOW_USERNAMES = 50


def add_legacy_subcommands(actions: Any) -> None:
    """Add `erase` and `purge` to the `legacy` command's subparsers."""
    erase = actions.add_parser(
        "erase",
        help="Erase leftover old accounts (restorable for 30 days). A dry run without --commit.",
    )
    erase.add_argument("--account", required=True, help="The six-digit account number.")
    which = erase.add_mutually_exclusive_group()
    which.add_argument(
        "--all-temporary",
        action="store_true",
        help="Every old account still temporary after the account's temporary_seats_until "
        "(the default).",
    )
    which.add_argument("--usernames", help="Only these old usernames, comma-separated.")
    erase.add_argument("--commit", action="store_true", help="Erase for real.")

    purge = actions.add_parser(
        "purge",
        help=f"Delete for good the accounts erased more than {RESTORE_DAYS} days ago "
        "(run daily by cron). A dry run without --commit.",
    )
    purge.add_argument("--account", help="Only this account (default: every account).")
    purge.add_argument("--commit", action="store_true", help="Delete for real.")


def run_legacy_action(command: BaseCommand, options: dict[str, Any]) -> None:
    if options["action"] == "erase":
        _erase(command, options)
    elif options["action"] == "purge":
        _purge(command, options)
    else:  # pragma: no cover - argparse allows only the actions above
        raise CommandError(f"Unknown action {options['action']!r}.")


def _erase(command: BaseCommand, options: dict[str, Any]) -> None:
    account = get_account_by_number(options["account"])
    selection = EraseSelection.parse(options.get("usernames") or "")
    if options.get("usernames") is not None and not selection.usernames:
        raise CommandError("--usernames names no username.")
    preview = preview_erase(account=account, selection=selection, limit=SHOW_USERNAMES)
    out = command.stdout
    which = (
        "the usernames given"
        if selection.usernames
        else f"still temporary after {account.temporary_seats_until or '(no end date)'}"
    )
    out.write(f"Account {account.account_number} {account.name}: old accounts {which}.")
    for username in preview.not_found:
        out.write(f"  not erasable (no such old account, merged, erased or rostered): {username}")
    if not preview.count:
        out.write("Nothing to erase.")
        return
    for student in preview.rows:
        out.write(f"  {student.username}  ({student.record_count or 0} history records)")  # type: ignore[attr-defined]
    if preview.count > len(preview.rows):
        out.write(f"  ... and {preview.count - len(preview.rows)} more")
    summary = (
        f"{preview.count} accounts, {preview.records} history records, {preview.awards} awards"
    )
    if not options["commit"]:
        out.write(f"Dry run: would erase {summary}. Nothing was erased; add --commit to erase.")
        return
    try:
        outcome = erase_legacy_accounts(
            account=account,
            selection=selection,
            confirm_count=preview.count,
            actor=None,
            via="cli",
        )
    except EraseRefused as exc:
        raise CommandError(exc.message) from exc
    out.write(
        command.style.SUCCESS(
            f"Erased {outcome.erased} accounts ({outcome.records} history records). "
            f"They can be restored from the Erased accounts page for {RESTORE_DAYS} days."
        )
    )


def _purge(command: BaseCommand, options: dict[str, Any]) -> None:
    account = get_account_by_number(options["account"]) if options.get("account") else None
    outcome = purge_erased_accounts(commit=options["commit"], account=account)
    out = command.stdout
    for username in outcome.usernames[:SHOW_USERNAMES]:
        out.write(f"  {username}")
    if outcome.accounts > SHOW_USERNAMES:
        out.write(f"  ... and {outcome.accounts - SHOW_USERNAMES} more")
    summary = (
        f"{outcome.accounts} accounts erased more than {RESTORE_DAYS} days ago, "
        f"{outcome.records} history records, {outcome.awards} awards"
    )
    if outcome.kept_records:
        summary += f" ({outcome.kept_records} records now held by other students are kept)"
    if not outcome.committed:
        out.write(f"Dry run: would delete {summary}. Nothing was deleted; add --commit.")
        return
    out.write(command.style.SUCCESS(f"Deleted for good: {summary}."))
