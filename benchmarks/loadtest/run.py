"""The go-live morning, end to end on loopback (issue 14's target).

nginx (deploy/nginx/carryover.conf) -> gunicorn with 2 workers (deploy/gunicorn.conf.py,
the web unit's ExecStart) -> PostgreSQL and Redis, 1-2 `carryover db_worker`s, and the
Clever sandbox served by a process of its own on another port. Simulated, each journey
once (bounded in count) under a deadline (bounded in time; it stops by itself):

- 500 students sign on through the Clever sandbox (the whole redirect chain), open Get
  Records, preview and confirm their old account (10% type a wrong passcode first);
  they come from 20 classroom addresses (127.0.0.2-21) through nginx;
- 30 teachers sign on and load their class page and its link suggestions, 3 rounds;
- one school admin signs in with a password, starts a roster sync, uploads a Plan B
  file of 500 rows, confirms the sure matches and merges them (the worker's jobs).

Reported: throughput, p50/p95/p99 per kind of request, errors, and the ratio of
passcode-checking requests per second (sign-ons and password sign-ins, Get Records
previews and confirms) to the physical limit: passcode verifications per second on 2
processes with the production hasher, measured in the same run. Then, in SQL: every old
account merged at most once, every history row on exactly one student, none lost.
`--chaos` runs the same with one gunicorn worker and the db_worker killed (kill -9)
mid-run, the worker restarted: no half-done merge or sync, the jobs finish.

Run (a scratch database on the PostgreSQL server is created and DROPPED):
    .venv/bin/python benchmarks/loadtest/run.py [--chaos] [--students 500] [--teachers 30]
        [--db-workers 1] [--concurrency 24] [--deadline 900] [--json out.json]
Environment: LOADTEST_DATABASE_SERVER (default postgres://postgres@127.0.0.1:5432),
REDIS_URL (default redis://127.0.0.1:6379/15). Every request goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.loadtest import world as golive  # noqa: E402
from deploy.loopback import Stack  # noqa: E402

CLASSROOMS = 20


# --- the physical limit -------------------------------------------------------------------
def _verify_loop(seconds: float, encoded: str, out: Any) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carryover.settings")
    import django

    django.setup()
    from django.contrib.auth.hashers import check_password

    done, stop = 0, time.monotonic() + seconds
    while time.monotonic() < stop:
        check_password(golive.PASSCODE, encoded)
        done += 1
    out.put(done)


def passcode_capacity(seconds: float = 8.0, processes: int = 2) -> float:
    """Passcode verifications per second with the production hasher on `processes`
    processes at once (the cores gunicorn has): the ceiling of passcode-checking work."""
    from django.contrib.auth.hashers import make_password

    encoded = make_password(golive.PASSCODE)
    queue: Any = multiprocessing.get_context("spawn").Queue()
    workers = [
        multiprocessing.get_context("spawn").Process(
            target=_verify_loop, args=(seconds, encoded, queue)
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    total = sum(queue.get(timeout=seconds + 120) for _ in workers)
    for worker in workers:
        worker.join()
    return total / seconds


# --- the machine ------------------------------------------------------------------------
def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    fields = [float(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its children (live ones), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (float(stat[11]) + float(stat[12]) + float(stat[13]) + float(stat[14])) / tick
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            todo.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return total


# --- recording --------------------------------------------------------------------------
@dataclass
class Recorder:
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    error_examples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.monotonic)
    timeline: list[tuple[float, str]] = field(default_factory=list)

    def call(self, kind: str, send: Any, expect: tuple[int, ...] = (200, 302)) -> Any:
        began = time.monotonic()
        try:
            response = send()
        except Exception as exc:
            with self.lock:
                self.errors[kind] += 1
                if len(self.error_examples) < 20:
                    self.error_examples.append(f"{kind}: {type(exc).__name__}: {exc}"[:300])
            return None
        elapsed = time.monotonic() - began
        with self.lock:
            self.samples[kind].append(elapsed)
            if response.status_code not in expect:
                self.errors[kind] += 1
                if len(self.error_examples) < 20:
                    reason = re.search(r'data-reason="([^"]+)"', response.text)
                    self.error_examples.append(
                        f"{kind}: HTTP {response.status_code} {response.url.split('?')[0]} "
                        + (f"reason={reason.group(1)}" if reason else repr(response.text[:120]))
                    )
        return response

    def note(self, what: str) -> None:
        with self.lock:
            self.timeline.append((round(time.monotonic() - self.started, 1), what))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# --- journeys ---------------------------------------------------------------------------
def _session(stack: Stack, address: str) -> Any:
    import requests
    from requests.adapters import HTTPAdapter

    class FromAddress(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["source_address"] = (address, 0)
            super().init_poolmanager(*args, **kwargs)

    session = requests.Session()
    session.trust_env = False
    session.verify = str(stack.cert)
    session.mount("https://", FromAddress())
    return session


TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _token(response: Any) -> str:
    match = TOKEN.search(response.text) if response is not None else None
    return match.group(1) if match else ""


def student(stack: Stack, rec: Recorder, i: int, kid: golive.Person, username: str, wrong: bool):
    s = _session(stack, f"127.0.0.{2 + i % CLASSROOMS}")
    landed = rec.call(
        "sign_on", lambda: s.get(stack.url(f"/sso/clever/login?login_hint={kid.clever_id}"))
    )
    if landed is None or not landed.url.startswith(stack.origin):
        return
    form = rec.call("get_records_page", lambda: s.get(stack.url("/me/get-records/")))
    token = _token(form)
    referer = {"Referer": stack.url("/me/get-records/")}
    details = {"username": username, "account_number": golive.ACCOUNT_NUMBER}
    if wrong:
        rec.call(
            "preview_wrong_passcode",
            lambda: s.post(
                stack.url("/me/get-records/"),
                data={"csrfmiddlewaretoken": token, **details, "passcode": "nope"},
                headers=referer,
            ),
            expect=(400,),
        )
    preview = rec.call(
        "preview",
        lambda: s.post(
            stack.url("/me/get-records/"),
            data={"csrfmiddlewaretoken": token, **details, "passcode": golive.PASSCODE},
            headers=referer,
        ),
        expect=(200,),
    )
    rec.call(
        "confirm",
        lambda: s.post(
            stack.url("/me/get-records/confirm/"),
            data={"csrfmiddlewaretoken": _token(preview)},
            headers=referer,
        ),
    )


def teacher(stack: Stack, rec: Recorder, t: int, person: golive.Person, rounds: int, stop: float):
    s = _session(stack, f"127.0.0.{2 + t % CLASSROOMS}")
    landed = rec.call(
        "teacher_sign_on",
        lambda: s.get(stack.url(f"/sso/clever/login?login_hint={person.clever_id}")),
    )
    if landed is None:
        return
    classes = rec.call("teacher_classes", lambda: s.get(stack.url("/classes/")))
    ids = sorted(set(re.findall(r'href="/classes/(\d+)/"', classes.text if classes else "")))
    for _ in range(rounds):
        if time.monotonic() > stop:
            return
        for section in ids[:1]:
            rec.call("class_page", lambda section=section: s.get(stack.url(f"/classes/{section}/")))
            rec.call(
                "link_suggestions",
                lambda section=section: s.get(stack.url(f"/classes/{section}/link/suggestions/")),
            )
        time.sleep(1.0)


def admin(stack: Stack, rec: Recorder, plan_b: bytes, stop: float, state: dict[str, Any]) -> None:
    s = _session(stack, "127.0.0.50")
    page = rec.call("admin_sign_in_page", lambda: s.get(stack.url("/sign-in/")))
    rec.call(
        "password_sign_in",
        lambda: s.post(
            stack.url("/sign-in/"),
            data={
                "csrfmiddlewaretoken": _token(page),
                "panel": "staff",
                "email": golive.ADMIN_EMAIL,
                "password": golive.ADMIN_PASSWORD,
            },
            headers={"Referer": stack.url("/sign-in/")},
            allow_redirects=False,
        ),
    )
    roster = rec.call("roster_page", lambda: s.get(stack.url("/school/roster/")))
    rec.call(
        "roster_sync_start",
        lambda: s.post(
            stack.url("/school/roster/sync"),
            data={"csrfmiddlewaretoken": _token(roster)},
            headers={"Referer": stack.url("/school/roster/")},
        ),
    )
    rec.note("roster sync started")
    plan = rec.call("plan_b_page", lambda: s.get(stack.url("/plan-b/")))
    uploaded = rec.call(
        "plan_b_upload_500_rows",
        lambda: s.post(
            stack.url("/plan-b/upload/"),
            data={"csrfmiddlewaretoken": _token(plan)},
            files={"file": ("logins-filled-in.csv", plan_b, "text/csv")},
            headers={"Referer": stack.url("/plan-b/")},
            allow_redirects=False,
        ),
        expect=(302,),
    )
    if uploaded is None or "Location" not in uploaded.headers:
        return
    job = uploaded.headers["Location"].rstrip("/")
    state["job_path"] = job
    rec.note("plan B uploaded")
    _wait_job(stack, s, rec, job, stop, "matched")
    page = rec.call("plan_b_job_page", lambda: s.get(stack.url(f"{job}/")))
    rec.call(
        "plan_b_confirm_sure",
        lambda: s.post(
            stack.url(f"{job}/confirm-sure/"),
            data={"csrfmiddlewaretoken": _token(page)},
            headers={"Referer": stack.url(f"{job}/")},
        ),
    )
    # The typed names are right but the old accounts' classes say little (seeded), so
    # the matcher proposes them "to review": the admin confirms rows one by one, as on the
    # page (the row ids come from the database instead of from parsing 500 rows of HTML).
    token = _token(page)
    for row_id in state.get("rows_to_confirm", lambda: [])():
        if time.monotonic() > stop:
            break
        rec.call(
            "plan_b_confirm_row",
            lambda row_id=row_id: s.post(
                stack.url(f"{job}/rows/{row_id}/"),
                data={"csrfmiddlewaretoken": token, "action": "confirm"},
                headers={"Referer": stack.url(f"{job}/")},
                allow_redirects=False,
            ),
        )
    page = rec.call("plan_b_job_page", lambda: s.get(stack.url(f"{job}/")))
    rec.call(
        "plan_b_merge_start",
        lambda: s.post(
            stack.url(f"{job}/merge/"),
            data={"csrfmiddlewaretoken": _token(page)},
            headers={"Referer": stack.url(f"{job}/")},
        ),
    )
    rec.note("plan B merge started")
    state["merge_started"] = time.monotonic()
    final = _wait_job(stack, s, rec, job, stop, None)
    rec.note(f"plan B job ended: {final}")
    if final.get("finished") and final.get("status") != "done":
        # A merge whose worker died is marked failed once its heartbeat is stale
        # (JOBS_STALE_SECONDS); the admin presses Merge again for the rows still to go.
        page = rec.call("plan_b_job_page", lambda: s.get(stack.url(f"{job}/")))
        rec.call(
            "plan_b_merge_restart",
            lambda: s.post(
                stack.url(f"{job}/merge/"),
                data={"csrfmiddlewaretoken": _token(page)},
                headers={"Referer": stack.url(f"{job}/")},
            ),
        )
        rec.note("plan B merge started again")
        final = _wait_job(stack, s, rec, job, stop, None)
        rec.note(f"plan B job ended: {final}")
    state["job_final"] = final


def _wait_job(
    stack: Stack, s: Any, rec: Recorder, job: str, stop: float, want: str | None
) -> dict[str, Any]:
    status: dict[str, Any] = {}
    while time.monotonic() < stop:
        response = rec.call("plan_b_poll", lambda: s.get(stack.url(f"{job}.json")))
        if response is not None and response.status_code == 200:
            status = response.json()
            if status.get("finished") and (want is None or status.get("status") == want):
                return status
        time.sleep(1.0)
    return status


# --- the run ------------------------------------------------------------------------------
def simulate(stack: Stack, info: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    rec = Recorder()
    stop = time.monotonic() + args.deadline
    kids, staff = golive.people(args.students, args.teachers)
    state: dict[str, Any] = {"rows_to_confirm": lambda: rows_to_confirm(stack, args.plan_b_rows)}
    done = Counter[str]()

    def one_student(i: int) -> None:
        if time.monotonic() < stop:
            student(stack, rec, i, kids[i], info["get_records_usernames"][i], wrong=i % 10 == 0)
        with rec.lock:
            done["students"] += 1

    chaos_log: list[str] = []

    def chaos() -> None:
        # One gunicorn worker once a third of the children are through, then the
        # db_worker once the Plan B merge runs; the worker comes back 3 s later.
        while time.monotonic() < stop and done["students"] < args.students // 3:
            time.sleep(0.2)
        pids = stack.web_worker_pids()
        if pids:
            os.kill(pids[0], 9)
            rec.note(f"kill -9 gunicorn worker {pids[0]}")
            chaos_log.append(f"killed gunicorn worker {pids[0]} after {done['students']} students")
        while time.monotonic() < stop and "merge_started" not in state:
            time.sleep(0.2)
        time.sleep(1.5)
        for name in [n for n in stack.processes if n.startswith("worker")][:1]:
            stack.kill(name)
            rec.note(f"kill -9 {name}")
            into = time.monotonic() - state.get("merge_started", 0)
            chaos_log.append(f"killed {name} {into:.1f} s into the merge")
            time.sleep(3)
            stack.start_worker(99)
            rec.note("db_worker restarted")
            chaos_log.append("restarted the db_worker")

    machine_before, stack_before = cpu_times(), _stack_cpu(stack)
    wall = time.monotonic()
    threads = [threading.Thread(target=admin, args=(stack, rec, info["plan_b"], stop, state))]
    if args.chaos:
        threads.append(threading.Thread(target=chaos))
    for thread in threads:
        thread.start()
    with (
        ThreadPoolExecutor(max_workers=6) as teachers_pool,
        ThreadPoolExecutor(max_workers=args.concurrency) as students_pool,
    ):
        teacher_jobs = [
            teachers_pool.submit(teacher, stack, rec, t, staff[t], 3, stop)
            for t in range(args.teachers)
        ]
        list(students_pool.map(one_student, range(args.students)))
        students_done = time.monotonic()
        for job in teacher_jobs:
            job.result()
    for thread in threads:
        thread.join(timeout=max(1.0, stop - time.monotonic()))
    wall_end = time.monotonic()
    machine_after, stack_after = cpu_times(), _stack_cpu(stack)
    busy = (machine_after[0] - machine_before[0]) / max(1.0, machine_after[1] - machine_before[1])
    return {
        "rec": rec,
        "state": state,
        "students_seconds": students_done - wall,
        "wall_seconds": wall_end - wall,
        "machine_busy_share": busy,
        "stack_cpu_seconds": stack_after - stack_before,
        "chaos": chaos_log,
    }


def rows_to_confirm(stack: Stack, limit: int) -> list[int]:
    import psycopg

    with psycopg.connect(stack.database_url) as conn:
        rows = conn.execute(
            "SELECT id FROM matching_namematchrow WHERE proposed_student_id IS NOT NULL "
            "AND review_state = 'pending' ORDER BY row_number LIMIT %s",
            (limit,),
        ).fetchall()
    return [row[0] for row in rows]


def _stack_cpu(stack: Stack) -> float:
    return sum(tree_cpu_seconds(p.pid) for p in stack.processes.values() if p.poll() is None)


def sql_checks(database_url: str, info: dict[str, Any], history_before: int) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(database_url) as conn:

        def one(query: str) -> Any:
            return conn.execute(query).fetchone()[0]  # type: ignore[index]

        return {
            "history_rows_before": history_before,
            "history_rows_after": one("SELECT count(*) FROM progress_practicerecord"),
            "legacy_merged_twice": one(
                "SELECT count(*) FROM (SELECT legacy_id FROM merging_merge "
                "WHERE undone_at IS NULL GROUP BY legacy_id HAVING count(*) > 1) t"
            ),
            "live_merges": one("SELECT count(*) FROM merging_merge WHERE undone_at IS NULL"),
            # A merged old account's rows all moved to its merge's target ...
            "rows_not_on_their_merge_target": one(
                "SELECT count(*) FROM progress_practicerecord p JOIN merging_merge m "
                "ON m.legacy_id = p.origin_student_id AND m.undone_at IS NULL "
                "WHERE p.student_id <> m.target_id"
            ),
            # ... and an old account not merged still owns every row it had.
            "rows_of_unmerged_elsewhere": one(
                "SELECT count(*) FROM progress_practicerecord p JOIN accounts_user u "
                "ON u.id = p.origin_student_id WHERE u.is_legacy AND NOT EXISTS ("
                "SELECT 1 FROM merging_merge m WHERE m.legacy_id = u.id AND m.undone_at IS NULL)"
                " AND p.student_id <> u.id"
            ),
            "rows_without_a_student": one(
                "SELECT count(*) FROM progress_practicerecord p LEFT JOIN accounts_user u "
                "ON u.id = p.student_id WHERE u.id IS NULL"
            ),
            "merged_state_without_live_merge": one(
                "SELECT count(*) FROM accounts_user u WHERE u.seat_state = 'merged' AND NOT "
                "EXISTS (SELECT 1 FROM merging_merge m WHERE m.legacy_id = u.id "
                "AND m.undone_at IS NULL)"
            ),
            "live_merge_of_unmerged_state": one(
                "SELECT count(*) FROM merging_merge m JOIN accounts_user u ON u.id = m.legacy_id "
                "WHERE m.undone_at IS NULL AND u.seat_state <> 'merged'"
            ),
            "syncs": dict(
                conn.execute(
                    "SELECT status, count(*) FROM rostering_rostersync GROUP BY status"
                ).fetchall()
            ),
            "plan_b_jobs": dict(
                conn.execute(
                    "SELECT status, count(*) FROM matching_namematchjob GROUP BY status"
                ).fetchall()
            ),
            "plan_b_rows": dict(
                zip(
                    ("rows", "merged", "confirmed"),
                    conn.execute(
                        "SELECT count(*), count(*) FILTER (WHERE merge_id IS NOT NULL), "
                        "count(*) FILTER (WHERE review_state = 'confirmed') "
                        "FROM matching_namematchrow"
                    ).fetchone()
                    or (),
                    strict=False,
                )
            ),
            "tasks": dict(
                conn.execute(
                    "SELECT status, count(*) FROM django_tasks_database_dbtaskresult GROUP BY 1"
                ).fetchall()
            ),
        }


def summarize(result: dict[str, Any], capacity: list[float], checks: dict[str, Any]) -> dict:
    rec: Recorder = result["rec"]
    kinds = {}
    for kind, values in sorted(rec.samples.items()):
        kinds[kind] = {
            "count": len(values),
            "errors": rec.errors.get(kind, 0),
            "p50_ms": round(percentile(values, 50) * 1000),
            "p95_ms": round(percentile(values, 95) * 1000),
            "p99_ms": round(percentile(values, 99) * 1000),
            "mean_ms": round(statistics.fmean(values) * 1000),
        }
    for kind, count in rec.errors.items():
        kinds.setdefault(kind, {"count": 0, "errors": count})
    total = sum(len(v) for v in rec.samples.values())
    checking = sum(
        len(rec.samples.get(k, []))
        for k in (
            "sign_on",
            "teacher_sign_on",
            "password_sign_in",
            "preview",
            "preview_wrong_passcode",
            "confirm",
        )
    )
    hashing = sum(
        len(rec.samples.get(k, []))
        for k in ("password_sign_in", "preview", "preview_wrong_passcode")
    )
    seconds = result["students_seconds"]
    limit = statistics.fmean(capacity)
    return {
        "requests": total,
        "errors": sum(rec.errors.values()),
        "error_examples": rec.error_examples,
        "wall_seconds": round(result["wall_seconds"], 1),
        "students_phase_seconds": round(seconds, 1),
        "throughput_rps": round(total / result["wall_seconds"], 1),
        "passcode_checking_rps": round(checking / seconds, 2),
        "passcode_verifications_rps": round(hashing / seconds, 2),
        "physical_limit_verifications_per_s": [round(c, 2) for c in capacity],
        "ratio_to_physical_limit": round(checking / seconds / limit, 2),
        "machine_busy_share": round(result["machine_busy_share"], 2),
        "stack_cpu_seconds": round(result["stack_cpu_seconds"], 1),
        "stack_share_of_machine": round(
            result["stack_cpu_seconds"] / (result["wall_seconds"] * os.cpu_count()), 2
        ),
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "per_kind": kinds,
        "timeline": rec.timeline,
        "chaos": result["chaos"],
        "plan_b_job_final": result["state"].get("job_final"),
        "sql": checks,
    }


def wait_for_jobs(database_url: str, seconds: float) -> None:
    """After the load: let the worker finish (or the chaos run's restarted one pick up)."""
    import psycopg

    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        with psycopg.connect(database_url) as conn:
            busy = conn.execute(
                "SELECT (SELECT count(*) FROM rostering_rostersync WHERE status IN "
                "('queued','running')) + (SELECT count(*) FROM matching_namematchjob WHERE "
                "status IN ('matching','merging'))"
            ).fetchone()[0]  # type: ignore[index]
        if not busy:
            return
        time.sleep(2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--teachers", type=int, default=30)
    parser.add_argument("--db-workers", type=int, default=1, choices=(1, 2))
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument(
        "--plan-b-rows", type=int, default=100, help="Plan B rows the admin confirms and merges"
    )
    parser.add_argument("--deadline", type=float, default=900, help="seconds; then it stops")
    parser.add_argument(
        "--chaos", action="store_true", help="kill -9 a web worker and the db_worker"
    )
    parser.add_argument("--json", type=Path, help="write the report here too")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and database")
    args = parser.parse_args(argv)
    # A stopped run still stops its stack (nginx, gunicorn, the workers, the sandbox).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    server = os.environ.get("LOADTEST_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432")
    name = "bench_golive"
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    database_url = f"{server}/{name}"
    workdir = Path(tempfile.mkdtemp(prefix="carryover-golive-"))
    clever = golive.write_clever_data(workdir / "clever.json", args.students, args.teachers)
    stack = Stack(
        workdir,
        database_url=database_url,
        redis_url=redis_url,
        web_workers=2,
        db_workers=args.db_workers,
        clever_data=str(clever),
        # The load comes from 20 classroom addresses; Plan B's 500 rows match in the request.
        # The admin signs in with the password alone (the TOTP step is not what is measured).
        extra_env={"LOG_LEVEL": "WARNING", "STAFF_SECOND_FACTOR": "0"},
    )
    try:
        print(f"work folder {workdir}; preparing the database ...", flush=True)
        stack.prepare()
        stack.start_sandbox()
        stack.wait_until_up_sandbox()
        driver = stack.env()
        driver.update(CARRYOVER_MODE="development", CARRYOVER_VAR_DIR=str(workdir / "driver"))
        os.environ.update(driver)
        import django

        django.setup()
        started = time.monotonic()
        info = golive.build(
            students=args.students,
            teachers=args.teachers,
            sandbox_api=f"{stack.sandbox_url}/clever",
        )
        info["plan_b"] = golive.plan_b_file(info["plan_b_usernames"], args.students, args.teachers)
        print(f"world built in {time.monotonic() - started:.0f} s; starting the stack", flush=True)
        from django.db import connections

        from carryover.progress.models import PracticeRecord

        history_before = PracticeRecord.objects.count()
        connections.close_all()
        stack.start_web()
        for index in range(args.db_workers):
            stack.start_worker(index)
        stack.start_nginx()
        stack.wait_until_up()
        capacity = [passcode_capacity()]
        print(f"physical limit: {capacity[0]:.1f} verifications/s; simulating ...", flush=True)
        result = simulate(stack, info, args)
        wait_for_jobs(database_url, 180)
        capacity.append(passcode_capacity())
        report = summarize(result, capacity, sql_checks(database_url, info, history_before))
        report["run"] = {
            "chaos": args.chaos,
            "students": args.students,
            "teachers": args.teachers,
            "db_workers": args.db_workers,
            "concurrency": args.concurrency,
            "cpus": os.cpu_count(),
        }
        text = json.dumps(report, indent=2, default=str)
        print(text)
        if args.json:
            args.json.write_text(text)
        return 0
    finally:
        stack.stop()
        if not args.keep:
            with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    raise SystemExit(main())
