"""The contract file, found once and shared by the mock, the suite and the tests.

Nothing in this project restates a constraint of the contract: whoever needs one loads it
from here (the request validator, response schemas, status codes, examples).

Two generations ship with the package: today's contract (`today()`, the default everywhere)
and the seed-era baseline (`seed()`), which every change is diffed against. `Contract(path)`
reads any other version, for `close-conformance --contract PATH`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import jsonschema_rs
import yaml

from conformance.errors import ContractError

CONTRACT_NAME = "close-phone-numbers.yaml"
BASELINE_NAME = "close-phone-numbers-1.0.0.yaml"
OPERATION_PATH = "/phone_number/request/internal/"
OPERATION_METHOD = "post"
API_PREFIX = "/api/v1"
# Names `--contract` and the mock's `generation` setting accept besides a path.
GENERATIONS = ("today", "seed")
# The operations, by operationId: renting is the project's subject; reading and releasing a
# rented number complete its life (a full run reads back and releases what it rents).
RENT = "request_internal_phone_number"
READ = "get_phone_number"
RELEASE = "delete_phone_number"
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@dataclass(frozen=True)
class Operation:
    """One operation of the contract."""

    id: str
    method: str  # upper case
    path: str  # the path template, e.g. /phone_number/{phone_number_id}/
    document: dict[str, Any] = field(repr=False, compare=False)
    pointer: tuple[str, ...] = ()  # where it is in the document


@dataclass(frozen=True)
class Match:
    """The operation a request is for; `operation` None: a known path with an undocumented method."""

    operation: Operation | None
    prefix: str  # what came before the operation's path: the base path, e.g. /api/v1
    values: dict[str, str] = field(default_factory=dict)  # path parameters
    allowed: tuple[str, ...] = ()  # the methods documented at this path, when `operation` is None


@dataclass(frozen=True)
class Basis:
    """On whose authority a rule stands: Close's documentation (a source) or the contract's own choice."""

    kind: str  # "documented" | "chosen"
    ref: str  # the source id, or the choice id
    text: str  # the source's title, or what the contract chose

    @property
    def is_choice(self) -> bool:
        """Whether the rule is the contract's own choice where Close is silent."""
        return self.kind == "chosen"

    def label(self) -> str:
        """A short label for reports: `documented (seed)` / `chosen (duplicate-keys)`."""
        return f"{self.kind} ({self.ref})" if self.ref else self.kind


