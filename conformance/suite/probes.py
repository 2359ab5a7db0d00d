"""Deterministic probes: fixed requests for what must hold on every run, whatever was generated.

Authentication (both schemes accepted; missing, malformed, unknown credentials refused with
401), request validation (each kind of schema violation refused with a documented 4xx), and,
where rentals are allowed, that both schemes reach the business logic. Bodies are derived
from the contract's own examples and constraints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from conformance import contract
from conformance.suite.guard import PLACEHOLDER_ANY, PLACEHOLDER_KEY, PLACEHOLDER_TOKEN, basic

if TYPE_CHECKING:
    from collections.abc import Callable

JSON = "application/json"


@dataclass(frozen=True)
class Probe:
    """One fixed request and what the contract requires of the answer."""

    check: str  # the summary line it counts under
    name: str
    authorization: str | None
    body: bytes
    expect: frozenset[int]
    content_type: str = JSON
    needs: str = ""  # "key" / "token": skipped without that credential
    may_rent: bool = False  # a body the contract allows: only where rentals are allowed


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


def _example_body() -> dict[str, Any]:
    examples = contract.operation()["requestBody"]["content"][JSON]["examples"]
    return dict(next(iter(examples.values()))["value"])


def _dump(value: Any) -> bytes:
    return json.dumps(value).encode()


def probes() -> list[Probe]:
    """Every probe, built from the contract (its example body, required fields, limits)."""
    valid = _example_body()
    schema = contract.load()["components"]["schemas"][contract.request_schema_name()]
    refused = frozenset({400, 413, 415})
    unauthorized = frozenset({401})
    invalid = _dump({**valid, "conformance_unknown_field": True})
    found: list[Probe] = [
        Probe("authentication", "no credentials", None, _dump(valid), unauthorized),
        Probe("authentication", "unknown API key", basic("conformance-unknown-key"), _dump(valid), unauthorized),
        Probe(
            "authentication",
            "malformed Basic credentials",
            "Basic %%%not-base64%%%",
            _dump(valid),
            unauthorized,
        ),
        Probe(
            "authentication",
            "unknown OAuth token",
            "Bearer conformance-unknown-token",
            _dump(valid),
            unauthorized,
        ),
        Probe("authentication", "unsupported scheme", "Token conformance-unknown", _dump(valid), unauthorized),
        Probe(
            "authentication",
            "API key (Basic) is accepted",
            basic(PLACEHOLDER_KEY),
            invalid,
            refused,
            needs="key",
        ),
        Probe(
            "authentication",
            "OAuth token (Bearer) is accepted",
            f"Bearer {PLACEHOLDER_TOKEN}",
            invalid,
            refused,
            needs="token",
        ),
    ]
    any_auth = basic(PLACEHOLDER_ANY)
    violations: list[tuple[str, bytes]] = [
        ("malformed JSON", b'{"country": "US", "sharing": '),
        ("body is not an object", b"[]"),
        ("unknown field", invalid),
        (
            "prefix longer than maxLength",
            _dump({**valid, "prefix": "1" * (schema["properties"]["prefix"]["maxLength"] + 1)}),
        ),
        ("country in lower case", _dump({**valid, "country": valid["country"].lower()})),
        ("sharing outside its enum", _dump({**valid, "sharing": "everyone"})),
        ("with_sms of the wrong type", _dump({**valid, "with_sms": "yes"})),
        ("with_mms: true without with_sms: true", _dump({**valid, "with_mms": True, "with_sms": False})),
        ("NaN in the body", _dump(valid)[:-1] + b', "with_sms": NaN}'),
        ("body over 64 KiB", _dump({**valid, "conformance_padding": "x" * 70_000})),
    ]
    violations += [
        (f"missing required {name}", _dump({k: v for k, v in valid.items() if k != name}))
        for name in schema["required"]
    ]
    found += [Probe("request_validation", name, any_auth, body, refused) for name, body in violations]
    found += [
        Probe(
            "request_validation",
            "valid body sent as text/plain",
            any_auth,
            _dump(valid),
            frozenset({415}),
            "text/plain",
            may_rent=True,
        ),
        Probe(
            "business_logic",
            "API key (Basic) reaches the business rules",
            basic(PLACEHOLDER_KEY),
            _dump(valid),
            frozenset(),
            needs="key",
            may_rent=True,
        ),
        Probe(
            "business_logic",
            "OAuth token (Bearer) reaches the business rules",
            f"Bearer {PLACEHOLDER_TOKEN}",
            _dump(valid),
            frozenset(),
            needs="token",
            may_rent=True,
        ),
    ]
    return found


def _verdict(probe: Probe, status: int, headers: httpx.Headers, body: Any) -> str | None:  # noqa: PLR0911 - a return per rule
    """Return why the answer breaks the contract, or None."""
    if probe.check == "business_logic":
        if status == 401:
            return "valid credentials were refused with 401"
        if status not in contract.documented_statuses() - {401, 413, 415}:
            return f"expected 201 or a business refusal, got {status}"
    elif status not in probe.expect:
        return f"expected {' or '.join(map(str, sorted(probe.expect)))}, got {status}"
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
    return None


def run(
    base_url: str,
    *,
    have: set[str],
    rentals_allowed: bool,
    progress: Callable[[str], None],
    exchange_count: Callable[[], int],
) -> Outcome:
    """Send every probe through the guard at `base_url`."""
    outcome = Outcome()
    url = base_url.rstrip("/") + contract.OPERATION_PATH
    with httpx.Client(timeout=30.0) as client:
        for probe in probes():
            result = ProbeResult(probe)
            outcome.results.append(result)
            if probe.needs and probe.needs not in have:
                result.skipped = f"no {'CLOSE_API_KEY' if probe.needs == 'key' else 'CLOSE_BEARER_TOKEN'} given"
                continue
            if probe.may_rent and not rentals_allowed:
                result.skipped = "the contract allows this body, so it could rent (safe mode)"
                continue
            headers = {"content-type": probe.content_type}
            if probe.authorization is not None:
                headers["authorization"] = probe.authorization
            response = client.post(url, content=probe.body, headers=headers)
            result.exchange = exchange_count()
            result.status = response.status_code
            if response.headers.get("x-conformance-guard"):
                result.skipped = response.json().get("error", "not sent")
                continue
            try:
                result.body = response.json()
            except ValueError:
                result.body = None
            result.failure = _verdict(probe, response.status_code, response.headers, result.body)
    progress(f"  probes: {len(outcome.results)} fixed requests")
    return outcome
