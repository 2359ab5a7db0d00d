"""Every example in the contract is valid against the schema it illustrates."""

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


def media_examples() -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for every request and response media-type example."""
    operation = contract.operation()
    media = [("requestBody", operation["requestBody"]["content"]["application/json"])]
    media += [(f"responses.{code}", r["content"]["application/json"]) for code, r in operation["responses"].items()]
    for where, content in media:
        for name, example in content.get("examples", {}).items():
            yield f"{where}.examples.{name}", content["schema"], _resolve(example)["value"]


def header_examples() -> Iterator[tuple[str, dict[str, Any], Any]]:
    for name, header in contract.load()["components"]["headers"].items():
        yield f"headers.{name}.example", header["schema"], header["example"]


ALL = list(schema_examples()) + list(media_examples()) + list(header_examples())


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
    responses = contract.operation()["responses"]
    assert [code for code, r in responses.items() if not r["content"]["application/json"].get("examples")] == []


def test_examples_are_not_vacuous() -> None:
    # The walk must find examples of every kind, or the test above proves nothing.
    assert len(list(schema_examples())) >= 15
    assert len(list(media_examples())) >= 12
