"""The contract file, found once and shared by the mock, the suite and the tests.

Nothing in this project restates a constraint of the contract: whoever needs one loads it
from here (the request validator, response schemas, status codes, examples).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, cast

import jsonschema_rs
import yaml

CONTRACT_NAME = "close-phone-numbers.yaml"
OPERATION_PATH = "/phone_number/request/internal/"
OPERATION_METHOD = "post"
API_PREFIX = "/api/v1"


def contract_path() -> Path:
    """Return the contract: the copy packaged in the wheel, else the repository's file."""
    packaged = Path(__file__).parent / "_contract" / CONTRACT_NAME
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "openapi" / CONTRACT_NAME


@functools.cache
def load() -> dict[str, Any]:
    """Parse the contract once per process."""
    with contract_path().open(encoding="utf-8") as handle:
        return cast("dict[str, Any]", yaml.safe_load(handle))


def operation() -> dict[str, Any]:
    """Return the one operation object of the contract."""
    return cast("dict[str, Any]", load()["paths"][OPERATION_PATH][OPERATION_METHOD])


def schema_ref(name: str) -> dict[str, Any]:
    """Return a self-contained JSON Schema that points at `components.schemas.<name>`."""
    return {"$ref": f"#/components/schemas/{name}", "components": load()["components"]}


def request_schema_name() -> str:
    """Return the component name of the request body schema."""
    ref = operation()["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return cast("str", ref.rsplit("/", 1)[-1])


def documented_statuses() -> frozenset[int]:
    """Return the HTTP status codes the contract documents for the operation."""
    return frozenset(int(code) for code in operation()["responses"])


@functools.cache
def validator(name: str) -> jsonschema_rs.Validator:
    """Return a compiled validator for one component schema (formats checked)."""
    return jsonschema_rs.Draft202012Validator(schema_ref(name), validate_formats=True)


def request_validator() -> jsonschema_rs.Validator:
    """Return the compiled validator of the request body."""
    return validator(request_schema_name())


def response_schema_name(status: int) -> str | None:
    """Return the component schema name of a documented response, or None if undocumented."""
    response = operation()["responses"].get(str(status))
    if response is None:
        return None
    ref = response["content"]["application/json"]["schema"]["$ref"]
    return cast("str", ref.rsplit("/", 1)[-1])


def enum_values(name: str) -> tuple[str, ...]:
    """Return the values of an enum component schema."""
    return tuple(load()["components"]["schemas"][name]["enum"])
