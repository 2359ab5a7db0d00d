"""Every example in the contract, of every operation, is valid against the schema it illustrates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest

from conformance import contract


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = contract.load()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def schema_examples() -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for every `examples` entry of every component schema and property."""
    for name, schema in contract.load()["components"]["schemas"].items():
        for index, example in enumerate(schema.get("examples", [])):
            yield f"schemas.{name}.examples[{index}]", {"$ref": f"#/components/schemas/{name}"}, example
        for prop, sub in schema.get("properties", {}).items():
            for index, example in enumerate(sub.get("examples", [])):
                yield f"schemas.{name}.{prop}.examples[{index}]", sub, example


def operations() -> Iterator[tuple[str, dict[str, Any]]]:
    """(operationId, operation) for every operation of the contract."""
    for item in contract.load()["paths"].values():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch"):
                yield operation["operationId"], operation


def responses(operation: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(status code, response object) of an operation, `$ref`s to shared responses resolved."""
    for code, response in operation["responses"].items():
        yield code, _resolve(response)


def media_examples() -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for every request and response media-type example of every operation."""
    for op_id, operation in operations():
        media = []
        if "requestBody" in operation:
            media.append((f"{op_id}.requestBody", operation["requestBody"]["content"]["application/json"]))
        media += [(f"{op_id}.responses.{code}", r["content"]["application/json"]) for code, r in responses(operation)]
        for where, content in media:
            for name, example in content.get("examples", {}).items():
                yield f"{where}.examples.{name}", content["schema"], _resolve(example)["value"]


def header_examples() -> Iterator[tuple[str, dict[str, Any], Any]]:
    for name, header in contract.load()["components"]["headers"].items():
        yield f"headers.{name}.example", header["schema"], header["example"]


def parameter_examples() -> Iterator[tuple[str, dict[str, Any], Any]]:
    for name, parameter in contract.load()["components"].get("parameters", {}).items():
        for index, example in enumerate(parameter["schema"].get("examples", [])):
            yield f"parameters.{name}.examples[{index}]", parameter["schema"], example


ALL = list(schema_examples()) + list(media_examples()) + list(header_examples()) + list(parameter_examples())


@pytest.mark.parametrize(("where", "schema", "example"), ALL, ids=[where for where, _, _ in ALL])
def test_example_is_valid_against_its_schema(where: str, schema: dict[str, Any], example: Any) -> None:
    validator = jsonschema_rs.Draft202012Validator(
        {**schema, "components": contract.load()["components"]}, validate_formats=True
    )
    errors = [error.message for error in validator.iter_errors(example)]
    assert not errors, f"{where}: {errors}"


def test_every_schema_and_response_has_an_example() -> None:
    schemas = contract.load()["components"]["schemas"]
    assert [name for name, schema in schemas.items() if not schema.get("examples")] == []
    missing = [
        f"{op_id} {code}"
        for op_id, operation in operations()
        for code, r in responses(operation)
        if not r["content"]["application/json"].get("examples")
    ]
    assert missing == []


def test_examples_are_not_vacuous() -> None:
    # The walk must find examples of every kind and of every operation, or the tests above prove nothing.
    assert len(list(schema_examples())) >= 15
    assert len(list(media_examples())) >= 24
    assert {op_id for op_id, _ in operations()} == {
        "request_internal_phone_number",
        "get_phone_number",
        "delete_phone_number",
    }
    assert {where.split(".")[0] for where, _, _ in media_examples()} == {op_id for op_id, _ in operations()}
    assert list(parameter_examples())
