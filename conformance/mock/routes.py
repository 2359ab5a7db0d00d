"""Which of the contract's paths a request is for, read from the contract (nothing restated here).

The rental has one literal path. A number's path, `/phone_number/{phone_number_id}/`, is found
by its operations' ids (`get_phone_number`, `delete_phone_number`); its methods and the id's
pattern are the contract's own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jsonschema_rs

from conformance import contract as contracts

if TYPE_CHECKING:
    from conformance.contract import Contract

NUMBER_OPERATIONS = (contracts.READ, contracts.RELEASE)
ID_LIMIT = 200  # of an id, at most this much is echoed in a message


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
        number_id = path[len(self.prefix) : len(path) - len(self.suffix)]
        return None if "/" in number_id else number_id  # one path segment: /phone_number/a/b/ is no number's

    def is_valid(self, number_id: str) -> bool:
        """Whether the id is of the form the contract gives it (else no number can have it)."""
        try:
            return bool(self.id_schema.is_valid(number_id))
        except (ValueError, OverflowError):
            return False


def number_route(contract: Contract | None = None) -> NumberRoute:
    """The number's route, from today's contract (where the number's operations are described)."""
    contract = contract or contracts.today()
    operations = [contract.operations[op] for op in NUMBER_OPERATIONS if op in contract.operations]
    if not operations:
        raise ValueError(f"contract {contract.path} describes no {' or '.join(NUMBER_OPERATIONS)}")
    path = operations[0].path
    parameter = next(
        parameter
        for operation in operations
        for _pointer, parameter in contract.parameters(operation).values()
        if parameter.get("in") == "path"
    )
    before, _, after = path.partition("{" + parameter["name"] + "}")
    schema = {**parameter["schema"], "components": contract.document.get("components", {})}
    return NumberRoute(
        prefix=contracts.API_PREFIX + before,
        suffix=after,
        methods=tuple(sorted(op.method for op in contract.operations.values() if op.path == path)),
        parameter=parameter["name"],
        id_schema=jsonschema_rs.Draft202012Validator(schema),
    )


@functools.cache
def today_route() -> NumberRoute:
    """The number's route of today's contract, built once per process."""
    return number_route()


def shown(number_id: str) -> str:
    """An id as a message may show it: ASCII, and at most ID_LIMIT characters."""
    text = number_id[:ID_LIMIT].encode("ascii", "backslashreplace").decode("ascii")
    return text + ("..." if len(number_id) > ID_LIMIT else "")
