"""Uploads in the database storage (issue 14.2): a large roster zip stored, read back as
the worker's private copy, and purged, with the wall time and the peak memory of each
step in its own process (the file must never sit in memory whole).

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_uploads \\
      .venv/bin/python benchmarks/uploads_benchmark.py [--megabytes 200]
The database named in DATABASE_URL is DROPPED and re-created (a name with `bench`).
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
# DEBUG keeps every query with its parameters (here: the bytes) in memory; production does not.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_uploads")


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    if "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: use a database named *bench*")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def child(step: str, arg: str) -> dict[str, object]:
    import datetime as dt

    import django

    django.setup()
    from django.utils import timezone

    from carryover.uploads.models import StoredUpload, UploadKind
    from carryover.uploads.services import local_copy, purge_uploads, release_upload, store_upload

    started = time.perf_counter()
    if step == "store":
        with open(arg, "rb") as handle:
            upload = store_upload(kind=UploadKind.ROSTER_CSV, content=handle, filename="big.zip")
        result: dict[str, object] = {"upload": str(upload.pk), "bytes": upload.size}
    elif step == "copy":
        with local_copy(StoredUpload.objects.get(pk=arg)) as path:
            result = {"bytes": path.stat().st_size}
    else:
        release_upload(arg)
        outcome = purge_uploads(now=timezone.now() + dt.timedelta(days=30))
        result = {"files": outcome.files}
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


def run_child(step: str, arg: str) -> dict[str, object]:
    out = subprocess.run(  # noqa: S603 - this script, fixed arguments
        [sys.executable, __file__, "--child", step, arg],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    url = os.environ["DATABASE_URL"]
    recreate_database(url)
    subprocess.run(  # noqa: S603 - manage.py, fixed arguments
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], check=True
    )
    with tempfile.NamedTemporaryFile(suffix=".zip") as data:
        for _ in range(args.megabytes):
            data.write(os.urandom(1024 * 1024))
        data.flush()
        stored = run_child("store", data.name)
    copied = run_child("copy", str(stored["upload"]))
    purged = run_child("purge", str(stored["upload"]))
    print(f"file: {args.megabytes} MB of random bytes (incompressible, as a zip is)")
    for name, result in (("store", stored), ("local copy", copied), ("purge", purged)):
        print(f"{name:>10}: {result['seconds']:>6} s, peak RSS {result['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()
