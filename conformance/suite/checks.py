"""The checks: what the contract and the endpoint's meaning require of one exchange.

Every front-end's exchanges are judged by these functions, and only by them (`judge.py` runs
them). A check takes a `View` (the exchange read once: its operation, parsed bodies, what is
wrong with the request) and the run's `Memory` (what earlier exchanges showed), and returns
None when it does not apply to the exchange (so counts are honest: a check of rented numbers
counts rentals) or the problems it found, each with its subject (what it is about: a rule, a
field) and its basis (Close's documentation, or the contract's own choice, read from the
contract). Nothing here sends a request.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jsonschema_rs
import phonenumbers

from conformance import contract as contracts
from conformance import jsonbody, numbers
from conformance.suite import pacing
from conformance.suite.exchange import AUTHENTICATED, INVALID, NONE
from conformance.suite.findings import Problem

if TYPE_CHECKING:
    from conformance.contract import Basis, Contract, Match, Operation
    from conformance.suite.exchange import Exchange

CLOCK_SKEW = dt.timedelta(minutes=5)
# Numbers are billed monthly: the next bill is due at most a calendar month (31 days) after the
# rental, plus a day for billing days rounded to a date.
BILLING_PERIOD = dt.timedelta(days=32)


@dataclass(frozen=True)
class Fault:
    """One reason the contract forbids a request: its subject, the field at fault, the rule's basis."""

    subject: str  # e.g. "prefix: maxLength", "unknown field", "duplicate key"
    field: str | None  # the request field at fault, which a 400 should name in `field-errors`
    basis: Basis
    what: str  # for people: "prefix is longer than 5 characters"
    kind: str  # "content-type" | "body" | "schema"


@dataclass
class View:
    """One exchange, read once for every check."""

    exchange: Exchange
    contract: Contract
    match: Match | None
    request: Any = None  # the request body as strict JSON (None: none, or not JSON)
    faults: list[Fault] = field(default_factory=list)  # why the contract forbids the request (empty: allowed)
    answer: Any = None  # the answer's body as JSON
    answer_is_json: bool = False
    status: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""

    @property
    def operation(self) -> Operation | None:
        """The contract's operation the exchange is with (None: not one of them)."""
        return self.match.operation if self.match is not None else None

    @property
    def role(self) -> str | None:
        """RENT, READ, RELEASE (operation ids), or None."""
        return self.operation.id if self.operation is not None else None

    @property
    def renting(self) -> bool:
        """A request to rent."""
        return self.role == contracts.RENT

    @property
    def allowed(self) -> bool:
        """The contract allows the request."""
        return not self.faults

    def header(self, name: str) -> str | None:
        """A header of the answer (case-insensitive)."""
        name = name.lower()
        return next((value for key, value in self.response_headers if key.lower() == name), None)

    def primary_fault(self) -> Fault:
        """The fault that names the cause: the first one Close documents, else the first."""
        return next((fault for fault in self.faults if not fault.basis.is_choice), self.faults[0])


def read_json(raw: bytes) -> tuple[Any, bool]:
    """A body as JSON, and whether it was JSON at all."""
    if not raw:
        return None, False
    try:
        return json.loads(raw), True
    except (ValueError, RecursionError):
        return None, False


def view(exchange: Exchange, contract: Contract, match: Match | None) -> View:
    """Read an answered exchange once: its request's faults and both bodies."""
    seen = View(exchange, contract, match, status=exchange.status or 0)
    seen.response_headers, seen.response_body = exchange.response_headers, exchange.response_body
    seen.answer, seen.answer_is_json = read_json(exchange.response_body)
    if seen.renting:
        seen.request, seen.faults = request_faults(contract, exchange)
    elif seen.operation is not None:
        seen.faults = parameter_faults(contract, seen.operation, match.values if match else {})
    return seen


def request_faults(contract: Contract, exchange: Exchange) -> tuple[Any, list[Fault]]:
    """The body as strict JSON, and every reason the contract forbids this rental request."""
    faults: list[Fault] = []
    media = contract.media_type_problem(exchange.request_header("content-type"))
    if media is not None:
        missing = media == "no Content-Type"
        basis = contract.chosen("content-type-missing") if missing else contract.documented("status-codes")
        faults.append(Fault(media, None, basis, f"the body was sent with {media}", "content-type"))
    if not exchange.body:
        required = contract.basis((*contract.rental.pointer, "requestBody"))  # `required: true`, not its content's
        faults.append(Fault("no body", None, required, "the request has no body", "body"))
        return None, faults
    try:
        body = jsonbody.read_strict(exchange.body)
    except jsonbody.NotJSON as error:
        reason = str(error)
        if "same key twice" in reason:
            faults.append(
                Fault("duplicate key", None, contract.chosen("duplicate-keys"), "a JSON key is given twice", "body")
            )
        else:
            faults.append(
                Fault("not JSON", None, contract.documented("json"), f"the body is not JSON ({reason})", "body")
            )
        return None, faults
    if not contract.request_validator().is_valid(body):
        faults += [_schema_fault(contract, error) for error in contract.request_validator().iter_errors(body)]
    return body, faults


