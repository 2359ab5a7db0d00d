"""Deterministic probes: fixed requests for what must hold on every run, whatever was generated.

Authentication (both schemes accepted; missing, malformed, unknown credentials refused),
request validation (each kind of schema violation, and every field's boundaries), requests
the contract allows but that careless servers refuse (whitespace, a charset, a large body),
and that both schemes reach the business logic. Every body is derived from the contract: its
first request example, its required fields, limits, enums and types. A probe is only a named
request: the judge judges it like any other exchange.

Each probe whose only fault a lenient server might tolerate aims its otherwise-valid core at
the unrentable country (`safety.UNRENTABLE_COUNTRY`): on a strict server it is refused for
its fault, on a lenient one it reaches the business rules and is refused there (404), and
either way nothing is rented. Only the `full` mode probes marked `may_rent` use a real
country.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.suite import safety
from conformance.suite.credentials import PLACEHOLDER_ANY, PLACEHOLDER_KEY, PLACEHOLDER_TOKEN, basic

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from conformance.contract import Contract
    from conformance.suite.guard import Guard

JSON = "application/json"
UNKNOWN_FIELD = "conformance_unknown_field"


@dataclass(frozen=True)
class Probe:
    """One fixed request."""

    name: str
    authorization: str | None
    body: bytes
    content_type: str = JSON
    needs: str = ""  # "key" / "token": not sent without that credential
    may_rent: bool = False  # aimed at a real country: only where rentals are allowed


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
        Probe("no credentials", None, sink),
        Probe("unknown API key", basic("conformance-unknown-key"), sink),
        Probe("malformed Basic credentials", "Basic %%%not-base64%%%", sink),
        Probe("unknown OAuth token", "Bearer conformance-unknown-token", sink),
        Probe("unsupported scheme", "Token conformance-unknown", sink),
        Probe("API key (Basic) is accepted", basic(PLACEHOLDER_KEY), sink, needs="key"),
        Probe("OAuth token (Bearer) is accepted", f"Bearer {PLACEHOLDER_TOKEN}", sink, needs="token"),
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
    found += [Probe(name, any_auth, body) for name, body, _at in violations]
    found += [Probe(name, any_auth, body) for name, body, _at, valid in field_probes(contract, core) if not valid]
    found += [
        Probe(name, any_auth, body, may_rent=rentals_allowed)
        for name, body, _at, valid in field_probes(contract, real if rentals_allowed else core)
        if valid
    ]
    found += [
        Probe("valid body sent as text/plain", any_auth, sink, "text/plain"),
        Probe("valid body without a content type", any_auth, sink, ""),
        Probe("valid body surrounded by whitespace (JSON allows it)", any_auth, b" \r\n" + sink + b"\n"),
        Probe("valid body as application/json; charset=utf-8", any_auth, sink, f"{JSON}; charset=utf-8"),
        Probe("large but allowed body (a 60 KiB bundle_id)", any_auth, _dump({**core, "bundle_id": "b" * 60_000})),
        Probe(
            "API key (Basic) reaches the business rules",
            basic(PLACEHOLDER_KEY),
            _dump(real),
            needs="key",
            may_rent=True,
        ),
        Probe(
            "OAuth token (Bearer) reaches the business rules",
            f"Bearer {PLACEHOLDER_TOKEN}",
            _dump(real),
            needs="token",
            may_rent=True,
        ),
    ]
    if "bundle_id" not in schema["properties"]:
        found = [probe for probe in found if "bundle_id" not in probe.name]
    return found


def run(
    guard: Guard,
    contract: Contract,
    *,
    have: set[str],
    rentals_allowed: bool,
    progress: Callable[[str], None],
) -> list[str]:
    """Send every probe through the guard; return what could not be probed, and why."""
    path = guard.upstream_prefix + contract.rental.path
    skipped = []
    for probe in probes(contract, rentals_allowed=rentals_allowed):
        if probe.needs and probe.needs not in have:
            skipped.append(
                f"{probe.name}: no {'CLOSE_API_KEY' if probe.needs == 'key' else 'CLOSE_BEARER_TOKEN'} given"
            )
            continue
        if probe.may_rent and not rentals_allowed:
            skipped.append(f"{probe.name}: aimed at a real country, so it could rent (safe mode)")
            continue
        headers = [("content-type", probe.content_type)] if probe.content_type else []
        if probe.authorization is not None:
            headers.append(("authorization", probe.authorization))
        guard.forward("POST", path, headers, probe.body, probe=probe.name)
    made = probes(contract, rentals_allowed=rentals_allowed)
    progress(f"  probes: {len(made) - len(skipped)} fixed requests ({len(skipped)} not for this run)")
    return skipped
