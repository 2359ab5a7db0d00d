"""What this endpoint means: checks no generic tool makes, registered with schemathesis.

Each check looks at one exchange (the request the case sent and the server's answer) and
raises AssertionError with a sentence saying which rule the server broke. They run only
while a conformance run is active (`activate`), so importing this module changes nothing
for other schemathesis users in the same process.
"""

from __future__ import annotations

import contextvars
import functools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import schemathesis

from conformance import contract, numbers
from conformance.suite.guard import GUARD_HEADER

KNOWN_STATUSES = frozenset(contract.enum_values("RefusalStatus"))
BUSINESS_STATUSES = KNOWN_STATUSES - {"error"}


@dataclass
class Observations:
    """What the checks saw during a run, beyond pass/fail."""

    unknown_statuses: dict[str, int] = field(default_factory=dict)
    voice_only_retries: int = 0
    applicable: dict[str, int] = field(default_factory=dict)  # check -> exchanges it judged
    lock: threading.Lock = field(default_factory=threading.Lock)

    def judged(self, check: str) -> None:
        """Count an exchange a semantic check applied to (others it passes by vacuity)."""
        with self.lock:
            self.applicable[check] = self.applicable.get(check, 0) + 1

    def unknown_status(self, value: str) -> None:
        """Record a `status` value the contract does not list (drift, not a failure)."""
        with self.lock:
            self.unknown_statuses[value] = self.unknown_statuses.get(value, 0) + 1


@dataclass
class ActiveRun:
    """The run the checks serve: where to resend, and what they observed."""

    retry: Callable[[dict[str, Any]], tuple[int, Any]]  # sends a body with valid credentials
    observations: Observations = field(default_factory=Observations)


_active: ActiveRun | None = None


def activate(run: ActiveRun | None) -> None:
    """Switch the checks on for a run (or off with None)."""
    global _active  # noqa: PLW0603 - schemathesis checks are module-level functions
    _active = run


def _json(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, TypeError):
        return None


def _request(case: Any) -> dict[str, Any] | None:
    """The request body when the contract allows it (semantic rules only apply to those)."""
    body = case.body
    if isinstance(body, dict) and contract.request_validator().is_valid(body):
        return body
    return None


def _applies(response: Any) -> bool:
    return _active is not None and GUARD_HEADER not in {key.lower() for key in response.headers}


_checking: contextvars.ContextVar[str] = contextvars.ContextVar("checking")
SEMANTIC_NAMES: set[str] = set()
Check = Callable[[Any, Any, Any], bool | None]


def semantic(check: Check) -> Check:
    """Register a semantic check with schemathesis; while it runs, `_judging()` counts for it."""

    @functools.wraps(check)
    def run(ctx: Any, response: Any, case: Any) -> bool | None:
        token = _checking.set(check.__name__)
        try:
            return check(ctx, response, case)
        finally:
            _checking.reset(token)

    SEMANTIC_NAMES.add(check.__name__)
    return schemathesis.check(run)


def _judging() -> None:
    """Count the exchange for the running check (others pass by vacuity and are not counted)."""
    if _active is not None:
        _active.observations.judged(_checking.get())


