"""One JSON object per log line (python-json-logger), for journald and log shippers.

Every line: `time` (UTC, ISO 8601 with milliseconds), `level`, `logger`, `message`, and
within a request `request_id`, `user_id` and `role`. Nothing else from the record is
copied unless named in ALLOWED_EXTRA: Django attaches the request object to its own
records, whose text carries the query string (a sign-on callback's `code`). Our code
logs no names, usernames, passcodes or tokens; a message or traceback that quotes one
the request knows (the signed-in person's, a submitted value) has it replaced by
"[removed]" (`context.note_personal`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from carryover.ops import context

# Extra fields a log call may add (the access log's, a job's id, gunicorn's status).
ALLOWED_EXTRA = (
    "method",
    "path",
    "status",
    "duration_ms",
    "bytes",
    "client_ip",
    "streaming",
    "view",
    "job_id",
    "task_id",
    "status_code",
)


class JsonFormatter(_JsonFormatter):
    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = (
            datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
        ).replace("+00:00", "Z")
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.getMessage()
        current = context.current()
        if current is not None:
            log_data["request_id"] = current.request_id
            log_data["user_id"] = current.user_id
            log_data["role"] = current.role
        for key in ALLOWED_EXTRA:
            if key in record.__dict__:
                log_data[key] = record.__dict__[key]
        for key in ("exc_info", "stack_info"):
            if message_dict.get(key):
                log_data[key] = message_dict[key]
        if current is not None and current.personal_values:
            # A message or traceback that quotes what this request knows to be personal
            # (a name, a username, a typed passcode) gets it taken out, as in Sentry.
            values = sorted(current.personal_values, key=len, reverse=True)
            for key in ("message", "exc_info", "stack_info"):
                text = log_data.get(key)
                if isinstance(text, str):
                    for value in values:
                        text = text.replace(value, "[removed]")
                    log_data[key] = text


def logging_config(level: str) -> dict[str, Any]:
    """Django's LOGGING: everything to stderr as JSON (journald keeps it under systemd)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "carryover.ops.logs.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            # Our access log says the same, with the request id; Django's repeats it.
            "django.server": {"level": "WARNING"},
            # WeasyPrint (the instructions PDF) logs each render's steps and every browser-only
            # CSS property it skips; the PDF module logs what it refuses to fetch itself.
            "weasyprint": {"level": "ERROR"},
            # django-health-check logs every failed probe with its traceback; /readyz's
            # answer says the same, and a probe every few seconds would flood the log.
            "health_check": {"level": "ERROR"},
        },
    }