def _schema_fault(contract: Contract, error: jsonschema_rs.ValidationError) -> Fault:
    path = [str(part) for part in error.schema_path]
    node = tuple(path[:-1])
    rule = _qualified(path[-1], error.instance)  # a null's type rule may be a choice of its own
    keyword = rule.replace(":", " ")  # in the cause: `assign_to: type null` and `assign_to: type` are two
    kind = error.kind
    message = error.message[:200]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        name = str(kind.unexpected[0]) if kind.unexpected else None
        return Fault("unknown field", name, contract.basis(node, rule), f"unknown field {name!r}", "schema")
    if "then" in path:  # the with_mms -> with_sms rule: the field to fix is the one the `then` requires
        needed = str(kind.property) if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required) else None
        at = str(error.instance_path[0]) if error.instance_path else needed
        return Fault("with_mms: true needs with_sms: true", at, contract.basis(node, rule), message, "schema")
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        name = str(kind.property)
        return Fault(f"{name}: required", name, contract.basis(node, rule), f"{name} is missing", "schema")
    if not error.instance_path:
        return Fault(f"body: {keyword}", None, contract.basis(node, rule), f"the body: {message}", "schema")
    name = str(error.instance_path[0])
    return Fault(f"{name}: {keyword}", name, contract.basis(node, rule), f"{name}: {message}", "schema")


def _qualified(keyword: str, instance: Any) -> str:
    """`type:null` for a `type` error on a null (a choice may be about null alone), else the keyword."""
    return f"{keyword}:null" if keyword == "type" and instance is None else keyword


def basis_within(contract: Contract, pointer: tuple[str | int, ...], operation: Operation | None) -> Basis:
    """The basis of a rule at `pointer` that belongs to `operation`: its own marker, else the operation's source.

    A part an operation shares through a `$ref` (a response or a parameter under `components`)
    records no source of its own: it stands on the operation's, as it would if written inline.
    """
    basis = contract.basis(pointer)
    return basis if basis.is_choice or basis.ref or operation is None else contract.basis(operation.pointer)


def parameter_faults(contract: Contract, operation: Operation, values: dict[str, str]) -> list[Fault]:
    """Why the contract forbids the path parameters of a request (an id of the wrong form).

    Parameters are declared on the path (for every method) or on the operation (which wins), each
    inline or by a `$ref`.
    """
    declared = contract.parameters(operation)
    faults = []
    for name, (pointer, parameter) in declared.items():
        schema = parameter.get("schema")
        if name not in values or not isinstance(schema, dict):
            continue
        if not jsonschema_rs.validator_for(schema).is_valid(values[name]):
            basis = basis_within(contract, (*pointer, "schema"), operation)
            faults.append(
                Fault(f"{name}: form", name, basis, f"{name} {values[name][:40]!r} is not of its form", "schema")
            )
    return faults


# -- the run's memory ----------------------------------------------------------------------


@dataclass
class Memory:
    """What earlier exchanges showed, for the rules across exchanges; one per run, passed explicitly."""

    ids: dict[str, str] = field(default_factory=dict)  # phone number id -> number, of every rental
    numbers: set[str] = field(default_factory=set)
    owners: dict[str, str] = field(default_factory=dict)  # credential -> user_id of its own rentals
    organizations: dict[str, str] = field(default_factory=dict)  # credential -> organization_id
    rented: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> the rented number as the 201 said
    released: set[str] = field(default_factory=set)  # ids whose release succeeded
    voice_only: set[str] = field(default_factory=set)  # retry bodies a has-voice-only answer asks for
    voice_only_retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


Check = Callable[[View, Memory], list[Problem] | None]


@dataclass(frozen=True)
class Registered:
    """A check, what it is about, and whether it judges answers alone (a waited-out 429 too)."""

    name: str
    run: Check
    about: str
    answer_only: bool = False
    body_free: bool = False  # judges an answer whose body was not recorded (status, headers)


_REGISTERING: list[Registered] = []  # filled while this module is imported, then frozen as CHECKS


def check(about: str, *, answer_only: bool = False, body_free: bool = False) -> Callable[[Check], Check]:
    """Register a check under its function's name (at import time: CHECKS is a tuple afterwards)."""

    def register(function: Check) -> Check:
        _REGISTERING.append(Registered(function.__name__, function, about, answer_only, body_free))
        return function

    return register


def _problem(basis: Basis, subject: str, message: str) -> list[Problem]:
    return [Problem(subject, message, basis)]


# -- every answer -----------------------------------------------------------------------------


@check("no answer is a server error (5xx)", answer_only=True, body_free=True)
def not_a_server_error(seen: View, _memory: Memory) -> list[Problem] | None:
    """Whatever the request, the answer is never a 5xx."""
    if seen.match is None:
        return None
    if seen.status < 500:
        return []
    basis = seen.contract.basis(seen.operation.pointer) if seen.operation else seen.contract.documented("http")
    return _problem(
        basis,
        str(seen.status),
        f"The server answered {seen.status}, a server error: every request, "
        "valid or not, must get a documented answer.",
    )


@check("only documented status codes", answer_only=True, body_free=True)
def status_code_conformance(seen: View, _memory: Memory) -> list[Problem] | None:
    """The status is one the operation documents (5xx are not_a_server_error's)."""
    operation = seen.operation
    if operation is None or seen.status >= 500:
        return None
    documented = operation.document.get("responses", {})
    if str(seen.status) in documented:
        return []
    listed = ", ".join(documented)
    basis = _status_basis(seen, operation)
    # One code may be another reading of two choices (422: refusal-codes, assignee-code): one cause each.
    subject = f"{seen.status} ({basis.ref})" if basis.is_choice else str(seen.status)
    return _problem(
        basis,
        subject,
        f"{operation.method} {operation.path} answered {seen.status}, which the contract does not document "
        f"for it (documented: {listed}).",
    )


