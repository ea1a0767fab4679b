"""Check sandbox answers against Clever's published OpenAPI (Swagger 2.0) description.

`../shared/data/clever-openapi/v3.0.yml` is turned into JSON Schema (draft 4, which
Swagger 2.0 schemas are): `x-nullable: true` becomes "or null". Checks are stricter
than the description in one way: an object may carry only the properties the
description lists (except the free-form `ext`), so a misspelt or invented field in the
sandbox fails the test instead of passing silently.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT.parent / "shared" / "data" / "clever-openapi" / "v3.0.yml"
SANDBOX_PREFIX = "/sandbox/clever"


@cache
def spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        pytest.skip(f"Clever's OpenAPI description is not at {SPEC_PATH} (../shared/data)")
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    nullable = node.get("x-nullable") is True
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-"):
            continue
        if key == "properties":
            out[key] = {name: _convert(prop) for name, prop in value.items()}
        else:
            out[key] = _convert(value)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if nullable:
        if "$ref" in out:
            return {"anyOf": [{"$ref": out["$ref"]}, {"type": "null"}]}
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


@cache
def _definitions() -> dict[str, Any]:
    return {name: _convert(schema) for name, schema in spec()["definitions"].items()}


def _schema(raw: dict[str, Any]) -> dict[str, Any]:
    return {**_convert(copy.deepcopy(raw)), "definitions": _definitions()}


def _operation(path: str) -> tuple[str, dict[str, Any]]:
    base = spec()["basePath"]
    assert path.startswith(SANDBOX_PREFIX + base), path
    relative = path[len(SANDBOX_PREFIX + base) :] or "/"
    for template, item in spec()["paths"].items():
        pattern = (
            "^"
            + re.sub(
                r"\{[^/]+\}", "[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
            )
            + "$"
        )
        if re.match(pattern, relative):
            return template, item["get"]
    raise AssertionError(f"{relative} is not a path of Clever's Data API v3.0")


def validate_clever(path: str, params: dict[str, str], status: int, body: Any) -> str:
    """Assert one GET answer of the Clever sandbox speaks the published description.
    Returns the operation's path template."""
    template, operation = _operation(path)
    declared = {p["name"]: p for p in operation.get("parameters", []) if p.get("in") == "query"}
    for name, value in params.items():
        assert name in declared, f"{template} has no query parameter {name!r}"
        if "enum" in declared[name]:
            assert value in declared[name]["enum"], f"{name}={value!r} not in its enum"
    responses = operation["responses"]
    if str(status) in responses:
        response = responses[str(status)]
        if "$ref" in response:
            response = spec()["responses"][response["$ref"].rsplit("/", 1)[-1]]
    elif status == 400:
        response = spec()["responses"]["BadRequest"]
    else:
        raise AssertionError(f"{template} does not document status {status}")
    jsonschema.Draft4Validator(_schema(response["schema"])).validate(body)
    return template
