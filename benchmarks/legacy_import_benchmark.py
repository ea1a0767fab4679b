"""`carryover legacy import` of old accounts moved with their hashes (`passcode_hash`).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_import \\
        .venv/bin/python benchmarks/legacy_import_benchmark.py --runs 3 --fresh-database

Target (issue 13.4): 20,000 old accounts in at most 60 s, the whole command.

Writes a CSV of N rows (`username,passcode_hash,class,teacher_email`; 25 accounts a
class, one new teacher a class, each account its own salt), creates an account, then
times `carryover legacy import FILE --account NNNNNN` as a subprocess (start-up,
reading, checking every hash, creating classes, teachers, students and enrollments).
Afterwards it checks the counts and signs a sample of the imported accounts in with
their plain passcodes through the product's sign-in, so the hashes are real ones.

The hashes are PBKDF2-SHA256 with few iterations so that *writing the file* is quick;
the import never runs a hash (it checks each one's form and cost), so the iteration
count makes no difference to the time measured. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.seed_benchmark import recreate_database  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SAMPLE = 5


def pbkdf2(passcode: str, salt: str, iterations: int = 1000) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", passcode.encode(), salt.encode(), iterations, 32)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode('ascii')}"


def write_file(path: Path, students: int, per_class: int, *, plain: bool) -> dict[str, str]:
    """The CSV, and a sample of usernames with their plain passcodes."""
    sample: dict[str, str] = {}
    with path.open("w", encoding="utf-8", newline="") as out:
        column = "passcode" if plain else "passcode_hash"
        out.write(f"username,{column},class,teacher_email\n")
        for i in range(students):
            room = i // per_class
            username = f"old{i:06d}"
            passcode = f"{secrets.randbelow(10_000):04d}"
            secret = passcode if plain else pbkdf2(passcode, secrets.token_hex(8))
            out.write(f"{username},{secret},Room {room},t{room}@bench.example\n")
            if i % max(1, students // SAMPLE) == 0 and len(sample) < SAMPLE:
                sample[username] = passcode
    return sample


def carryover(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command
        [str(VENV_BIN / "carryover"), *args],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def one_run(args: argparse.Namespace, run: int) -> dict[str, object]:
    url = os.environ.get("DATABASE_URL", "")
    if args.fresh_database:
        recreate_database(url)
    carryover("migrate", "-v", "0", "--skip-checks")
    number = f"{700000 + run * 1000 + secrets.randbelow(1000):06d}"
    carryover(
        "account", "create", "--number", number, "--name", f"Import bench {run}", "--seats", "0"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "moved.csv"
        sample = write_file(path, args.students, args.per_class, plain=args.plain)
        size_mb = path.stat().st_size / 1e6
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        out = carryover("legacy", "import", str(path), "--account", number)
        seconds = time.perf_counter() - started
        load_after = os.getloadavg()[0]
    if f"Imported {args.students} legacy students" not in out.stdout:
        sys.exit(f"unexpected output: {out.stdout[:500]}")
    checked = check(number, sample)
    return {
        "run": run,
        "students": args.students,
        "classes": (args.students + args.per_class - 1) // args.per_class,
        "file_mb": round(size_mb, 1),
        "seconds": round(seconds, 1),
        "load": f"{load_before:.1f}/{load_after:.1f}",
        "signed_in": checked,
    }


def check(number: str, sample: dict[str, str]) -> int:
    """Counts, then the sample signs in (and a wrong passcode does not)."""
    code = f"""
import json, sys
import django
django.setup()
from django.test import Client
from carryover.accounts.models import User
n = User.objects.filter(account__account_number={number!r}, is_legacy=True).count()
sample = json.loads(sys.argv[1])
ok = 0
for username, passcode in sample.items():
    c = Client()
    right = c.post("/sign-in/", {{"panel": "student", "account_number": {number!r},
                   "username": username, "passcode": passcode}})
    wrong = Client().post("/sign-in/", {{"panel": "student", "account_number": {number!r},
                   "username": username, "passcode": "x" + passcode}})
    ok += right.status_code == 302 and wrong.status_code == 200
print(json.dumps({{"students": n, "ok": ok}}))
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "carryover.settings",
        "ALLOWED_HOSTS": "testserver",
    }
    out = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code, json.dumps(sample)],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["ok"] != len(sample):
        sys.exit(f"only {result['ok']} of {len(sample)} sample accounts signed in")
    return int(result["ok"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--per-class", type=int, default=25)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--fresh-database", action="store_true")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="a `passcode` column instead (every passcode hashed on the way in), to compare",
    )
    parser.add_argument("--allow-sqlite", action="store_true", help="for a quick smoke run")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) and not args.allow_sqlite:
        sys.exit("Set DATABASE_URL to a PostgreSQL database (e.g. .../bench_import).")
    results = []
    for run in range(1, args.runs + 1):
        result = one_run(args, run)
        results.append(result)
        print(json.dumps(result))
    seconds = [float(r["seconds"]) for r in results]  # type: ignore[arg-type]
    median = statistics.median(seconds)
    print(
        f"{args.students:,} old accounts with {'passcode' if args.plain else 'passcode_hash'}: "
        f"median {median:.1f} s "
        f"over {len(results)} run(s) (target: at most 60 s)"
    )


if __name__ == "__main__":
    main()
