"""Deterministic probes: fixed requests for what must hold on every run, whatever was generated.

Authentication (both schemes accepted; missing, malformed, unknown credentials refused with
401), request validation (each kind of schema violation, and every field's boundaries,
refused with a documented 4xx that names the field), and that both schemes reach the
business logic. Every body is derived from the contract: its first request example, its
required fields, limits, enums and types.

Each probe whose only fault a lenient server might tolerate aims its otherwise-valid core at
the unrentable country (`safety.UNRENTABLE_COUNTRY`): on a strict server it is refused for
its fault, on a lenient one it reaches the business rules and is refused there (404), and
either way nothing is rented. Only the `full` mode probes marked `may_rent` use a real
country.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from conformance.suite import safety
from conformance.suite.credentials import PLACEHOLDER_ANY, PLACEHOLDER_KEY, PLACEHOLDER_TOKEN, basic
from conformance.suite.guard import GUARD_HEADER

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from conformance.contract import Contract

JSON = "application/json"
REFUSED = frozenset({400, 413, 415})
UNAUTHORIZED = frozenset({401})
BUSINESS: frozenset[int] = frozenset()  # a business answer: judged by `_business_verdict`, not a fixed set
UNKNOWN_FIELD = "conformance_unknown_field"


@dataclass(frozen=True)
class Probe:
    """One fixed request and what the contract requires of the answer."""

    check: str  # the summary line it counts under
    name: str
    authorization: str | None
    body: bytes
    expect: frozenset[int]  # empty: a business answer (201, 403, 404, or a 400 with a business status)
    content_type: str = JSON
    needs: str = ""  # "key" / "token": skipped without that credential
    may_rent: bool = False  # aimed at a real country: only where rentals are allowed
    field: str | None = None  # the request field at fault: a 400 must name it in `field-errors`


@dataclass
class ProbeResult:
    """What happened to one probe."""

    probe: Probe
    status: int | None = None
    body: Any = None
    failure: str | None = None
    skipped: str | None = None
    exchange: int | None = None


@dataclass
class Outcome:
    """All probe results, by check."""

    results: list[ProbeResult] = field(default_factory=list)

    def by_check(self) -> dict[str, list[ProbeResult]]:
        """Group results under their check names."""
        grouped: dict[str, list[ProbeResult]] = {}
        for result in self.results:
            grouped.setdefault(result.probe.check, []).append(result)
        return grouped


def _dump(value: Any) -> bytes:
    return json.dumps(value).encode()


def _wrong_type(spec: dict[str, Any]) -> Any:
    """A value of a type the property does not allow."""
    types = spec.get("type", [])
    types = [types] if isinstance(types, str) else types
    if "array" in types:
        return "not-a-list"
    if "string" in types or "$ref" in spec or "anyOf" in spec:
        return 12345
    return "yes"


def field_probes(contract: Contract, core: dict[str, Any]) -> Iterator[tuple[str, bytes, str | None, bool]]:
    """(name, body, field at fault, valid?) for every property's boundaries and types.

    Strings: empty, at `maxLength`, one past it; arrays: one below `minItems`, an item of
    the wrong form; enums: a value outside; every property: a value of the wrong type.
    """
    schema = contract.request_schema()
    validator = contract.request_validator()

    def probe(name: str, prop: str, value: Any) -> tuple[str, bytes, str | None, bool]:
        body = {**core, prop: value}
        return name, _dump(body), prop, bool(validator.is_valid(body))

    for prop, spec in schema["properties"].items():
        if prop == "country":
            continue  # the core of every probe; its faults have probes of their own
        target = contract.schemas[spec["$ref"].rsplit("/", 1)[-1]] if "$ref" in spec else spec
        yield probe(f"{prop} of the wrong type", prop, _wrong_type(target))
        if "enum" in target:
            yield probe(f"{prop} outside its enum", prop, "conformance-unknown-value")
        if "string" in (target.get("type") or []):
            yield probe(f"{prop} empty", prop, "")
            if "maxLength" in target:
                limit = target["maxLength"]
                yield probe(f"{prop} at maxLength ({limit})", prop, "1" * limit)
                yield probe(f"{prop} one past maxLength ({limit + 1})", prop, "1" * (limit + 1))
        if target.get("type") == "array":
            if target.get("minItems"):
                yield probe(f"{prop} below minItems", prop, [])
            if target.get("items", {}).get("pattern"):
                yield probe(f"{prop} with an item of the wrong form", prop, ["conformance wrong form"])


def probes(contract: Contract, *, rentals_allowed: bool = False) -> list[Probe]:
    """Every probe, built from the contract (its example body, required fields, limits).

    Boundary values the contract allows go to a real country where rentals are allowed (a
    server may fail only when it really rents), else to the unrentable one.
    """
    real = contract.example_request()
    core = safety.aim_at_unrentable(real)  # valid, and nobody can rent it
    schema = contract.request_schema()
    sink = _dump(core)
    found: list[Probe] = [
        Probe("authentication", "no credentials", None, sink, UNAUTHORIZED),
        Probe("authentication", "unknown API key", basic("conformance-unknown-key"), sink, UNAUTHORIZED),
        Probe("authentication", "malformed Basic credentials", "Basic %%%not-base64%%%", sink, UNAUTHORIZED),
        Probe("authentication", "unknown OAuth token", "Bearer conformance-unknown-token", sink, UNAUTHORIZED),
        Probe("authentication", "unsupported scheme", "Token conformance-unknown", sink, UNAUTHORIZED),
        Probe("authentication", "API key (Basic) is accepted", basic(PLACEHOLDER_KEY), sink, BUSINESS, needs="key"),
        Probe(
            "authentication",
            "OAuth token (Bearer) is accepted",
            f"Bearer {PLACEHOLDER_TOKEN}",
            sink,
            BUSINESS,
            needs="token",
        ),
    ]
    any_auth = basic(PLACEHOLDER_ANY)
    country_form = schema["properties"]["country"]
    violations: list[tuple[str, bytes, str | None]] = [
        ("malformed JSON", sink[:-1], None),
        ("valid JSON followed by garbage", sink + b" trailing", None),
        ("two JSON documents", sink + sink, None),
        ("body is not an object", b"[]", None),
        ("unknown field", _dump({**core, UNKNOWN_FIELD: True}), UNKNOWN_FIELD),
        ("country in lower case", _dump({**core, "country": core["country"].lower()}), "country"),
        ("country of three letters", _dump({**core, "country": core["country"] + "Q"}), "country"),
        ("country of the wrong type", _dump({**core, "country": 12345}), "country"),
        ("NaN in the body", sink[:-1] + b', "with_sms": NaN}', None),
        ("the same key twice", sink[:-1] + b', "country": "' + core["country"].encode() + b'"}', None),
        ("body over 64 KiB", _dump({**core, "conformance_padding": "x" * 70_000}), None),
    ]
    if country_form.get("pattern") is None:
        violations = [v for v in violations if not v[0].startswith("country in")]
    if "with_mms" in schema["properties"] and "with_sms" in schema["properties"]:
        violations.append(
            ("with_mms: true without with_sms: true", _dump({**core, "with_mms": True, "with_sms": False}), "with_sms")
        )
    violations += [
        (f"missing required {name}", _dump({k: v for k, v in core.items() if k != name}), name)
        for name in schema.get("required", [])
    ]
    found += [Probe("request_validation", name, any_auth, body, REFUSED, field=at) for name, body, at in violations]
    for name, body, at, valid in field_probes(contract, core):
        if not valid:
            found.append(Probe("request_boundaries", name, any_auth, body, REFUSED, field=at))
    for name, body, _at, valid in field_probes(contract, real if rentals_allowed else core):
        if valid:
            found.append(Probe("request_boundaries", name, any_auth, body, BUSINESS, may_rent=rentals_allowed))
    found += [
        Probe("request_validation", "valid body sent as text/plain", any_auth, sink, frozenset({415}), "text/plain"),
        Probe("request_validation", "valid body without a content type", any_auth, sink, frozenset({415}), ""),
        Probe(
            "request_validation",
            "valid body surrounded by whitespace (JSON allows it)",
            any_auth,
            b" \r\n" + sink + b"\n",
            BUSINESS,
        ),
        Probe(
            "request_validation",
            "valid body as application/json; charset=utf-8",
            any_auth,
            sink,
            BUSINESS,
            f"{JSON}; charset=utf-8",
        ),
        Probe(
            "request_validation",
            "large but allowed body (a 60 KiB bundle_id)",
            any_auth,
            _dump({**core, "bundle_id": "b" * 60_000}),
            BUSINESS,
        ),
        Probe(
            "business_logic",
            "API key (Basic) reaches the business rules",
            basic(PLACEHOLDER_KEY),
            _dump(real),
            BUSINESS,
            needs="key",
            may_rent=True,
        ),
        Probe(
            "business_logic",
            "OAuth token (Bearer) reaches the business rules",
            f"Bearer {PLACEHOLDER_TOKEN}",
            _dump(real),
            BUSINESS,
            needs="token",
            may_rent=True,
        ),
    ]
    if "bundle_id" not in schema["properties"]:
        found = [probe for probe in found if "bundle_id" not in probe.name]
    return found


def _business_verdict(status: int, body: Any, business_statuses: frozenset[str]) -> str | None:
    if status == 401:
        return "valid credentials were refused with 401"
    if status in (201, 403, 404):
        return None
    if status == 400 and isinstance(body, dict):
        if body.get("status") in business_statuses:
            return None
        if isinstance(body.get("field-errors"), dict) and body["field-errors"]:
            fields = ", ".join(sorted(body["field-errors"]))
            return f"a request the contract allows was refused as invalid (field-errors: {fields})"
    if status == 400:
        return "a request the contract allows was refused with 400 and no business status"
    return f"expected 201 or a business refusal, got {status}"


def verdict(probe: Probe, contract: Contract, status: int, headers: httpx.Headers, body: Any) -> str | None:  # noqa: PLR0911 - a return per rule
    """Return why the answer breaks the contract, or None."""
    if not probe.expect:
        statuses = frozenset(contract.enum_values("RefusalStatus")) - {"error"}
        problem = _business_verdict(status, body, statuses)
        if problem is not None:
            return problem
    elif status not in probe.expect:
        expected = " or ".join(map(str, sorted(probe.expect)))
        if status in (201, 403, 404) or (isinstance(body, dict) and status == 400 and "field-errors" not in body):
            return (
                f"expected {expected}, got {status}: the server accepted the fault and answered from its business rules"
            )
        return f"expected {expected}, got {status}"
    if status == 401 and not headers.get("www-authenticate"):
        return "401 without the WWW-Authenticate header"
    schema_name = contract.response_schema_name(status)
    if schema_name is None:
        return f"{status} is not documented for this operation"
    errors = (
        [error.message for error in contract.validator(schema_name).iter_errors(body)]
        if body is not None
        else ["not JSON"]
    )
    if errors:
        return f"the {status} body does not match {schema_name}: {errors[0]}"
    named = body.get("field-errors") if isinstance(body, dict) else None
    if probe.field and status == 400 and isinstance(named, dict) and probe.field not in named:
        listed = ", ".join(sorted(named)) or "none"
        return f"the refusal's field-errors do not name `{probe.field}`, the field at fault (they name: {listed})"
    return None


def run(
    base_url: str,
    contract: Contract,
    *,
    have: set[str],
    rentals_allowed: bool,
    progress: Callable[[str], None],
    exchange_count: Callable[[], int],
    timeout: float = 30.0,
) -> Outcome:
    """Send every probe through the guard at `base_url`."""
    outcome = Outcome()
    url = base_url.rstrip("/") + "/phone_number/request/internal/"
    with httpx.Client(timeout=timeout) as client:
        for probe in probes(contract, rentals_allowed=rentals_allowed):
            result = ProbeResult(probe)
            outcome.results.append(result)
            if probe.needs and probe.needs not in have:
                result.skipped = f"no {'CLOSE_API_KEY' if probe.needs == 'key' else 'CLOSE_BEARER_TOKEN'} given"
                continue
            if probe.may_rent and not rentals_allowed:
                result.skipped = "aimed at a real country, so it could rent (safe mode)"
                continue
            headers = {"content-type": probe.content_type} if probe.content_type else {}
            if probe.authorization is not None:
                headers["authorization"] = probe.authorization
            try:
                response = client.post(url, content=probe.body, headers=headers)
            except httpx.HTTPError as error:
                result.exchange = exchange_count()
                result.skipped = f"the guard did not answer: {type(error).__name__}"
                continue
            result.exchange = exchange_count()
            result.status = response.status_code
            if response.headers.get(GUARD_HEADER):
                result.skipped = response.json().get("error", "not sent")
                continue
            try:
                result.body = response.json()
            except ValueError:
                result.body = None
            result.failure = verdict(probe, contract, response.status_code, response.headers, result.body)
    progress(f"  probes: {len(outcome.results)} fixed requests")
    return outcome
