"""The contract file, found once and shared by the mock, the suite and the tests.

Nothing in this project restates a constraint of the contract: whoever needs one loads it
from here (the request validator, response schemas, status codes, examples).

Two generations ship with the package: today's contract (`today()`, the default everywhere)
and the seed-era baseline (`seed()`), which every change is diffed against. `Contract(path)`
reads any other version, for `close-conformance --contract PATH`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, cast

import jsonschema_rs
import yaml

CONTRACT_NAME = "close-phone-numbers.yaml"
BASELINE_NAME = "close-phone-numbers-1.0.0.yaml"
OPERATION_PATH = "/phone_number/request/internal/"
OPERATION_METHOD = "post"
API_PREFIX = "/api/v1"
# Names `--contract` and the mock's `generation` setting accept besides a path.
GENERATIONS = ("today", "seed")


class ContractError(ValueError):
    """A contract file that cannot be read or does not describe the endpoint."""


def _locate(packaged: str, repository: str) -> Path:
    """The copy packaged in the wheel, else the repository's file."""
    inside = Path(__file__).parent / "_contract" / packaged
    if inside.is_file():
        return inside
    return Path(__file__).resolve().parent.parent / "openapi" / repository


def contract_path() -> Path:
    """Return today's contract file."""
    return _locate(CONTRACT_NAME, CONTRACT_NAME)


def baseline_path() -> Path:
    """Return the seed-era contract file (the baseline)."""
    return _locate(BASELINE_NAME, f"baseline/{BASELINE_NAME}")


class Contract:
    """One version of the contract: parsed once, validators compiled on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with path.open(encoding="utf-8") as handle:
                self.document = cast("dict[str, Any]", yaml.safe_load(handle))
        except OSError as error:
            raise ContractError(f"cannot read contract {path}: {error.strerror}") from None
        except yaml.YAMLError as error:
            raise ContractError(f"contract {path} is not valid YAML: {str(error).splitlines()[0]}") from None
        try:
            self.operation = cast("dict[str, Any]", self.document["paths"][OPERATION_PATH][OPERATION_METHOD])
        except (KeyError, TypeError):
            raise ContractError(
                f"contract {path} does not describe POST {OPERATION_PATH}: is it this project's contract?"
            ) from None
        self._validators: dict[str, jsonschema_rs.Validator] = {}

    def __repr__(self) -> str:
        return f"Contract({str(self.path)!r}, version {self.version})"

    @property
    def version(self) -> str:
        """The contract's `info.version`."""
        return str(self.document.get("info", {}).get("version", "?"))

    @property
    def schemas(self) -> dict[str, Any]:
        """The component schemas."""
        return cast("dict[str, Any]", self.document["components"]["schemas"])

    def schema_ref(self, name: str) -> dict[str, Any]:
        """Return a self-contained JSON Schema that points at `components.schemas.<name>`."""
        return {"$ref": f"#/components/schemas/{name}", "components": self.document["components"]}

    def request_schema_name(self) -> str:
        """Return the component name of the request body schema."""
        ref = self.operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return cast("str", ref.rsplit("/", 1)[-1])

    def request_schema(self) -> dict[str, Any]:
        """Return the request body's component schema."""
        return cast("dict[str, Any]", self.schemas[self.request_schema_name()])

    def documented_statuses(self) -> frozenset[int]:
        """Return the HTTP status codes the contract documents for the operation."""
        return frozenset(int(code) for code in self.operation["responses"])

    def validator(self, name: str) -> jsonschema_rs.Validator:
        """Return a compiled validator for one component schema (formats checked)."""
        found = self._validators.get(name)
        if found is None:
            found = jsonschema_rs.Draft202012Validator(self.schema_ref(name), validate_formats=True)
            self._validators[name] = found
        return found

    def request_validator(self) -> jsonschema_rs.Validator:
        """Return the compiled validator of the request body."""
        return self.validator(self.request_schema_name())

    def response_schema_name(self, status: int) -> str | None:
        """Return the component schema name of a documented response, or None if undocumented."""
        response = self.operation["responses"].get(str(status))
        if response is None:
            return None
        ref = response["content"]["application/json"]["schema"]["$ref"]
        return cast("str", ref.rsplit("/", 1)[-1])

    def response_headers(self, status: int) -> dict[str, Any]:
        """Return the headers the contract documents for a response (empty when none)."""
        return cast("dict[str, Any]", self.operation["responses"].get(str(status), {}).get("headers", {}))

    def enum_values(self, name: str) -> tuple[str, ...]:
        """Return the values of an enum component schema."""
        return tuple(self.schemas[name]["enum"])

    def request_examples(self) -> list[dict[str, Any]]:
        """Return the request body examples, in the contract's order."""
        examples = self.operation["requestBody"]["content"]["application/json"].get("examples", {})
        return [dict(example["value"]) for example in examples.values()]

    def example_request(self) -> dict[str, Any]:
        """The first request example: a valid body to derive probes from."""
        return self.request_examples()[0]


@functools.cache
def today() -> Contract:
    """Today's contract (the default everywhere)."""
    return Contract(contract_path())


@functools.cache
def seed() -> Contract:
    """The seed-era contract, kept as the baseline."""
    return Contract(baseline_path())


def named(name_or_path: str) -> Contract:
    """`today`, `seed`, or the path of a contract file."""
    if name_or_path == "today":
        return today()
    if name_or_path == "seed":
        return seed()
    return Contract(Path(name_or_path))


# Today's contract through module-level functions, for callers that need only the default.


def load() -> dict[str, Any]:
    """Today's contract, parsed once per process."""
    return today().document


def operation() -> dict[str, Any]:
    """Return the one operation object of today's contract."""
    return today().operation


def schema_ref(name: str) -> dict[str, Any]:
    """See `Contract.schema_ref` (today's contract)."""
    return today().schema_ref(name)


def request_schema_name() -> str:
    """See `Contract.request_schema_name` (today's contract)."""
    return today().request_schema_name()


def documented_statuses() -> frozenset[int]:
    """See `Contract.documented_statuses` (today's contract)."""
    return today().documented_statuses()


def validator(name: str) -> jsonschema_rs.Validator:
    """See `Contract.validator` (today's contract)."""
    return today().validator(name)


def request_validator() -> jsonschema_rs.Validator:
    """See `Contract.request_validator` (today's contract)."""
    return today().request_validator()


def response_schema_name(status: int) -> str | None:
    """See `Contract.response_schema_name` (today's contract)."""
    return today().response_schema_name(status)


def enum_values(name: str) -> tuple[str, ...]:
    """See `Contract.enum_values` (today's contract)."""
    return today().enum_values(name)
