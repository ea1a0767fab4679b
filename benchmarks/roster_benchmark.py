"""Roster sync benchmark on PostgreSQL (issue 4): a district of 100,000 students, 5,000
teachers, 20,000 classes and 400,000 enrollments as OneRoster 1.1 CSV.

1. First import (`roster import` service path: read CSV -> diff -> apply), wall time and
   peak memory (max RSS of the process doing it). Targets: <= 60 s, <= 1.5 GB.
2. Unchanged re-sync of the same files: every count "unchanged". Target: <= half of (1).
3. Baseline in the same run: COPY of the same CSV rows into bare tables (no indexes, no
   constraints), and the ratio of (1) to it.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_roster \
      .venv/bin/python benchmarks/roster_benchmark.py [--data DIR] [--students N ...]
The database named in DATABASE_URL is DROPPED and re-created (use a scratch database).
Each phase runs in its own Python process so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carryover.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_roster")

ACCOUNT = "900001"


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def phase(kind: str, data: Path) -> dict[str, object]:
    """Run in a child process: one sync of `data` into the benchmark account."""
    import django

    django.setup()
    from carryover.accounts.models import Account
    from carryover.rostering import services
    from carryover.rostering.models import SyncSource

    account = Account.objects.get(account_number=ACCOUNT)
    sync = services.start_sync(
        account=account, source=SyncSource.ONEROSTER_CSV, source_ref=str(data), confirm=True
    )
    started = time.perf_counter()
    steps: dict[str, float] = {}
    last = [started, ""]

    def listener(done: int, total: int, phase: str) -> None:
        if phase != last[1]:
            now = time.perf_counter()
            steps[phase] = round(now - float(last[0]), 2)
            last[0], last[1] = now, phase

    sync = services.run_sync(sync_id=sync.pk, listener=listener)
    seconds = time.perf_counter() - started
    return {
        "phase": kind,
        "status": sync.status,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpu_seconds": round(time.process_time(), 2),
        # seconds spent up to the end of each step (the step names the file or kind done)
        "steps": steps,
        "totals": sync.totals(),
        "errors": sync.errors[:3],
    }


def copy_baseline(data: Path) -> float:
    """COPY the same CSV rows into bare tables (text columns, no keys) in one transaction."""
    import psycopg

    files = ["orgs.csv", "users.csv", "classes.csv", "enrollments.csv"]
    started = time.perf_counter()
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor() as cur:
        for name in files:
            with open(data / name, encoding="utf-8") as handle:
                header = handle.readline().strip().split(",")
            table = f"bare_{name[:-4]}"
            columns = ", ".join(f'"{c}" text' for c in header)
            cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(f"CREATE TABLE {table} ({columns})")
            with (
                open(data / name, "rb") as handle,
                cur.copy(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            ):
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
        conn.commit()
    return time.perf_counter() - started


def run_child(kind: str, data: Path) -> dict[str, object]:
    out = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, __file__, "--phase", kind, "--data", str(data)],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, help="an existing generated folder (else generated)")
    parser.add_argument("--phase", choices=["first", "resync"], help=argparse.SUPPRESS)
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--teachers", type=int, default=5_000)
    parser.add_argument("--sections", type=int, default=20_000)
    args = parser.parse_args()

    if args.phase:
        print(json.dumps(phase(args.phase, args.data)))
        return

    from benchmarks.roster_generate import Size, generate

    tmp = tempfile.TemporaryDirectory()
    data = args.data or generate(
        Path(tmp.name) / "district", Size(args.students, args.teachers, args.sections)
    )
    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    from carryover.accounts.models import Account

    call_command("migrate", verbosity=0)
    Account.objects.create(account_number=ACCOUNT, name="Benchmark district")

    print(f"load average at start: {os.getloadavg()}", file=sys.stderr)
    first = run_child("first", data)
    print(json.dumps(first), file=sys.stderr)
    resync = run_child("resync", data)
    print(json.dumps(resync), file=sys.stderr)
    copy_seconds = copy_baseline(data)
    result = {
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        "cores": os.cpu_count(),
        "first_import": first,
        "unchanged_resync": resync,
        "copy_seconds": round(copy_seconds, 2),
        "first_import_to_copy_ratio": round(float(first["seconds"]) / copy_seconds, 1),  # type: ignore[arg-type]
        "resync_to_first_ratio": round(float(resync["seconds"]) / float(first["seconds"]), 2),  # type: ignore[arg-type]
    }
    print(json.dumps(result, indent=2))
    ok = (
        first["status"] == "applied"
        and float(first["seconds"]) <= 60  # type: ignore[arg-type]
        and float(first["peak_rss_mb"]) <= 1536  # type: ignore[arg-type]
        and float(resync["seconds"]) <= float(first["seconds"]) / 2  # type: ignore[arg-type]
        and resync["totals"]["unchanged"] > 0  # type: ignore[index]
    )
    print("targets met" if ok else "TARGETS MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