def _status_basis(seen: View, operation: Operation) -> Basis:
    """The basis of an undocumented code: the choice one of whose readings answers with it.

    Two of the rental's choices answer 422 in a reading of theirs (`refusal-codes`, `assignee-code`);
    a refusal that names only the fields of the business rules (`x-business-fields`: assign_to) in
    `field-errors` is the assignee rule's.
    """
    basis = seen.contract.status_basis(operation, seen.status)
    named = seen.answer.get("field-errors") if isinstance(seen.answer, dict) else None
    assignee = seen.contract.choices.get("assignee-code")
    if (
        basis.is_choice
        and seen.renting
        and assignee is not None
        and seen.status in assignee.statuses
        and isinstance(named, dict)
        and named
        and set(named) <= seen.contract.business_fields
    ):
        return seen.contract.chosen(assignee.id)
    return basis


@check("405 with Allow for undocumented methods")
def unsupported_method_answer(seen: View, _memory: Memory) -> list[Problem] | None:
    """A method the contract does not document at a known path: refused, and a 405 says what is allowed."""
    if seen.match is None or seen.match.operation is not None:
        return None
    method = seen.exchange.method
    basis = seen.contract.documented("http")
    if seen.status == 405 and seen.header("allow") is None:
        return _problem(basis, "405 without Allow", f"405 to {method} without the Allow header HTTP requires.")
    if 200 <= seen.status < 300 and method not in ("HEAD", "OPTIONS"):
        return _problem(
            basis, f"{method} answered", f"{method} is not documented here, but was answered {seen.status}."
        )
    return []


def _documented_response(seen: View) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    """The contract's response object for the answer's status, and where it is (a `$ref` followed)."""
    operation = seen.operation
    if operation is None:
        return None
    pointer: tuple[str, ...] = (*operation.pointer, "responses", str(seen.status))
    response = seen.contract.node(pointer)
    if isinstance(response, dict) and isinstance(response.get("$ref"), str):
        pointer = tuple(response["$ref"].lstrip("#/").split("/"))
        response = seen.contract.node(pointer)
    return (response, pointer) if isinstance(response, dict) else None


@check("documented content type", answer_only=True, body_free=True)
def content_type_conformance(seen: View, _memory: Memory) -> list[Problem] | None:
    """A documented answer comes in its documented media type (parameters such as charset allowed)."""
    documented = _documented_response(seen)
    if documented is None or not documented[0].get("content"):
        return None
    response, pointer = documented
    media = (seen.header("content-type") or "").split(";")[0].strip().lower()
    if media in {name.lower() for name in response["content"]}:
        return []
    shown = media or "no Content-Type"
    return _problem(
        basis_within(seen.contract, pointer, seen.operation),
        f"{seen.status}: {shown}",
        f"The {seen.status} answer came as {shown}; the contract documents {', '.join(response['content'])}.",
    )


