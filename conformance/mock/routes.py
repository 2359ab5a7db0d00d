"""Which of the contract's paths a request is for, read from the contract (nothing restated here).

The rental has one literal path. A number's path, `/phone_number/{phone_number_id}/`, is found
by its operations' ids (`get_phone_number`, `delete_phone_number`); its methods and the id's
pattern are the contract's own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from conformance import contract as contracts

if TYPE_CHECKING:
    from conformance.contract import Contract

NUMBER_OPERATIONS = ("get_phone_number", "delete_phone_number")
ID_LIMIT = 200  # of an id, at most this much is echoed in a message


def _resolve(contract: Contract, node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = contract.document
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@dataclass(frozen=True)
class NumberRoute:
    """`<prefix>{phone_number_id}<suffix>` under the API's base path, the methods documented there."""

    prefix: str  # e.g. /api/v1/phone_number/
    suffix: str  # e.g. /
    methods: tuple[str, ...]  # upper case, sorted
    parameter: str
    id_schema: jsonschema_rs.Validator

    def number_id(self, path: str) -> str | None:
        """The id in a path of this route, or None when the path is not one."""
        if len(path) <= len(self.prefix) + len(self.suffix):
            return None
        if not (path.startswith(self.prefix) and path.endswith(self.suffix)):
            return None
        return path[len(self.prefix) : len(path) - len(self.suffix)]

    def is_valid(self, number_id: str) -> bool:
        """Whether the id is of the form the contract gives it (else no number can have it)."""
        try:
            return bool(self.id_schema.is_valid(number_id))
        except (ValueError, OverflowError):
            return False


def number_route(contract: Contract | None = None) -> NumberRoute:
    """The number's route, from today's contract (where the number's operations are described)."""
    contract = contract or contracts.today()
    for path, item in contract.document["paths"].items():
        operations = {
            method.upper(): spec
            for method, spec in item.items()
            if isinstance(spec, dict) and spec.get("operationId") in NUMBER_OPERATIONS
        }
        if not operations:
            continue
        parameters = [_resolve(contract, p) for p in item.get("parameters", [])]
        for spec in operations.values():
            parameters += [_resolve(contract, p) for p in spec.get("parameters", [])]
        parameter = next(p for p in parameters if p.get("in") == "path")
        before, _, after = str(path).partition("{" + parameter["name"] + "}")
        schema = {**parameter["schema"], "components": contract.document.get("components", {})}
        return NumberRoute(
            prefix=contracts.API_PREFIX + before,
            suffix=after,
            methods=tuple(sorted(operations)),
            parameter=parameter["name"],
            id_schema=jsonschema_rs.Draft202012Validator(schema),
        )
    raise ValueError(f"contract {contract.path} describes no {' or '.join(NUMBER_OPERATIONS)}")


@functools.cache
def today_route() -> NumberRoute:
    """The number's route of today's contract, built once per process."""
    return number_route()


def shown(number_id: str) -> str:
    """An id as a message may show it: ASCII, and at most ID_LIMIT characters."""
    text = number_id[:ID_LIMIT].encode("ascii", "backslashreplace").decode("ascii")
    return text + ("..." if len(number_id) > ID_LIMIT else "")
