"""The Clever sandbox's event log: what its `GET /v3.0/events` serves.

The log opens with one `<record>.created` event for every object of the data set
(the district, schools, terms, users, sections, in that order: what Clever sends when a
district shares its data with an app), followed by the events added since by tests or
the demo (`add_event`, or `POST /sandbox/clever/admin/events`). Added events live in
Django's cache beside the sandbox's codes and tokens (the sandboxes have no tables),
under the data set's version, so a new data file starts a new log. The Data API serves
the data set with the added events applied: a bulk read and the events agree.

Event ids are 24 hex digits like Clever's ObjectIDs (a time, then a counter), so
sorting by id is the log's order. An event is `{"id", "type", "created",
"data": {"object": {...}}}`, the object whole (for a deletion, its last state).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from typing import Any

from django.conf import settings
from django.core.cache import cache

from carryover.sandbox.datasets import (
    CleverData,
    Collection,
    clever_data_from,
    dataset_key,
    load_clever,
)

ACTIONS = ("created", "updated", "deleted")
# Every record type of Clever's Events API v3.0 description.
RECORD_TYPES = ("courses", "districts", "resources", "schools", "sections", "terms", "users")
# The ones the sandbox's Data API serves (courses and resources it has not).
_STATE_LISTS = ("schools", "sections", "terms", "users")
_TIME_PREFIX = "688c0380"  # 2025-08-01T00:00:00Z in seconds, as an ObjectID starts
_DATA_SET_CREATED = "2025-08-01T00:00:00.000Z"

_memo_lock = threading.Lock()
_write_lock = threading.Lock()  # one writer at a time: the log is read, extended, stored whole
# (data set key, life, number of added events) -> (state, log); only the latest kept
_derived: dict[tuple[str, str, int], tuple[CleverData, Collection]] = {}


def _event_id(n: int) -> str:
    return f"{_TIME_PREFIX}{n:016x}"


def _now() -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _cache_key(key: str) -> str:
    return f"sandbox:clever-events:{key}"


def _added(key: str) -> tuple[str, list[dict[str, Any]]]:
    """(the log's life, [{"event": {...}, "apply": bool}] in the order they were added).
    A life is a random name given when the first event is added: event ids start again
    after the cache is cleared, so (life, count) tells one log from another."""
    raw = cache.get(_cache_key(key))
    if not raw:
        return "", []
    stored = json.loads(raw)
    return str(stored["life"]), list(stored["added"])


def _base_objects(base: CleverData) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("districts", base.district),
        *(("schools", o) for o in base.schools.items),
        *(("terms", o) for o in base.terms.items),
        *(("users", o) for o in base.users.items),
        *(("sections", o) for o in base.sections.items),
    ]


def _apply(base: CleverData, added: list[dict[str, Any]]) -> CleverData:
    state: dict[str, Any] = {
        "district": base.district,
        **{name: {str(o["id"]): o for o in getattr(base, name).items} for name in _STATE_LISTS},
    }
    for entry in added:
        if not entry["apply"]:
            continue
        event = entry["event"]
        record, _, action = event["type"].partition(".")
        obj = event["data"]["object"]
        if record == "districts" and action != "deleted":
            state["district"] = obj
        elif record in _STATE_LISTS:
            if action == "deleted":
                state[record].pop(str(obj["id"]), None)
            else:
                state[record][str(obj["id"])] = obj
    return clever_data_from(
        {
            "district": state["district"],
            **{name: list(state[name].values()) for name in _STATE_LISTS},
        }
    )


def _derive(path: str) -> tuple[CleverData, Collection, str, list[dict[str, Any]], str]:
    base = load_clever(path)
    key = dataset_key(path)
    life, added = _added(key)
    memo = (key, life, len(added))
    with _memo_lock:
        hit = _derived.get(memo)
    if hit is None:
        state = _apply(base, added) if added else base
        log = [
            {
                "id": _event_id(n),
                "type": f"{record}.created",
                "created": str(obj.get("created") or _DATA_SET_CREATED),
                "data": {"object": obj},
            }
            for n, (record, obj) in enumerate(_base_objects(base), start=1)
        ]
        log += [entry["event"] for entry in added]
        hit = (state, Collection(log))
        with _memo_lock:
            _derived.clear()
            _derived[memo] = hit
    return hit[0], hit[1], key, added, life


def current_data() -> CleverData:
    """The data set as it stands after the added events (the data set itself without)."""
    base = load_clever(settings.SANDBOX_CLEVER_DATA)
    if not _added(dataset_key(settings.SANDBOX_CLEVER_DATA))[1]:
        return base
    return _derive(settings.SANDBOX_CLEVER_DATA)[0]


def event_log() -> Collection:
    """Every event, oldest first (the Collection is sorted by id, which is that order)."""
    return _derive(settings.SANDBOX_CLEVER_DATA)[1]


def _store(key: str, life: str, added: list[dict[str, Any]]) -> None:
    stored = {"life": life or secrets.token_hex(8), "added": added}
    cache.set(_cache_key(key), json.dumps(stored), None)


def add_event(event_type: str, obj: dict[str, Any], *, created: str = "") -> dict[str, Any]:
    """Append a `<record>.<created|updated|deleted>` event carrying `obj` (the whole object
    after the change; for a deletion `{"id": ...}` is enough: the sandbox fills in the last
    state) and apply it to what the Data API serves. Returns the event. ValueError for an
    unknown type or an object without an id."""
    record, _, action = event_type.partition(".")
    if record not in RECORD_TYPES or action not in ACTIONS:
        raise ValueError(f"unknown event type {event_type!r}")
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
        raise ValueError("the object needs a string id")
    path = settings.SANDBOX_CLEVER_DATA
    with _write_lock:
        state, log, key, added, life = _derive(path)
        obj = dict(obj)
        if action == "deleted" and record in _STATE_LISTS:
            last = getattr(state, record).get(obj["id"])
            obj = dict(last) if last is not None else obj
        if record in ("schools", "sections", "terms", "users"):
            obj.setdefault("district", str(state.district["id"]))
        event = {
            "id": _event_id(len(log.items) + 1),
            "type": event_type,
            "created": created or _now(),
            "data": {"object": obj},
        }
        _store(key, life, [*added, {"event": event, "apply": True}])
    return event


def append_raw(event: dict[str, Any]) -> dict[str, Any]:
    """Append an event exactly as given (an id and time are added when it has none), NOT
    applied to the data: for tests of a provider that sends something malformed."""
    path = settings.SANDBOX_CLEVER_DATA
    with _write_lock:
        _state, log, key, added, life = _derive(path)
        event = {"id": _event_id(len(log.items) + 1), "created": _now(), **event}
        _store(key, life, [*added, {"event": event, "apply": False}])
    return event


def reset() -> None:
    """Forget the added events (the log is the data set's again)."""
    cache.delete(_cache_key(dataset_key(settings.SANDBOX_CLEVER_DATA)))


def matches(event: dict[str, Any], record_types: list[str], school: str) -> bool:
    """The `record_type` and `school` filters of `GET /v3.0/events`."""
    record = str(event.get("type", "")).partition(".")[0]
    if record_types and record.rstrip("s") not in {r.rstrip("s") for r in record_types}:
        return False
    if not school:
        return True
    obj = (event.get("data") or {}).get("object") or {}
    if record == "schools":
        return bool(obj.get("id") == school)
    if record == "sections":
        return bool(obj.get("school") == school)
    if record == "users":
        for details in (obj.get("roles") or {}).values():
            details = details or {}
            if details.get("school") == school or school in (details.get("schools") or []):
                return True
    return False
