"""gunicorn for carryover (`gunicorn --config deploy/gunicorn.conf.py carryover.wsgi`).

Read by carryover-web.service; every value can be changed from the environment
(GUNICORN_*), so the unit and this file stay as shipped.

- Workers: GUNICORN_WORKERS, default one per CPU core plus one. The heavy work of a
  request is checking a passcode hash (PBKDF2, which releases the GIL), so processes
  beyond the cores add only memory.
- Threads: GUNICORN_THREADS (default 4) per worker, gthread workers. With threads the
  worker's `timeout` is how long it may fail to report to the master, not a limit on a
  request: a streamed export of 100,000 rows (about 10 s) or a slow upload never trips
  it, while a worker that is really stuck is still replaced. nginx's proxy timeouts
  (deploy/nginx/carryover.conf) bound each read instead.
- graceful_timeout: a restart (deploy) lets running exports finish for two minutes.
- Logs: gunicorn's own lines as JSON like the app's (carryover/ops/logs.py); the access
  log is the app's (with the request id), so gunicorn's is off.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 120)
keepalive = 5  # nginx keeps its upstream connections open (keepalive in the site)
# Recycle workers now and then (a leak never grows without bound), not all at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10
# The proxy in front decides the client address (TRUSTED_PROXIES in the app); gunicorn only
# needs to believe its X-Forwarded-Proto, from the same addresses.
forwarded_allow_ips = os.environ.get("TRUSTED_PROXIES", "127.0.0.1,::1")
proc_name = os.environ.get("GUNICORN_PROC_NAME", "carryover-web")
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "carryover.ops.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
    "root": {"handlers": ["console"], "level": loglevel.upper()},
}