def _header_definition(contract: Contract, spec: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    ref = spec.get("$ref")
    if isinstance(ref, str):
        pointer = tuple(ref.lstrip("#/").split("/"))
        return contract.node(pointer) or {}, pointer
    return spec, ()


@check("documented response headers", answer_only=True, body_free=True)
def response_headers_conformance(seen: View, _memory: Memory) -> list[Problem] | None:
    """The headers a documented answer must carry are there, in their documented form."""
    documented = _documented_response(seen)
    if documented is None or not documented[0].get("headers"):
        return None
    response, pointer = documented
    problems = []
    for name, spec in response["headers"].items():
        definition, where = _header_definition(seen.contract, spec)
        local = seen.contract.basis(pointer, name)  # the response may mark one header as a choice
        basis = local if local.is_choice else seen.contract.basis(where or (*pointer, "headers", name))
        value = seen.header(name)
        if value is None:
            if definition.get("required"):
                problems.append(
                    Problem(
                        f"{seen.status} {name}: missing",
                        f"The {seen.status} answer has no {name} header, which the contract requires.",
                        basis,
                    )
                )
            continue
        schema = definition.get("schema")
        if isinstance(schema, dict) and not jsonschema_rs.validator_for(schema).is_valid(value):
            problems.append(
                Problem(
                    f"{seen.status} {name}: form",
                    f"The {seen.status} answer's {name} header {value[:80]!r} is not of the documented form.",
                    basis,
                )
            )
    return problems


@check("documented response body", answer_only=True)
def response_schema_conformance(seen: View, _memory: Memory) -> list[Problem] | None:
    """A documented answer's body is valid against its schema."""
    documented = _documented_response(seen)
    if documented is None:
        return None
    response, pointer = documented
    content = response.get("content", {}).get("application/json", {})
    schema = content.get("schema")
    if not isinstance(schema, dict) or "$ref" not in schema:
        return None
    name = schema["$ref"].rsplit("/", 1)[-1]
    if not seen.answer_is_json:
        if not seen.response_body and not response.get("content"):
            return []
        return _problem(
            basis_within(seen.contract, pointer, seen.operation),
            f"{seen.status}: not JSON",
            f"The {seen.status} body is not JSON: {seen.response_body[:80]!r}.",
        )
    validator = seen.contract.validator(name)
    if validator.is_valid(seen.answer):
        return []
    problems = []
    for error in validator.iter_errors(seen.answer):
        path = [str(part) for part in error.schema_path]
        where = "/".join(str(part) for part in error.instance_path if not isinstance(part, int)) or "(body)"
        basis = seen.contract.basis(tuple(path[:-1]), _qualified(path[-1], error.instance))
        problems.append(
            Problem(
                f"{seen.status} {name} {where}: {path[-1]}",
                f"The {seen.status} body's {where}: {error.message[:200]}",
                basis,
            )
        )
    return problems


@check("a 429 says how long to wait", answer_only=True)
def rate_limit_answer(seen: View, _memory: Memory) -> list[Problem] | None:
    """A 429 says when to try again (RateLimit reset, Retry-After, or rate_reset), or no client can back off."""
    if seen.status != 429 or seen.match is None:
        return None
    if pacing.requested_wait(seen.response_headers, seen.response_body) is not None:
        return []
    return _problem(
        seen.contract.documented("errors"),
        "no wait given",
        "A 429 answer gave no RateLimit reset, no Retry-After and no rate_reset: a client built on the "
        "contract cannot tell how long to back off.",
    )


# -- requests ---------------------------------------------------------------------------------


def _judgeable_answer(seen: View) -> bool:
    """An answer that tells how the server treated the request (not a 429 or a 5xx)."""
    return seen.status not in (0, 429) and seen.status < 500


@check("a request the contract forbids is refused")
def request_validation(seen: View, _memory: Memory) -> list[Problem] | None:
    """An invalid request is refused with a 4xx (415 for a wrong content type; 400 naming the field)."""
    if seen.operation is None or not seen.faults or not _judgeable_answer(seen):
        return None
    contract, fault = seen.contract, seen.primary_fault()
    if 200 <= seen.status < 300:
        if seen.renting:
            return None  # a rental on an invalid request is invalid_request_never_rents'
        return _problem(
            fault.basis, fault.subject, f"The request is invalid ({fault.what}), but the server answered {seen.status}."
        )
    if not seen.renting or (seen.exchange.auth in (NONE, INVALID) and seen.status == 401):
        return []  # a read or release of an id of the wrong form may be refused as not found
    said = seen.answer.get("status") if isinstance(seen.answer, dict) else None
    if seen.status in (403, 404) or (seen.status == 400 and said in contract.business_statuses):
        return _problem(
            fault.basis,
            fault.subject,
            f"The request is invalid ({fault.what}), but the server "
            f"answered {seen.status} from its business rules: it must refuse the request first.",
        )
    if all(item.kind == "content-type" for item in seen.faults) and seen.status not in (415, 401):
        return _problem(
            fault.basis,
            fault.subject,
            f"The body was valid but {fault.what}: expected 415 (unsupported format), got {seen.status}.",
        )
    named = seen.answer.get("field-errors") if isinstance(seen.answer, dict) else None
    fields = {item.field for item in seen.faults if item.field}
    if seen.status == 400 and isinstance(named, dict) and named and fields and not fields & set(named):
        listed = ", ".join(sorted(named))
        return _problem(
            contract.documented("errors"),
            f"field-errors name {fault.subject}",
            f"The refusal's field-errors do not name {', '.join(sorted(fields))}, the field at fault "
            f"({fault.what}); they name: {listed}.",
        )
    return []


@check("a request the contract forbids never rents")
def invalid_request_never_rents(seen: View, _memory: Memory) -> list[Problem] | None:
    """A body the contract forbids is never answered with a rental (it would be billed)."""
    if not seen.renting or not seen.faults or not _judgeable_answer(seen):
        return None
    if not 200 <= seen.status < 300:
        return []
    fault = seen.primary_fault()
    return _problem(
        fault.basis,
        fault.subject,
        f"The server answered {seen.status} (a rental, billed) to a request "
        f"the contract forbids ({fault.what}); it must refuse it before renting.",
    )


@check("a request the contract allows reaches the business rules")
def valid_request_accepted(seen: View, _memory: Memory) -> list[Problem] | None:
    """An allowed, authenticated request is not refused as invalid (400 without a business status, 413, 415)."""
    if not seen.renting or seen.faults or seen.exchange.auth in (NONE, INVALID) or not _judgeable_answer(seen):
        return None
    if seen.status == 401:
        return None  # the credential was refused: nothing is known of the request (authentication's to judge)
    if not seen.contract.refused_as_invalid(seen.status, seen.answer):
        return []
    named = seen.answer.get("field-errors") if isinstance(seen.answer, dict) else None
    if isinstance(named, dict) and named:
        subject, why = f"refused: field-errors {', '.join(sorted(named))}", f"field-errors: {', '.join(sorted(named))}"
    else:
        subject, why = f"refused: {seen.status}", f"{seen.status} without a business status"
    contract = seen.contract
    basis = contract.basis((*contract.rental.pointer, "requestBody"))
    if seen.status == 413:
        basis = contract.chosen("body-limit")
    elif isinstance(named, dict) and (fields := sorted(set(named) & set(contract.request_schema()["properties"]))):
        # the rule the refusal breaks is what the contract says of that field (sharing optional: the changelog)
        basis = contract.basis(("components", "schemas", contract.request_schema_name(), "properties", fields[0]))
    return _problem(basis, subject, f"A request the contract allows was refused as invalid ({why}).")


@check("a request without valid credentials gets 401")
def authentication(seen: View, _memory: Memory) -> list[Problem] | None:
    """Without credentials (or with unknown ones) a request is refused with 401, before anything else."""
    if seen.operation is None or seen.exchange.auth not in (NONE, INVALID) or not _judgeable_answer(seen):
        return None
    other_fault = bool(seen.faults)
    if seen.status == 401 or (other_fault and seen.contract.refused_as_invalid(seen.status, seen.answer)):
        return []
    subject = "no credentials" if seen.exchange.auth == NONE else "unknown credentials"
    return _problem(
        seen.contract.basis(("components", "securitySchemes", "apiKey")),
        subject,
        f"A request with {subject} was answered {seen.status}; it must be refused with 401.",
    )


@check("a refusal's status matches its HTTP code")
def refusal_explains_itself(seen: View, _memory: Memory) -> list[Problem] | None:
    """A business refusal (has-voice-only, needs-more-info, billing-error) comes with 400; new statuses are drift."""
    if not seen.renting or not 400 <= seen.status < 500 or seen.status == 429 or not isinstance(seen.answer, dict):
        return None
    status = seen.answer.get("status")  # one the contract does not know is drift (see coverage), not a failure
    if status in seen.contract.business_statuses and seen.status != 400:
        return _problem(
            seen.contract.chosen("refusal-codes"),
            f"{status} with {seen.status}",
            f"A {seen.status} answer says status {status!r}, a business refusal the contract gives only with 400.",
        )
    return []


def voice_only_retry(request: dict[str, Any]) -> dict[str, Any]:
    """The request has-voice-only asks for: the same, with `with_sms: false` (and no `with_mms`)."""
    retry = {**request, "with_sms": False}
    retry.pop("with_mms", None)  # with_mms: true would need with_sms: true
    return retry


def _canonical(body: Any) -> str:
    return json.dumps(body, sort_keys=True)


@check("after has-voice-only, with_sms: false is not refused as voice-only")
def voice_only_retry_is_not_voice_only(seen: View, memory: Memory) -> list[Problem] | None:
    """After `has-voice-only`, the same request with `with_sms: false` is not refused as voice-only again."""
    if not seen.renting or seen.faults or not isinstance(seen.request, dict) or not _judgeable_answer(seen):
        return None
    voice_only = isinstance(seen.answer, dict) and seen.answer.get("status") == "has-voice-only"
    key = _canonical(seen.request)
    with memory.lock:
        is_retry = key in memory.voice_only
        memory.voice_only.discard(key)
        if is_retry:
            memory.voice_only_retries += 1
        if voice_only and seen.request.get("with_sms") is not False:
            memory.voice_only.add(_canonical(voice_only_retry(seen.request)))
    basis = seen.contract.documented("seed")
    if voice_only and seen.request.get("with_sms") is False:
        return _problem(
            basis, "voice-only with with_sms false", "has-voice-only was answered although with_sms was already false."
        )
    return [] if is_retry or voice_only else None


# -- what a rental says -----------------------------------------------------------------------


def _rental(seen: View) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(request, rented number) for a 201 to an allowed request, else None."""
    if not seen.renting or seen.status != 201 or seen.faults:
        return None
    if not isinstance(seen.request, dict) or not isinstance(seen.answer, dict):
        return None
    return seen.request, seen.answer


@check("the rented number is of the requested country")
def rented_number_in_requested_country(seen: View, _memory: Memory) -> list[Problem] | None:
    """`number` is a valid E.164 number of the requested country, and `country` echoes it."""
    found = _rental(seen)
    if found is None:
        return None
    request, rented = found
    country, basis = request["country"], seen.contract.documented("seed")
    if rented.get("country") != country:
        return _problem(
            basis,
            "country",
            f"Requested country {country}, but the rented number says country={rented.get('country')!r}.",
        )
    parsed = numbers.parse_e164(str(rented.get("number", "")))
    if parsed is None or not numbers.is_valid_for_country(parsed, country):
        return _problem(
            basis,
            "number of the country",
            f"{rented.get('number')!r} is not a valid phone number of {country} (phonenumbers).",
        )
    return []


@check("the rented number has the requested prefix")
def rented_number_has_requested_prefix(seen: View, _memory: Memory) -> list[Problem] | None:
    """The national number starts with the requested prefix (judged only when one was asked for)."""
    found = _rental(seen)
    if found is None or not found[0].get("prefix"):
        return None
    request, rented = found
    prefix = request["prefix"]
    parsed = numbers.parse_e164(str(rented.get("number", "")))
    if parsed is None:
        return []  # not E.164: the schema check reports it
    national = str(parsed.national_number)
    if national.startswith(prefix):
        return []
    return _problem(
        seen.contract.documented("seed"),
        "prefix",
        f"Requested prefix {prefix!r}, but "
        f"{rented.get('number')} has national number {national} (after +{parsed.country_code}).",
    )


@check("the rented number is of the requested carrier type")
def rented_number_of_requested_carrier_type(seen: View, _memory: Memory) -> list[Problem] | None:
    """`carrier_type` equals the requested one, and the number is of that kind (when one was asked for)."""
    found = _rental(seen)
    if found is None or found[0].get("carrier_type") is None:
        return None
    request, rented = found
    wanted, basis = request["carrier_type"], seen.contract.documented("seed")
    if rented.get("carrier_type") != wanted:
        return _problem(
            basis, "carrier_type", f"Requested carrier_type {wanted!r}, got {rented.get('carrier_type')!r}."
        )
    parsed = numbers.parse_e164(str(rented.get("number", "")))
    if parsed is not None and not numbers.kind_matches(parsed, wanted):
        return _problem(
            basis, "kind of number", f"{rented.get('number')} is not a {wanted} number by phonenumbers' metadata."
        )
    return []


@check("the rented number can text as asked (with_sms, with_mms)")
def rented_number_capabilities(seen: View, _memory: Memory) -> list[Problem] | None:
    """`with_sms: true` gives SMS, `with_mms: true` gives MMS."""
    found = _rental(seen)
    if found is None:
        return None
    request, rented = found
    basis = seen.contract.documented("seed")
    if request.get("with_sms") is True and rented.get("sms_enabled") is not True:
        return _problem(basis, "with_sms", "with_sms was true, but the rented number has sms_enabled=false.")
    if request.get("with_mms") is True and rented.get("mms_enabled") is not True:
        return _problem(basis, "with_mms", "with_mms was true, but the rented number has mms_enabled=false.")
    return []


def _has_response_field(contract: Contract, name: str) -> bool:
    return name in contract.schemas["PhoneNumber"]["properties"]


def _field_basis(contract: Contract, name: str) -> Basis:
    return contract.basis(("components", "schemas", "PhoneNumber", "properties", name))


@check("who owns the rented number follows sharing and assign_to")
def rented_number_ownership(seen: View, _memory: Memory) -> list[Problem] | None:
    """Who the number belongs to follows `sharing` (default personal) and `assign_to`."""
    found = _rental(seen)
    if found is None:
        return None
    request, rented = found
    contract = seen.contract
    sharing = request.get("sharing", "personal")
    group, assign_to = sharing == "group", request.get("assign_to")
    user_id, participants = rented.get("user_id"), rented.get("participants")
    seed, changelog = contract.documented("seed"), contract.documented("changelog")
    if rented.get("type") != "internal":
        return _problem(
            contract.documented("reference"),
            "type",
            f"A rented number must have type 'internal', got {rented.get('type')!r}.",
        )
    if "is_group_number" in rented and rented["is_group_number"] is not group:
        return _problem(
            seed, "is_group_number", f"sharing was {sharing!r}, but is_group_number={rented.get('is_group_number')!r}."
        )
    if group and user_id is not None:
        return _problem(seed, "user_id of a group number", f"A group number must have user_id null, got {user_id!r}.")
    if not group and not user_id:
        return _problem(seed, "user_id of a personal number", "A personal number was rented without a user_id.")
    if not group and assign_to and user_id != assign_to[0]:
        return _problem(
            _field_basis(contract, "user_id"),
            "user_id: first assignee",
            f"assign_to was {assign_to}, but user_id (its first assignee) is {user_id!r}.",
        )
    if assign_to and isinstance(participants, list) and set(participants) != set(assign_to):
        return _problem(
            changelog,
            "participants: assign_to",
            f"assign_to was {assign_to}, but the number's participants are {participants}.",
        )
    if _has_response_field(contract, "participant_groups") and rented.get("participant_groups") not in (None, []):
        return _problem(
            changelog,
            "participant_groups",
            "A new number has no participant groups (they are set by "
            f"the update endpoint), got {rented.get('participant_groups')}.",
        )
    if (
        _has_response_field(contract, "participant_groups")
        and not assign_to
        and not group
        and isinstance(participants, list)
        and participants != [user_id]
    ):
        return _problem(
            _field_basis(contract, "participants"),
            "participants: the requester",
            f"Without assign_to the number is assigned to the requester ({user_id}), but participants "
            f"are {participants}.",
        )
    return []


def _same_number(formatted: Any, parsed: phonenumbers.PhoneNumber, *, national_too: bool = False) -> bool:
    """Whether a number written for people is the given number.

    `number_formatted` must be international (the contract says so); other formatted numbers may
    also be written nationally, read in the number's own country.
    """
    region = phonenumbers.region_code_for_number(parsed) if national_too else None
    try:
        again = phonenumbers.parse(str(formatted), region)
    except phonenumbers.NumberParseException:
        return False
    fields = ("country_code", "national_number", "italian_leading_zero", "number_of_leading_zeros")
    return all(getattr(again, name) == getattr(parsed, name) for name in fields)


def _paired_numbers(rented: dict[str, Any]) -> tuple[str, str] | None:
    """(subject, message) of what is wrong with the pairs of E.164 and formatted numbers, if anything."""
    forward_to, formatted = rented.get("forward_to"), rented.get("forward_to_formatted")
    if rented.get("forward_to_enabled") is True and not forward_to:
        return "forwarding", "forward_to_enabled is true, but there is no forward_to number."
    if isinstance(forward_to, str) and formatted is not None:
        parsed = numbers.parse_e164(forward_to)
        if parsed is not None and not _same_number(formatted, parsed, national_too=True):
            return (
                "forward_to_formatted",
                f"forward_to_formatted {formatted!r} is not the number forward_to {forward_to}.",
            )
    group_numbers, group_formatted = rented.get("phone_numbers"), rented.get("phone_numbers_formatted")
    if isinstance(group_numbers, list) and isinstance(group_formatted, list):
        if len(group_numbers) != len(group_formatted):
            return "phone_numbers_formatted", (
                f"phone_numbers lists {len(group_numbers)} numbers but phone_numbers_formatted {len(group_formatted)}."
            )
        for number, written in zip(group_numbers, group_formatted, strict=True):
            parsed = numbers.parse_e164(str(number))
            if parsed is not None and not _same_number(written, parsed, national_too=True):
                return (
                    "phone_numbers_formatted",
                    f"phone_numbers_formatted has {written!r} where phone_numbers has {number}.",
                )
    return None


def _capabilities_disagree(rented: dict[str, Any]) -> tuple[str, str] | None:
    """(subject, message) of what is wrong between the capability flags and lists, if anything."""
    if rented.get("mms_enabled") is True and rented.get("sms_enabled") is not True:
        return "mms without sms", "The rented number has MMS without SMS (mms_enabled implies sms_enabled)."
    for flag, countries in (("sms_enabled", "supports_sms_to_countries"), ("mms_enabled", "supports_mms_to_countries")):
        if rented.get(flag) is False and rented.get(countries):
            return countries, f"{flag} is false, but {countries} lists {rented[countries]}."
    if not set(rented.get("supports_mms_to_countries") or []) <= set(rented.get("supports_sms_to_countries") or []):
        return "supports_mms_to_countries", "supports_mms_to_countries lists countries the number cannot text."
    return None


@check("the fields of a rented number agree with each other")
def rented_number_is_consistent(seen: View, _memory: Memory) -> list[Problem] | None:
    """The fields of a rented number agree with each other and with the request's bundle."""
    found = _rental(seen)
    if found is None:
        return None
    request, rented = found
    contract = seen.contract
    bundle, answered = request.get("bundle_id"), rented.get("bundle_id")
    if bundle and answered is not None and answered != bundle:  # none at all may be fine (a country needs none)
        return _problem(
            contract.documented("seed"),
            "bundle_id",
            f"Rented under bundle {bundle!r}, but the number has bundle_id={answered!r}.",
        )
    parsed = numbers.parse_e164(str(rented.get("number", "")))
    if parsed is not None:  # else the schema check reports it
        number = rented.get("number")
        if not _same_number(rented.get("number_formatted", ""), parsed):
            return _problem(
                _field_basis(contract, "number_formatted"),
                "number_formatted",
                f"number_formatted {rented.get('number_formatted')!r} is not the number {number} "
                "written internationally.",
            )
        # Shared calling codes (+1 toll-free numbers serve the US and Canada alike): the number must
        # be valid in the country it claims, not be the one region phonenumbers would pick first.
        country = rented.get("country")
        if isinstance(country, str) and not numbers.is_valid_for_country(parsed, country):
            region = phonenumbers.region_code_for_number(parsed)
            return _problem(
                contract.documented("reference"),
                "country of the number",
                f"{number} is a number of {region}, not of {country!r} as the rented number says.",
            )
        kind = rented.get("carrier_type")
        if kind in numbers.KINDS_BY_CARRIER_TYPE and not numbers.kind_matches(parsed, kind):
            return _problem(
                contract.documented("reference"),
                "carrier_type of the number",
                f"carrier_type is {kind!r}, but {number} is not a {kind} number by phonenumbers' metadata.",
            )
    wrong = _capabilities_disagree(rented)
    if wrong is not None:
        return _problem(contract.documented("seed"), *wrong)
    wrong = _paired_numbers(rented)
    if wrong is not None:
        return _problem(contract.documented("reference"), *wrong)
    return []


def moment(value: Any) -> dt.datetime | None:
    """A date-time of a rented number (no UTC offset: UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _when(exchange: Exchange) -> tuple[dt.datetime, dt.datetime] | None:
    """When the exchange took place (its start, and the answer), or None when nobody recorded it."""
    if not exchange.started:
        return None
    start = dt.datetime.fromtimestamp(exchange.started, dt.UTC)
    return start, start + dt.timedelta(seconds=exchange.elapsed)


@check("a rented number's dates are those of the rental")
def rented_number_dates(seen: View, _memory: Memory) -> list[Problem] | None:
    """Created and updated when the answer was given (within clock skew), billed next within a month."""
    found = _rental(seen)
    if found is None:
        return None
    rented = found[1]
    created, updated = moment(rented.get("date_created")), moment(rented.get("date_updated"))
    billing = moment(rented.get("next_billing_on"))
    basis = seen.contract.documented("reference")
    when = _when(seen.exchange)
    if when is not None:
        earliest, latest = when[0] - CLOCK_SKEW, when[1] + CLOCK_SKEW
        for name, value in (("date_created", created), ("date_updated", updated)):
            if value is not None and not earliest <= value <= latest:
                return _problem(
                    basis,
                    name,
                    f"{name} {rented[name]} is not the time of the rental (the exchange "
                    f"took place from {when[0].isoformat(timespec='seconds')} to "
                    f"{when[1].isoformat(timespec='seconds')}, allowing {CLOCK_SKEW} of clock skew).",
                )
    if created is not None and updated is not None and updated < created:
        return _problem(
            basis,
            "date_updated before date_created",
            f"date_updated {rented['date_updated']} is before date_created {rented['date_created']}.",
        )
    if created is not None and billing is not None and not created < billing <= created + BILLING_PERIOD:
        return _problem(
            basis,
            "next_billing_on",
            f"next_billing_on {rented['next_billing_on']} is not within the "
            f"month after date_created {rented['date_created']} (numbers are billed monthly).",
        )
    return []


@check("no id or number is handed out twice; one owner and organization per credential")
def rentals_are_distinct_and_stable(seen: View, memory: Memory) -> list[Problem] | None:
    """Across one run: no id or number handed out twice; one owner and one organization per credential.

    The credential is the one the guard sent, or one recognised in recorded traffic by a
    fingerprint of its Authorization header; traffic that kept none is judged on ids and numbers.
    """
    found = _rental(seen)
    if found is None:
        return None
    request, rented = found
    credential = seen.exchange.credential if seen.exchange.auth in AUTHENTICATED else None
    basis = seen.contract.documented("reference")
    number_id, number = str(rented.get("id")), str(rented.get("number"))
    with memory.lock:
        if number_id in memory.ids:
            return _problem(basis, "id handed out twice", f"The id {number_id} was handed out twice in one run.")
        if number in memory.numbers:
            return _problem(basis, "number rented twice", f"The number {number} was rented twice in one run.")
        memory.ids[number_id] = number
        memory.numbers.add(number)
        memory.rented[number_id] = rented
        if credential is None:
            return []  # who sent it is unknown: recordings often mix keys (roles, organizations)
        organization = rented.get("organization_id")
        known = memory.organizations.setdefault(credential, str(organization))
        if organization != known:
            return _problem(
                basis,
                "organization per credential",
                f"The same credential ({credential}) rented for organization {known} and now {organization}.",
            )
        if request.get("assign_to") or request.get("sharing") == "group":
            return []
        owner = rented.get("user_id")
        first = memory.owners.setdefault(credential, str(owner))
        if owner != first:
            return _problem(
                basis,
                "owner per credential",
                f"The same credential ({credential}) rented for user {first} and now {owner} without assign_to.",
            )
    return []


# -- the rest of a number's life ----------------------------------------------------------------

# Fields of a number that reading it back must show as the rental said (the others, such as
# date_updated or next_billing_on, may change in between).
STABLE_FIELDS = (
    "id",
    "number",
    "number_formatted",
    "country",
    "type",
    "carrier",
    "carrier_type",
    "sms_enabled",
    "mms_enabled",
    "is_group_number",
    "user_id",
    "organization_id",
    "bundle_id",
    "date_created",
)


def _number_id(seen: View) -> str | None:
    return seen.match.values.get("phone_number_id") if seen.match is not None else None


@check("reading a rented number back gives that number")
def read_back_is_the_rental(seen: View, memory: Memory) -> list[Problem] | None:
    """A read of a number rented in this run is that number, as the rental described it; a released one is gone."""
    number_id = _number_id(seen)
    if seen.role != contracts.READ or number_id is None or not _judgeable_answer(seen):
        return None
    with memory.lock:
        rented, released = memory.rented.get(number_id), number_id in memory.released
        if rented is not None and released and 200 <= seen.status < 300:
            memory.released.discard(number_id)  # still there: held and billed, whatever the release answered
    if rented is None:
        return None  # not rented here: nothing to compare with
    basis = seen.contract.basis(seen.operation.pointer) if seen.operation else seen.contract.documented("reference")
    if released:
        if 200 <= seen.status < 300:
            return _problem(
                basis,
                "released number still there",
                f"{number_id} was released, but reading it answered {seen.status}: the release did not take it away.",
            )
        return []
    if seen.status == 404:
        return _problem(
            basis, "rented number not there", f"{number_id} was rented in this run, but reading it answered 404."
        )
    if seen.status != 200 or not isinstance(seen.answer, dict):
        return []
    if seen.answer.get("id") != number_id or seen.answer.get("number") != rented.get("number"):
        return _problem(
            basis,
            "another number",
            f"Reading {number_id} (rented as {rented.get('number')}) gave "
            f"{seen.answer.get('id')!r}, number {seen.answer.get('number')!r}.",
        )
    differing = [name for name in STABLE_FIELDS if name in rented and seen.answer.get(name) != rented[name]]
    if differing:
        shown = ", ".join(f"{name} {rented[name]!r} -> {seen.answer.get(name)!r}" for name in differing[:3])
        return _problem(
            basis, "fields differ from the rental", f"Reading {number_id} back disagrees with the rental: {shown}."
        )
    return []


@check("releasing a rented number succeeds")
def release_releases(seen: View, memory: Memory) -> list[Problem] | None:
    """A release of a number rented in this run succeeds (2xx); afterwards the number is gone."""
    number_id = _number_id(seen)
    if seen.role != contracts.RELEASE or number_id is None or seen.status in (0, 429):
        return None  # a 5xx is judged too: the number is still held and billed
    with memory.lock:
        if number_id not in memory.rented:
            return None
        if number_id in memory.released:
            return []  # released again: Close documents no answer for it
        if 200 <= seen.status < 300:
            memory.released.add(number_id)
            return []
    basis = seen.contract.basis(seen.operation.pointer) if seen.operation else seen.contract.documented("reference")
    return _problem(
        basis,
        "release failed",
        f"Releasing {number_id}, rented in this run, was answered {seen.status}: the number is still held and billed.",
    )


CHECKS: tuple[Registered, ...] = tuple(_REGISTERING)
NAMES: tuple[str, ...] = tuple(registered.name for registered in CHECKS)