@dataclass(frozen=True)
class Choice:
    """What the contract chose where Close is silent, with every reasonable reading of it."""

    id: str
    summary: str
    reason: str
    readings: dict[str, str]  # reading id -> what a server taking it does; the first is the contract's
    statuses: tuple[int, ...] = ()  # HTTP codes other readings answer with

    @property
    def contract_reading(self) -> str:
        """The reading this contract takes."""
        return next(iter(self.readings), "")


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
            found = jsonschema_rs.Draft202012Validator(
                self.schema_ref(name), validate_formats=True, formats=self._formats
            )
            self._validators[name] = found
        return found

    @functools.cached_property
    def _formats(self) -> dict[str, Any]:
        """Formats the contract reads its own way (`x-formats`): `date-time: offset-optional`.

        Close's own examples show date-times both with and without a UTC offset, so a contract
        may say the offset is optional; RFC 3339 (JSON Schema's `date-time`) requires it.
        """
        formats = self.document.get("x-formats") or {}
        return {"date-time": _date_time_offset_optional} if formats.get("date-time") == "offset-optional" else {}

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

    # -- operations ---------------------------------------------------------------------------

    @functools.cached_property
    def operations(self) -> dict[str, Operation]:
        """Every operation of the contract, by operationId."""
        found: dict[str, Operation] = {}
        for path, item in (self.document.get("paths") or {}).items():
            for method, spec in (item or {}).items():
                if method.lower() in _METHODS and isinstance(spec, dict):
                    op_id = str(spec.get("operationId") or f"{method} {path}")
                    found[op_id] = Operation(op_id, method.upper(), str(path), spec, ("paths", str(path), method))
        return found

    @functools.cached_property
    def _routes(self) -> list[tuple[re.Pattern[str], Operation]]:
        routes = []
        for operation in self.operations.values():
            parts = re.split(r"\{([^}]+)\}", operation.path)
            pattern = "".join(
                re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)" for index, part in enumerate(parts)
            )
            routes.append((re.compile(f"^(?P<_prefix>.*?){pattern}$"), operation))
        # Literal paths before templated ones, so /phone_number/request/internal/ is never an id.
        routes.sort(key=lambda route: "{" in route[1].path)
        return routes

    def match(self, method: str, path: str) -> Match | None:
        """The operation a request is for, by its path (after any base path) and method; None if none.

        A path the contract knows with a method it does not document matches with `operation`
        None, so the caller can judge it as an undocumented method.
        """
        bare = path.split("?", 1)[0]
        for pattern, operation in self._routes:
            found = pattern.match(bare)
            if found is None:
                continue
            values = {k: v for k, v in found.groupdict().items() if k != "_prefix"}
            if operation.method == method.upper():
                return Match(operation, found.group("_prefix"), values)
            same_path = [op for op in self.operations.values() if op.path == operation.path]
            if not any(op.method == method.upper() for op in same_path):
                return Match(None, found.group("_prefix"), values, allowed=tuple(op.method for op in same_path))
        return None

    @property
    def rental(self) -> Operation:
        """The operation this project is about: renting a number."""
        return self.operations[RENT]

    # -- domain answers: what an answer means, written once ------------------------------------

    @functools.cached_property
    def refusal_statuses(self) -> frozenset[str]:
        """The `status` values of a refusal this contract knows (an open set: others are drift)."""
        return frozenset(self.enum_values("RefusalStatus"))

    @functools.cached_property
    def business_statuses(self) -> frozenset[str]:
        """Refusal statuses the business rules give (every known one but the generic `error`)."""
        return self.refusal_statuses - {"error"}

    @functools.cached_property
    def business_fields(self) -> frozenset[str]:
        """Request fields a 400 may name as a business refusal (the organization's data, not the form)."""
        response = self.operation["responses"].get("400", {})
        return frozenset(response.get("x-business-fields", []))

    @functools.cached_property
    def chosen_statuses(self) -> frozenset[int]:
        """HTTP codes another reading of one of the rental's choices answers a refusal with (402, 409, 422)."""
        found: set[int] = set()
        for response in self.operation.get("responses", {}).values():
            marker = response.get("x-choice") if isinstance(response, dict) else None
            for choice_id in [marker] if isinstance(marker, str) else marker if isinstance(marker, list) else []:
                choice = self.choices.get(str(choice_id))
                found.update(choice.statuses if choice is not None else ())
        return frozenset(found)

    def is_business_answer(self, status: int, body: Any) -> bool:
        """Whether the endpoint's business rules answered (not the router, authentication or validation).

        A code another reading of a choice refuses with (a 402 billing-error, a 422 has-voice-only)
        is read as a 400 would be: the body says whether the business rules gave it.
        """
        if status in (201, 403):
            return True
        if not isinstance(body, dict) or status not in (400, 404, *self.chosen_statuses):
            return False
        said, named = body.get("status"), body.get("field-errors")
        if status == 404:
            return "status" in body  # a router's 404 does not carry the contract's refusal
        if said in self.business_statuses or (isinstance(said, str) and said not in self.refusal_statuses):
            return True  # a status the contract does not know yet is a refusal Close added (drift), not a form error
        if isinstance(named, dict) and named:
            return set(named) <= self.business_fields
        # `error` with only a reason is a refusal of the business rules too; a validation failure lists
        # its messages (Close's `errors` / `field-errors`).
        return said == "error" and "errors" not in body and "field-errors" not in body

    def refused_as_invalid(self, status: int, body: Any) -> bool:
        """Whether an answer refuses the request as malformed (validation, size, content type)."""
        if status in (413, 415):
            return True
        return status in (400, 422) and not self.is_business_answer(status, body)

    def media_type_problem(self, content_type: str | None) -> str | None:
        """Why a request's Content-Type is not one the rental accepts (None: it is).

        The documented media types, or any `application/*+json` (RFC 6839's JSON suffix), in
        UTF-8 if a charset is given.
        """
        if content_type is None:
            return "no Content-Type"
        media, *parameters = content_type.split(";")
        media = media.strip().lower()
        documented = {name.lower() for name in self.operation["requestBody"]["content"]}
        if media not in documented and not (media.startswith("application/") and media.endswith("+json")):
            return f"Content-Type {media[:60] or '(empty)'}"
        for parameter in parameters:
            name, _, value = parameter.strip().partition("=")
            if name.lower() == "charset" and value.strip('"').lower() not in ("utf-8", "utf8"):
                return f"charset {value.strip()[:20]}"
        return None

    # -- provenance: on whose authority each rule stands ----------------------------------------

    @functools.cached_property
    def sources(self) -> dict[str, str]:
        """Where documented rules come from: source id -> title (`x-sources`)."""
        return {str(k): str(v) for k, v in (self.document.get("x-sources") or {}).items()}

    @functools.cached_property
    def choices(self) -> dict[str, Choice]:
        """What the contract chose where Close is silent (`x-choices`), by id."""
        found = {}
        for choice_id, raw in (self.document.get("x-choices") or {}).items():
            readings = {str(k): str(v) for k, v in (raw.get("readings") or {}).items()}
            found[str(choice_id)] = Choice(
                str(choice_id), str(raw.get("summary", "")), str(raw.get("reason", "")), readings,
                tuple(int(code) for code in raw.get("statuses", [])),
            )  # fmt: skip
        return found

    def chosen(self, choice_id: str) -> Basis:
        """The basis of a rule that is one of the contract's choices."""
        choice = self.choices.get(choice_id)
        return Basis("chosen", choice_id, choice.summary if choice else "(this contract records no such choice)")

    def documented(self, source: str) -> Basis:
        """The basis of a rule Close documents, in the source named."""
        return Basis("documented", source, self.sources.get(source, source))

    def node(self, pointer: tuple[str | int, ...]) -> Any:
        """The contract's node at a JSON pointer (as a tuple of keys), or None."""
        node: Any = self.document
        for part in pointer:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def follow(self, pointer: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], Any]:
        """The node at a pointer, `$ref`s followed: where it really is, and the node (None if nowhere)."""
        node = self.node(pointer)
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 16:
            pointer = tuple(node["$ref"].removeprefix("#/").split("/"))
            node, seen = self.node(pointer), seen + 1
        return pointer, node

    def parameters(self, operation: Operation) -> dict[str, tuple[tuple[str | int, ...], dict[str, Any]]]:
        """An operation's parameters by name, and where each is written (the path's, then its own, which win)."""
        declared: dict[str, tuple[tuple[str | int, ...], dict[str, Any]]] = {}
        for where in (operation.pointer[:-1], operation.pointer):
            for index, _written in enumerate(self.node((*where, "parameters")) or []):
                pointer, parameter = self.follow((*where, "parameters", index))
                if isinstance(parameter, dict):
                    declared[str(parameter.get("name"))] = (pointer, parameter)
        return declared

    def basis(self, pointer: tuple[str | int, ...], keyword: str | None = None) -> Basis:
        """On whose authority the rule at `pointer` (its `keyword`, if given) stands.

        A node's `x-choice` (an id, a list of ids, or keyword -> id) makes it a choice; else the
        nearest `x-documented` on the way to it names its source.
        """
        node = self.node(pointer)
        marker = node.get("x-choice") if isinstance(node, dict) else None
        if isinstance(marker, dict) and keyword is not None:  # `type:null`: the keyword for one kind of value
            for name in (keyword, keyword.split(":", 1)[0]):
                if name in marker:
                    return self.chosen(str(marker[name]))
            return self._documented_at(pointer)
        if isinstance(marker, str):
            return self.chosen(marker)
        if isinstance(marker, list) and marker:
            return self.chosen(str(marker[0]))
        return self._documented_at(pointer)

    def _documented_at(self, pointer: tuple[str | int, ...]) -> Basis:
        for depth in range(len(pointer), -1, -1):
            found = self.node(pointer[:depth])
            if isinstance(found, dict) and "x-documented" in found:
                return self.documented(str(found["x-documented"]))
        return Basis("documented", "", "(no source recorded)")

    def status_basis(self, operation: Operation, status: int) -> Basis:
        """The basis of the rule that an operation answers only its documented statuses, for one status.

        A status that another reading of one of the operation's choices answers with is a choice.
        """
        for response in operation.document.get("responses", {}).values():
            marker = response.get("x-choice") if isinstance(response, dict) else None
            for choice_id in [marker] if isinstance(marker, str) else (marker or []):
                choice = self.choices.get(str(choice_id))
                if choice is not None and status in choice.statuses:
                    return self.chosen(choice.id)
        return self.basis(operation.pointer)


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$")


def _date_time_offset_optional(value: str) -> bool:
    """RFC 3339 date-time whose UTC offset may be missing (then read as UTC)."""
    if not _DATE_TIME.match(value):
        return False
    try:
        dt.datetime.fromisoformat(value.upper())
    except ValueError:
        return False
    return True


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


def documented_statuses() -> frozenset[int]:
    """See `Contract.documented_statuses` (today's contract)."""
    return today().documented_statuses()


def validator(name: str) -> jsonschema_rs.Validator:
    """See `Contract.validator` (today's contract)."""
    return today().validator(name)


def response_schema_name(status: int) -> str | None:
    """See `Contract.response_schema_name` (today's contract)."""
    return today().response_schema_name(status)
