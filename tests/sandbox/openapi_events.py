"""Check the Clever sandbox's Events API answers against Clever's published description
of it (`../shared/data/clever-openapi/v3.0-events.yml`, Swagger 2.0).

Swagger's `discriminator: type` on `Event` means: an event is checked against the
definition named like its type (`users.created`, `sections.deleted`, ...), each an
`allOf` of `Event` and the type's own properties. JSON Schema draft 4 has neither, so
each event is checked on its own against its type's definition with the `allOf` parts
merged into one object (under the no-invented-fields rule of `openapi.py` each part
alone would forbid the other's properties). A type the description does not name fails.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema
import pytest
import yaml

from tests.sandbox.openapi import ROOT, SANDBOX_PREFIX, _convert

EVENTS_SPEC_PATH = ROOT.parent / "shared" / "data" / "clever-openapi" / "v3.0-events.yml"
OPAQUE = {"type": "object"}  # an event inside the list envelope: checked on its own


@cache
def events_spec() -> dict[str, Any]:
    if not EVENTS_SPEC_PATH.exists():
        pytest.skip(f"Clever's Events API description is not at {EVENTS_SPEC_PATH}")
    return yaml.safe_load(EVENTS_SPEC_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _raw(ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in ref_or_schema:
        return events_spec()["definitions"][ref_or_schema["$ref"].rsplit("/", 1)[-1]]  # type: ignore[no-any-return]
    return ref_or_schema


def _merged(schema: dict[str, Any]) -> dict[str, Any]:
    if "allOf" not in schema:
        return schema
    properties: dict[str, Any] = {}
    required: list[str] = []
    for part in schema["allOf"]:
        part = _raw(part)
        properties.update(part.get("properties", {}))
        required += part.get("required", [])
    return {"type": "object", "properties": properties, "required": required}


@cache
def _definitions() -> dict[str, Any]:
    converted = {
        name: _convert(_merged(schema)) for name, schema in events_spec()["definitions"].items()
    }
    converted["Event"] = OPAQUE
    return converted


def event_types() -> set[str]:
    return {name for name in events_spec()["definitions"] if "." in name}


def _check(schema_name: str, body: Any) -> None:
    schema = {"$ref": f"#/definitions/{schema_name}", "definitions": _definitions()}
    jsonschema.Draft4Validator(schema).validate(body)


def validate_event(event: Any) -> None:
    """One event (what sits in `data` of an item) against the definition of its type."""
    assert isinstance(event, dict), event
    kind = event.get("type")
    assert kind in event_types(), f"{kind!r} is not an event type of Clever's Events API"
    _check(kind, event)


def validate_events(path: str, params: dict[str, Any], status: int, body: Any) -> None:
    """Assert one GET answer of the sandbox's `/v3.0/events` or `/v3.0/events/{id}`
    speaks the published description: parameters, envelope, and every event."""
    base = SANDBOX_PREFIX + events_spec()["basePath"]
    assert path.startswith(base + "/events"), path
    single = path != base + "/events"
    operation = events_spec()["paths"]["/events/{id}" if single else "/events"]["get"]
    declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    for name in params:
        assert name in declared, f"/events has no query parameter {name!r}"
    if status == 200:
        _check("EventResponse" if single else "EventsResponse", body)
        for item in [body] if single else body["data"]:
            validate_event(item["data"])
        return
    response = {404: "NotFound", 400: "BadRequest"}.get(status)
    assert response is not None, f"/events does not document status {status}"
    _check(response, body)
