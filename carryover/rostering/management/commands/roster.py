"""`carryover roster import|connect|show|sync|confirm|status`: roster sync from the terminal.

import and sync run the sync in this process (with a progress bar on the terminal)
unless `--background`, which hands it to the task worker (`carryover db_worker`): an
import's file (a folder is zipped first) then goes to shared storage, and the worker,
on whatever machine, reads it from there by id, never from this machine's path.
With `--json` the last line printed is one JSON object; held and failed exit 1.
"""

from __future__ import annotations

import json
import sys
import tempfile
import zipfile
from argparse import ArgumentParser
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carryover.accounts.models import Account
from carryover.rostering import services
from carryover.rostering.errors import RosterError
from carryover.rostering.models import (
    OUTCOMES,
    ConnectionProvider,
    OneRosterVersion,
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
        sync.add_argument(
            "--full",
            action="store_true",
            help="Clever: read the whole roster, not only the events after the stored cursor",
        )

        connect = sub.add_parser("connect", help="store the account's roster connection")
        account_arg(connect)
        connect.add_argument("--provider", required=True, choices=ConnectionProvider.values)
        connect.add_argument("--token", help="Clever district token (-: read standard input)")
        connect.add_argument("--district", default="", help="Clever district id")
        connect.add_argument("--base-url", default="", help="OneRoster REST base URL (ClassLink)")
        connect.add_argument(
            "--oneroster-version",
            default=OneRosterVersion.V1P1,
            choices=OneRosterVersion.values,
            help="ClassLink: OneRoster 1.1 (OAuth 1.0a, --key/--secret) or 1.2 "
            "(OAuth 2, --client-id/--client-secret)",
        )
        connect.add_argument("--key", default="", help="OneRoster 1.1 OAuth 1.0a consumer key")
        connect.add_argument("--secret", help="OneRoster 1.1 OAuth 1.0a consumer secret (-: stdin)")
        connect.add_argument("--client-id", default="", help="OneRoster 1.2 OAuth 2 client id")
        connect.add_argument(
            "--client-secret", help="OneRoster 1.2 OAuth 2 client secret (-: stdin)"
        )
        connect.add_argument(
            "--token-url",
            default="",
            help="OneRoster 1.2 OAuth 2 token endpoint (default: the base URL + /token)",
        )
        connect.add_argument(
            "--api-url", default="", help="Clever API base URL (default: settings)"
        )
        connect.add_argument(
            "--no-events",
            action="store_true",
            help="Clever: read the whole roster at every sync (default: after the first, only "
            "the Events API's changes when the district has events)",
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

        show = sub.add_parser("show", help="the account's roster connection (never its secret)")
        account_arg(show)

        status = sub.add_parser("status", help="the account's latest syncs")
        account_arg(status)
        status.add_argument("--limit", type=int, default=10)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "connect":
            self._connect(options)
        elif action == "status":
            self._status(options)
        elif action == "show":
            self._show(options)
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
        if options["action"] == "import" and options.get("background"):
            self._import_in_background(account, Path(options["path"]).resolve(), options)
            return
        if options["action"] == "import":
            path = Path(options["path"]).resolve()
            source, ref = SyncSource.ONEROSTER_CSV, str(path)
        else:
            connection = RosterConnection.objects.filter(account=account).defer("secret").first()
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
                full=bool(options.get("full")),
            )
        except RosterError as exc:
            self._refuse(options, str(exc))
        self._execute(sync, options)

    def _import_in_background(self, account: Account, path: Path, options: dict[str, Any]) -> None:
        try:
            with _roster_file(path) as (content, name):
                sync = services.start_upload_sync(
                    account=account,
                    actor=None,
                    content=content,
                    filename=name,
                    dry_run=options["dry_run"],
                    confirm=options["confirm"],
                )
        except OSError as exc:
            self._refuse(options, f"{path}: {exc.strerror or exc}")
        except RosterError as exc:
            self._refuse(options, str(exc))
        self._execute(sync, options)

    def _confirm(self, options: dict[str, Any]) -> None:
        held = RosterSync.objects.filter(pk=options["sync_id"]).first()
        if held is None:
            raise CommandError(f"no sync {options['sync_id']}")
        if (
            options.get("background")
            and held.source == SyncSource.ONEROSTER_CSV
            and (held.upload_id is None)
        ):
            self._refuse(
                options,
                f"sync {held.pk} read {held.source_ref} in its own process, where a worker "
                "cannot: confirm it without --background, or import the file again with "
                "--background",
            )
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
            self._report_events(sync)
        result = {**sync.result(), **({"events": sync.events} if sync.events else {})}
        self.stdout.write(json.dumps(result) if as_json else "")

    def _report_events(self, sync: RosterSync) -> None:
        """How a Clever sync read the roster: the events after the cursor, or all of it."""
        how = sync.events
        if not how:
            return
        if how.get("mode") == "events":
            ignored = how.get("ignored_types") or {}
            self.stdout.write(
                f"Clever events after {how.get('after')} through {how.get('through')}: "
                f"{how.get('read', 0)} read, {how.get('ignored', 0)} ignored"
                + (f" ({', '.join(f'{t} {n}' for t, n in ignored.items())})" if ignored else "")
            )
            if sync.status == SyncStatus.FAILED:
                self.stdout.write(
                    "the events cursor stays where it was; `carryover roster sync --full` "
                    "reads the whole roster and starts the events again"
                )
        elif how.get("through"):
            self.stdout.write(f"read the whole roster; Clever events cursor: {how['through']}")
        if how.get("note"):
            self.stdout.write(f"note: {how['note']}")

    def _connect(self, options: dict[str, Any]) -> None:
        account = self._account(options["account"])
        provider = ConnectionProvider(options["provider"])
        version = options["oneroster_version"]
        if provider == ConnectionProvider.CLEVER:
            secret, base_url, key = options["token"], options["api_url"], ""
        elif version == OneRosterVersion.V1P2:
            if options["key"] or options["secret"]:
                raise CommandError(
                    "OneRoster 1.2 uses OAuth 2: give --client-id and --client-secret "
                    "(--key and --secret are the OAuth 1.0a credentials of 1.1)"
                )
            secret, base_url, key = (
                options["client_secret"],
                options["base_url"],
                options["client_id"],
            )
        else:
            if options["client_id"] or options["client_secret"] or options["token_url"]:
                raise CommandError(
                    "--client-id, --client-secret and --token-url are for OneRoster 1.2: "
                    "add --oneroster-version 1.2 (1.1 takes --key and --secret)"
                )
            secret, base_url, key = options["secret"], options["base_url"], options["key"]
        if secret == "-":  # noqa: S105 (not a password: the "read standard input" marker)
            # Read from standard input, so the secret stays out of shell history and `ps`.
            secret = sys.stdin.readline().strip()
            if not secret:
                raise CommandError("no secret on standard input; nothing was stored")
        try:
            connection = services.connect_provider(
                account=account,
                provider=provider,
                base_url=base_url or "",
                district_id=options["district"],
                client_key=key,
                secret=secret or "",
                oneroster_version=version,
                token_url=options["token_url"],
                sign_on_tenant=options["tenant"] or options["district"],
                use_events=not options["no_events"],
            )
        except RosterError as exc:
            raise CommandError(str(exc)) from exc
        what = connection.get_provider_display()
        if provider == ConnectionProvider.CLASSLINK:
            what = f"ClassLink, {connection.get_oneroster_version_display()}"
        self.stdout.write(
            f"account {account.account_number} connected to {what}; the secret is stored "
            "encrypted and is not shown"
        )

    def _show(self, options: dict[str, Any]) -> None:
        account = self._account(options["account"])
        connection = RosterConnection.objects.filter(account=account).defer("secret").first()
        if connection is None:
            raise CommandError(f"account {account.account_number} is not connected")
        rows = [("provider", connection.get_provider_display())]
        if connection.provider == ConnectionProvider.CLEVER:
            rows += [
                ("district", connection.district_id or "-"),
                ("API base URL", connection.base_url or "(settings: CLEVER_API_BASE)"),
                ("district token", "stored encrypted (not shown)"),
                ("events", "on" if connection.use_events else "off (every sync reads all)"),
                ("events cursor", connection.events_cursor or "- (the next sync reads all)"),
            ]
        else:
            rows += [
                ("OneRoster", connection.get_oneroster_version_display()),
                ("base URL", connection.base_url),
            ]
            if connection.oneroster_version == OneRosterVersion.V1P2:
                rows += [
                    ("token URL", connection.token_endpoint),
                    ("client id", connection.client_key),
                    ("client secret", "stored encrypted (not shown)"),
                ]
            else:
                rows += [
                    ("consumer key", connection.client_key),
                    ("consumer secret", "stored encrypted (not shown)"),
                ]
        rows.append(("updated", f"{connection.updated_at:%Y-%m-%d %H:%M}"))
        for label, value in rows:
            self.stdout.write(f"{label + ':':16} {value}")

    def _status(self, options: dict[str, Any]) -> None:
        account = self._account(options["account"])
        for sync in RosterSync.objects.filter(account=account)[: options["limit"]]:
            totals = sync.totals()
            self.stdout.write(
                f"{sync.pk:>6} {sync.created_at:%Y-%m-%d %H:%M} {sync.source:14} "
                f"{sync.status:8} {sync.percent:>3}% "
                + " ".join(f"{k}={v}" for k, v in totals.items())
                + (f"  guard: {sync.guard_reason}" if sync.guard_reason else "")
                + (f"  [{sync.events['mode']}]" if sync.events.get("mode") else "")
            )


@contextmanager
def _roster_file(path: Path) -> Iterator[tuple[IO[bytes], str]]:
    """The roster as one file to store: a zip as it is, a folder's files zipped."""
    if path.is_dir():
        with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as packed:
            with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
                for child in sorted(path.iterdir()):
                    if child.is_file() and not child.name.startswith("."):
                        archive.write(child, child.name)
            packed.seek(0)
            yield packed, f"{path.name}.zip"  # type: ignore[misc]
        return
    if not path.is_file():
        raise FileNotFoundError(2, "no such file or folder", str(path))
    with path.open("rb") as handle:
        yield handle, path.name
