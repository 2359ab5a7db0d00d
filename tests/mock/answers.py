"""Helpers for a number's GET and DELETE: rent one, and check an answer against the contract's operation."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema_rs

from conformance import contract
from tests.conftest import ADMIN, rent

NUMBER_PATH = "/phone_number/{phone_number_id}/"
OPERATIONS = {"GET": "get", "DELETE": "delete"}


def number_url(number_id: str) -> str:
    return contract.API_PREFIX + NUMBER_PATH.replace("{phone_number_id}", number_id)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = contract.load()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def documented(method: str, status: int) -> dict[str, Any] | None:
    """The contract's response object of a number operation for a status, or None if undocumented."""
    operation = contract.load()["paths"][NUMBER_PATH][OPERATIONS[method]]
    found = operation["responses"].get(str(status))
    return _resolve(found) if found is not None else None


def assert_number_answer(response: httpx.Response) -> None:
    """The answer to a number's GET or DELETE is documented, JSON, valid, with the headers required."""
    method = response.request.method
    spec = documented(method, response.status_code)
    assert spec is not None, f"{method}: undocumented status {response.status_code}: {response.text}"
    assert response.headers["content-type"] == "application/json"
    schema = {**spec["content"]["application/json"]["schema"], "components": contract.load()["components"]}
    errors = [e.message for e in jsonschema_rs.Draft202012Validator(schema).iter_errors(response.json())]
    assert not errors, f"{method} {response.status_code}: {errors}\n{response.text}"
    for header in spec.get("headers", {}):
        assert header.lower() in response.headers, f"{response.status_code} lacks {header}"


def rented(client: httpx.Client, body: dict[str, Any] | None = None, auth: Any = ADMIN) -> dict[str, Any]:
    """Rent a number (a US one unless told otherwise) and return the Phone Number."""
    response = rent(client, body or {"country": "US"}, auth=auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


def get(client: httpx.Client, number_id: str, auth: Any = ADMIN, **kwargs: Any) -> httpx.Response:
    return client.get(number_url(number_id), auth=auth, **kwargs)


def delete(client: httpx.Client, number_id: str, auth: Any = ADMIN, **kwargs: Any) -> httpx.Response:
    return client.delete(number_url(number_id), auth=auth, **kwargs)