def _rental(response: Any, case: Any, *, count: bool = True) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(request, rented number) for a 201 to a valid request, else None; counts it unless told not to."""
    if not _applies(response) or response.status_code != 201:
        return None
    request, body = _request(case), _json(response)
    if request is None or not isinstance(body, dict):
        return None
    if count:
        _judging()
    return request, body


@semantic
def invalid_request_never_rents(ctx: Any, response: Any, case: Any) -> bool | None:
    """A body the contract forbids must be refused, never answered with a rental."""
    if not _applies(response) or case.method.upper() != "POST" or not 200 <= response.status_code < 300:
        return None
    _judging()
    if case.body is not None and _request(case) is None:
        raise AssertionError(
            f"The server answered {response.status_code} (a rental) to a request body the contract forbids; "
            "it must refuse it with a 4xx before renting."
        )
    return None


@semantic
def rented_number_in_requested_country(ctx: Any, response: Any, case: Any) -> bool | None:
    """`number` is a valid E.164 number of the requested country, and `country` echoes it."""
    found = _rental(response, case)
    if found is None:
        return None
    request, rented = found
    country = request["country"]
    if rented.get("country") != country:
        raise AssertionError(
            f"Requested country {country}, but the rented number says country={rented.get('country')!r}."
        )
    parsed = numbers.parse_e164(str(rented.get("number", "")))
    if parsed is None or not numbers.is_valid_for_country(parsed, country):
        raise AssertionError(f"{rented.get('number')!r} is not a valid phone number of {country} (phonenumbers).")
    return None


@semantic
def rented_number_has_requested_prefix(ctx: Any, response: Any, case: Any) -> bool | None:
    """The national number starts with the requested prefix."""
    found = _rental(response, case, count=False)  # judged only when a prefix was asked for
    if found is None:
        return None
    request, rented = found
    prefix = request.get("prefix") or ""
    parsed = numbers.parse_e164(str(rented.get("number", "")))
    if prefix and parsed is not None:
        _judging()
        national = str(parsed.national_number)
        if not national.startswith(prefix):
            raise AssertionError(
                f"Requested prefix {prefix!r}, but {rented.get('number')} has national number {national} "
                f"(after the calling code +{parsed.country_code})."
            )
    return None


@semantic
def rented_number_of_requested_carrier_type(ctx: Any, response: Any, case: Any) -> bool | None:
    """`carrier_type` equals the requested one, and the number is of that kind."""
    found = _rental(response, case, count=False)  # judged only when a carrier type was asked for
    if found is None:
        return None
    request, rented = found
    wanted = request.get("carrier_type")
    if wanted is None:
        return None
    _judging()
    if rented.get("carrier_type") != wanted:
        raise AssertionError(f"Requested carrier_type {wanted!r}, got {rented.get('carrier_type')!r}.")
    parsed = numbers.parse_e164(str(rented.get("number", "")))
    if parsed is not None and not numbers.kind_matches(parsed, wanted):
        raise AssertionError(f"{rented.get('number')} is not a {wanted} number by phonenumbers' metadata.")
    return None


@semantic
def rented_number_capabilities(ctx: Any, response: Any, case: Any) -> bool | None:
    """`with_sms: true` gives SMS, `with_mms: true` gives MMS, and MMS implies SMS."""
    found = _rental(response, case)
    if found is None:
        return None
    request, rented = found
    if request.get("with_sms") is True and rented.get("sms_enabled") is not True:
        raise AssertionError("with_sms was true, but the rented number has sms_enabled=false.")
    if request.get("with_mms") is True and rented.get("mms_enabled") is not True:
        raise AssertionError("with_mms was true, but the rented number has mms_enabled=false.")
    if rented.get("mms_enabled") is True and rented.get("sms_enabled") is not True:
        raise AssertionError("The rented number has MMS without SMS (mms_enabled implies sms_enabled).")
    return None


@semantic
def rented_number_ownership(ctx: Any, response: Any, case: Any) -> bool | None:
    """A group number is a group number; a personal number belongs to a user; type is internal."""
    found = _rental(response, case)
    if found is None:
        return None
    request, rented = found
    group = request["sharing"] == "group"
    if rented.get("is_group_number") is not group:
        raise AssertionError(
            f"sharing was {request['sharing']!r}, but is_group_number={rented.get('is_group_number')!r}."
        )
    if not group and not rented.get("user_id"):
        raise AssertionError("A personal number was rented without a user_id.")
    if rented.get("type") != "internal":
        raise AssertionError(f"A rented number must have type 'internal', got {rented.get('type')!r}.")
    return None


@semantic
def refusal_explains_itself(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx carries `status`; `error` is there when status is `error`; new statuses are drift."""
    if not _applies(response) or not 400 <= response.status_code < 500 or response.status_code == 429:
        return None
    _judging()
    body = _json(response)
    if not isinstance(body, dict) or "status" not in body:
        raise AssertionError(f"A {response.status_code} refusal must be a JSON object with a `status` field.")
    status = body["status"]
    if status == "error" and not isinstance(body.get("error"), str):
        raise AssertionError("status is 'error' but there is no human-readable `error` message.")
    if isinstance(status, str) and status not in KNOWN_STATUSES and _active is not None:
        _active.observations.unknown_status(status)
    return None


@semantic
def voice_only_retry_is_not_voice_only(ctx: Any, response: Any, case: Any) -> bool | None:
    """After `has-voice-only`, the same request with `with_sms: false` is not refused as voice-only."""
    if not _applies(response) or _active is None or response.status_code >= 500:
        return None
    body, request = _json(response), _request(case)
    if not isinstance(body, dict) or body.get("status") != "has-voice-only" or request is None:
        return None
    _judging()
    if request.get("with_sms") is False:
        raise AssertionError("has-voice-only was answered although with_sms was already false.")
    retry = {**request, "with_sms": False}
    retry.pop("with_mms", None)  # with_mms: true would need with_sms: true
    status, answer = _active.retry(retry)
    with _active.observations.lock:
        _active.observations.voice_only_retries += 1
    if isinstance(answer, dict) and answer.get("status") == "has-voice-only":
        raise AssertionError(
            f"Retried with with_sms=false as has-voice-only asks, and got has-voice-only again ({status})."
        )
    return None
