"""`carryover roster import|connect|sync|confirm|status`: roster sync from the terminal.

import and sync run the sync in this process (with a progress bar on the terminal)
unless `--background`, which hands it to the task worker (`carryover db_worker`).
With `--json` the last line printed is one JSON object; held and failed exit 1.
"""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carryover.accounts.models import Account
from carryover.rostering import services
from carryover.rostering.errors import RosterError
from carryover.rostering.models import (
    OUTCOMES,
    ConnectionProvider,
    RosterConnection,
    RosterSync,
    SyncSource,
    SyncStatus,
)

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Import and sync rosters (OneRoster CSV, Clever, ClassLink)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, parser_class=ArgumentParser)

        def account_arg(p: ArgumentParser) -> None:
            p.add_argument("--account", required=True, help="six-digit account number")

        def run_args(p: ArgumentParser) -> None:
            account_arg(p)
            p.add_argument("--dry-run", action="store_true", help="print counts, write nothing")
            p.add_argument(
                "--confirm", action="store_true", help="apply even if the guard would hold it"
            )
            p.add_argument("--json", action="store_true", help="last line: one JSON object")
            p.add_argument(
                "--background", action="store_true", help="queue for the task worker and exit"
            )

        imp = sub.add_parser("import", help="import a OneRoster CSV zip or folder")
        imp.add_argument("path", help="the .zip file or the folder with manifest.csv")
        run_args(imp)

        sync = sub.add_parser("sync", help="sync from the account's Clever or ClassLink connection")
        run_args(sync)

        connect = sub.add_parser("connect", help="store the account's roster connection")
        account_arg(connect)
        connect.add_argument("--provider", required=True, choices=ConnectionProvider.values)
        connect.add_argument("--token", help="Clever district token")
        connect.add_argument("--district", default="", help="Clever district id")
        connect.add_argument("--base-url", default="", help="OneRoster REST base URL (ClassLink)")
        connect.add_argument("--key", default="", help="OneRoster OAuth 1.0a consumer key")
        connect.add_argument("--secret", help="OneRoster OAuth 1.0a consumer secret")
        connect.add_argument(
            "--api-url", default="", help="Clever API base URL (default: settings)"
        )
        connect.add_argument(
            "--tenant",
            default="",
            help="sign-on tenant: the ClassLink TenantId (Clever uses --district); "
            "connects sign-on for the district too",
        )

        confirm = sub.add_parser("confirm", help="confirm a held sync and run it")
        confirm.add_argument("sync_id", type=int)
        confirm.add_argument("--json", action="store_true")
        confirm.add_argument("--background", action="store_true")

        status = sub.add_parser("status", help="the account's latest syncs")
        account_arg(status)
        status.add_argument("--limit", type=int, default=10)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "connect":
            self._connect(options)
        elif action == "status":
            self._status(options)
        elif action == "confirm":
            self._confirm(options)
        else:
            self._run(options)

    # --- helpers

    def _account(self, number: str) -> Account:
        try:
            return Account.objects.get(account_number=number)
        except Account.DoesNotExist as exc:
            raise CommandError(f"no account {number}") from exc

    def _run(self, options: dict[str, Any]) -> None:
        account = self._account(options["account"])
        if options["action"] == "import":
            path = Path(options["path"]).resolve()
            source, ref = SyncSource.ONEROSTER_CSV, str(path)
        else:
            connection = RosterConnection.objects.filter(account=account).first()
            if connection is None:
                self._refuse(options, f"account {account.account_number} is not connected")
            source, ref = SyncSource(connection.provider), ""
        try:
            sync = services.start_sync(
                account=account,
                source=source,
                source_ref=ref,
                dry_run=options["dry_run"],
                confirm=options["confirm"],
            )
        except RosterError as exc:
            self._refuse(options, str(exc))
        self._execute(sync, options)

    def _confirm(self, options: dict[str, Any]) -> None:
        held = RosterSync.objects.filter(pk=options["sync_id"]).first()
        if held is None:
            raise CommandError(f"no sync {options['sync_id']}")
        try:
            sync = services.confirm_held_sync(sync=held, actor=None)
        except RosterError as exc:
            self._refuse(options, str(exc))
        self._execute(sync, options)

    def _execute(self, sync: RosterSync, options: dict[str, Any]) -> None:
        if options.get("background"):
            services.enqueue_sync(sync)
            self.stdout.write(f"sync {sync.pk} queued for the task worker")
            return
        listener = None if options.get("json") else self._bar
        sync = services.run_sync(sync_id=sync.pk, listener=listener)
        if listener is not None:
            self.stderr.write("")
        self._report(sync, as_json=bool(options.get("json")))
        if sync.status in (SyncStatus.HELD, SyncStatus.FAILED):
            sys.exit(1)

    def _refuse(self, options: dict[str, Any], message: str) -> NoReturn:
        if options.get("json"):
            self.stdout.write(
                json.dumps({"status": "failed", **{o: {} for o in OUTCOMES}, "errors": [message]})
            )
            sys.exit(1)
        raise CommandError(message)

    def _bar(self, done: int, total: int, phase: str) -> None:
        share = done / total if total else 0.0
        filled = int(BAR_WIDTH * share)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stderr.write(f"\r[{bar}] {share:4.0%} {phase[:40]:<40}", ending="")
        self.stderr.flush()

    def _report(self, sync: RosterSync, *, as_json: bool) -> None:
        if not as_json:
            self.stdout.write(f"sync {sync.pk}: {sync.get_status_display()}")
            kinds = list(sync.counts.get("created", {}))
            self.stdout.write(f"{'':12}" + "".join(f"{k:>13}" for k in kinds))
            for outcome in OUTCOMES:
                row = sync.counts.get(outcome, {})
                self.stdout.write(f"{outcome:12}" + "".join(f"{row.get(k, 0):>13}" for k in kinds))
            if sync.rejected_count:
                self.stdout.write(f"{sync.rejected_count} rows skipped:")
                for item in sync.rejected[:20]:
                    self.stdout.write(f"  {item['origin']}: {item['reason']}")
                if sync.rejected_count > 20:
                    self.stdout.write(f"  ... and {sync.rejected_count - 20} more")
            if sync.guard_reason:
                verb = "would be held" if sync.status == SyncStatus.DRY_RUN else "held"
                self.stdout.write(f"{verb}: {sync.guard_reason}")
                if sync.status == SyncStatus.HELD:
                    self.stdout.write(
                        f"confirm with: carryover roster confirm {sync.pk}  (or --confirm)"
                    )
            if sync.went_live:
                self.stdout.write("SSO is live: legacy students are now temporary seats.")
            for error in sync.errors:
                self.stdout.write(f"error: {error}")
        self.stdout.write(json.dumps(sync.result()) if as_json else "")

    def _connect(self, options: dict[str, Any]) -> None:
        account = self._account(options["account"])
        provider = ConnectionProvider(options["provider"])
        if provider == ConnectionProvider.CLEVER:
            secret, base_url, key = options["token"], options["api_url"], ""
        else:
            secret, base_url, key = options["secret"], options["base_url"], options["key"]
        try:
            connection = services.connect_provider(
                account=account,
                provider=provider,
                base_url=base_url or "",
                district_id=options["district"],
                client_key=key,
                secret=secret or "",
                sign_on_tenant=options["tenant"] or options["district"],
            )
        except RosterError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"account {account.account_number} connected to {connection.get_provider_display()}"
            f" (secret {connection.masked_secret})"
        )

    def _status(self, options: dict[str, Any]) -> None:
        account = self._account(options["account"])
        for sync in RosterSync.objects.filter(account=account)[: options["limit"]]:
            totals = sync.totals()
            self.stdout.write(
                f"{sync.pk:>6} {sync.created_at:%Y-%m-%d %H:%M} {sync.source:14} "
                f"{sync.status:8} {sync.percent:>3}% "
                + " ".join(f"{k}={v}" for k, v in totals.items())
                + (f"  guard: {sync.guard_reason}" if sync.guard_reason else "")
            )
