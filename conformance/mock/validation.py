"""The validation stage: a request body against the contract's request schema, as the readings in force read it.

The schema is the contract's. A reading of one of its choices may accept what a rule of it
refuses (`assign-to-empty: requester`: an empty `assign_to` means omitted); the contract marks
that rule with the choice (`x-choice: {minItems: assign-to-empty}` on `assign_to`), so the mock
relaxes exactly that keyword there and nothing else, and reads a value only the rule refused as
if the field were omitted. Without such a reading the contract's own compiled validator is used.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from conformance.mock.replies import refusal

if TYPE_CHECKING:
    from conformance.contract import Contract
    from conformance.mock.choices import Choices

MAX_MESSAGE = 200


def _loosen(node: dict[str, Any], keyword: str) -> None:
    """Relax one keyword of a schema node: `type:null` admits null as well; any other keyword goes."""
    name, _, kind = keyword.partition(":")
    if not kind:
        node.pop(name, None)
        return
    types = node.get(name, [])
    types = [types] if isinstance(types, str) else list(types)
    node[name] = [*types, kind] if kind not in types else types


def _relax(node: Any, path: tuple[str, ...], choices: Choices, fields: set[str]) -> None:
    """Relax, in place, every rule the contract marks with a choice whose reading reads it as omitted."""
    if isinstance(node, list):
        for item in node:
            _relax(item, path, choices, fields)
        return
    if not isinstance(node, dict):
        return
    marker = node.get("x-choice")
    if isinstance(marker, dict):
        for keyword, choice_id in marker.items():
            if choices.relaxes(str(choice_id)):
                _loosen(node, str(keyword))
                if len(path) >= 2 and path[0] == "properties":
                    fields.add(path[1])
    for key, value in node.items():
        if key != "x-choice":
            _relax(value, (*path, str(key)), choices, fields)


def _rule_fields(document: dict[str, Any], schema_path: list[str | int]) -> str:
    """Name the fields of the `if` clause behind a failed `then`, from the contract itself."""
    node: Any = document
    for part in schema_path[: schema_path.index("then")]:
        node = node[part]
    condition = node.get("if", {})
    return ", ".join(
        f"{name}: {json.dumps(spec.get('const'))}" for name, spec in condition.get("properties", {}).items()
    )


def relaxed_schema(contract: Contract, choices: Choices) -> tuple[dict[str, Any], frozenset[str]]:
    """The request schema with the rules the readings in force relax, and the fields they are about."""
    schema = copy.deepcopy(contract.request_schema())
    fields: set[str] = set()
    _relax(schema, (), choices, fields)
    return schema, frozenset(fields)


class RequestRules:
    """The request schema the mock validates with: the contract's, less the rules a reading relaxes."""

    def __init__(self, contract: Contract, choices: Choices) -> None:
        self.contract = contract
        self.strict = contract.request_validator()
        name = contract.request_schema_name()
        schema, self.omitting = relaxed_schema(contract, choices)  # a value only a relaxed rule refuses: omitted
        self.validator = self.strict
        if self.omitting:
            components = dict(contract.document["components"])
            components["schemas"] = {**components["schemas"], name: schema}
            # The request schema has no format the contract reads its own way (`x-formats`).
            self.validator = jsonschema_rs.Draft202012Validator(
                {"$ref": f"#/components/schemas/{name}", "components": components}, validate_formats=True
            )

    def validate(self, body: Any) -> dict[str, Any]:
        """Stage 6: the body as the business rules read it, else 400 naming every bad field."""
        try:
            errors = list(self.validator.iter_errors(body))
        except (ValueError, OverflowError, TypeError) as problem:
            reason = str(problem)[:MAX_MESSAGE]
            raise refusal(400, f"The request body cannot be validated: {reason}", errors=[reason]) from None
        if not errors:
            return self._as_read(dict(body))
        field_errors: dict[str, str] = {}
        general: list[str] = []
        for error in errors:
            message = error.message[:MAX_MESSAGE]
            kind = error.kind
            path = list(error.schema_path)
            if "then" in path:
                message += f" (because of {_rule_fields(self.contract.document, path)})"
            if error.instance_path:
                field_errors.setdefault(str(error.instance_path[0]), message)
            elif isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
                for name in kind.unexpected:
                    field_errors.setdefault(str(name)[:MAX_MESSAGE], "unknown field")
            elif isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
                field_errors.setdefault(str(kind.property), message)
            else:
                general.append(message)
        summary = "; ".join([f"{name}: {text}" for name, text in field_errors.items()] + general)
        raise refusal(400, f"Invalid request: {summary}"[:1000], field_errors=field_errors, errors=general)

    def _as_read(self, body: dict[str, Any]) -> dict[str, Any]:
        """A valid body, with each field only a relaxed rule refused dropped (read as omitted)."""
        if not self.omitting:
            return body
        refused = {str(error.instance_path[0]) for error in self.strict.iter_errors(body) if error.instance_path}
        return {name: value for name, value in body.items() if name not in refused & self.omitting}
