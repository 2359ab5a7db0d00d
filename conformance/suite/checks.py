"""What this endpoint means: checks no generic tool makes, registered with schemathesis.

Each check looks at one exchange (the request the case sent and the server's answer) and
raises AssertionError with a sentence saying which rule the server broke. They run only
while a conformance run is active (`activate`), so importing this module changes nothing
for other schemathesis users in the same process.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import schemathesis

from conformance import contract as contracts
from conformance import numbers
from conformance.suite.guard import CREDENTIAL_HEADER, GUARD_HEADER

KNOWN_STATUSES = frozenset(contracts.today().enum_values("RefusalStatus"))
BUSINESS_STATUSES = KNOWN_STATUSES - {"error"}
CLOCK_SKEW = dt.timedelta(minutes=5)
# Numbers are billed monthly: the next bill is due at most a calendar month (31 days) after the
# rental, plus a day for billing days rounded to a date.
BILLING_PERIOD = dt.timedelta(days=32)


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
class Memory:
    """What the rentals of one run have shown so far, for the invariants across them."""

    ids: dict[str, str] = field(default_factory=dict)  # phone number id -> number
    numbers: set[str] = field(default_factory=set)
    owners: dict[str, str] = field(default_factory=dict)  # credential -> user_id of its own rentals
    organizations: dict[str, str] = field(default_factory=dict)  # credential -> organization_id
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class ActiveRun:
    """The run the checks serve: the contract, where to resend, and what they observed."""

    retry: Callable[[dict[str, Any]], tuple[int, Any]] | None = None  # sends a body with valid credentials
    observations: Observations = field(default_factory=Observations)
    contract: contracts.Contract = field(default_factory=contracts.today)
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    memory: Memory = field(default_factory=Memory)
    # Judging recorded traffic: the exchange's own (start, end) in epoch seconds, None when the
    # recording does not say when it happened. A live run's clock is its start and now.
    recorded: bool = False
    recorded_at: tuple[float, float] | None = None

    def when(self) -> tuple[dt.datetime, dt.datetime] | None:
        """The interval the exchange being judged happened in (None: unknown)."""
        if not self.recorded:
            return self.started, dt.datetime.now(dt.UTC)
        if self.recorded_at is None:
            return None
        start, end = self.recorded_at
        return dt.datetime.fromtimestamp(start, dt.UTC), dt.datetime.fromtimestamp(end, dt.UTC)


_active: ActiveRun | None = None


def activate(run: ActiveRun | None) -> None:
    """Switch the checks on for a run (or off with None)."""
    global _active  # noqa: PLW0603 - schemathesis checks are module-level functions
    _active = run


def _json(response: Any) -> Any:
    """The answer's body as JSON (None if it is not), parsed once for all the checks of an exchange."""
    content = response.content
    return _parsed(content) if isinstance(content, bytes) else None


@functools.lru_cache(maxsize=16)
def _parsed(content: bytes) -> Any:
    # Checks only read the value; a cached dict is never changed.
    try:
        return json.loads(content)
    except (ValueError, TypeError):
        return None


def _contract() -> contracts.Contract:
    return _active.contract if _active is not None else contracts.today()


def _request(case: Any) -> dict[str, Any] | None:
    """The request body when the contract allows it (semantic rules only apply to those)."""
    body = case.body
    if isinstance(body, dict) and _contract().request_validator().is_valid(body):
        return body
    return None


def _header(response: Any, name: str) -> str | None:
    """One header of a schemathesis response (whose values are lists)."""
    for key, value in response.headers.items():
        if key.lower() == name:
            return str(value[0] if isinstance(value, list) and value else value)
    return None


def _applies(response: Any) -> bool:
    return _active is not None and GUARD_HEADER not in {key.lower() for key in response.headers}


_checking: contextvars.ContextVar[str] = contextvars.ContextVar("checking")
SEMANTIC_NAMES: set[str] = set()
Check = Callable[[Any, Any, Any], bool | None]
SEMANTIC_CHECKS: list[Check] = []  # as registered, for judges that run them outside schemathesis' engine


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
    registered = schemathesis.check(run)
    SEMANTIC_CHECKS.append(registered)
    return registered


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
    return None


def _has_response_field(name: str) -> bool:
    return name in _contract().schemas["PhoneNumber"]["properties"]


@semantic
def rented_number_ownership(ctx: Any, response: Any, case: Any) -> bool | None:
    """Who the number belongs to follows `sharing` (default personal) and `assign_to`."""
    found = _rental(response, case)
    if found is None:
        return None
    request, rented = found
    sharing = request.get("sharing", "personal")
    group = sharing == "group"
    assign_to = request.get("assign_to")
    if rented.get("type") != "internal":
        raise AssertionError(f"A rented number must have type 'internal', got {rented.get('type')!r}.")
    if "is_group_number" in rented and rented["is_group_number"] is not group:
        raise AssertionError(f"sharing was {sharing!r}, but is_group_number={rented.get('is_group_number')!r}.")
    user_id = rented.get("user_id")
    if group and user_id is not None:
        raise AssertionError(f"A group number must have user_id null, got {user_id!r}.")
    if not group and not user_id:
        raise AssertionError("A personal number was rented without a user_id.")
    if not group and assign_to and user_id != assign_to[0]:
        raise AssertionError(f"assign_to was {assign_to}, but user_id (its first assignee) is {user_id!r}.")
    participants = rented.get("participants")
    if assign_to and isinstance(participants, list) and set(participants) != set(assign_to):
        raise AssertionError(f"assign_to was {assign_to}, but the number's participants are {participants}.")
    if _has_response_field("participant_groups") and rented.get("participant_groups") not in (None, []):
        raise AssertionError(
            f"A new number has no participant groups (they are set by the update endpoint), "
            f"got {rented.get('participant_groups')}."
        )
    if (
        _has_response_field("participant_groups")
        and not assign_to
        and not group
        and isinstance(participants, list)
        and participants != [user_id]
    ):
        raise AssertionError(
            f"Without assign_to the number is assigned to the requester ({user_id}), but participants are "
            f"{participants}."
        )
    return None


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


def _paired_numbers(rented: dict[str, Any]) -> str | None:
    """What is wrong with the pairs of E.164 and formatted numbers a rented number carries, if anything."""
    forward_to, formatted = rented.get("forward_to"), rented.get("forward_to_formatted")
    if rented.get("forward_to_enabled") is True and not forward_to:
        return "forward_to_enabled is true, but there is no forward_to number."
    if isinstance(forward_to, str) and formatted is not None:
        parsed = numbers.parse_e164(forward_to)
        if parsed is not None and not _same_number(formatted, parsed, national_too=True):
            return f"forward_to_formatted {formatted!r} is not the number forward_to {forward_to}."
    group_numbers, group_formatted = rented.get("phone_numbers"), rented.get("phone_numbers_formatted")
    if isinstance(group_numbers, list) and isinstance(group_formatted, list):
        if len(group_numbers) != len(group_formatted):
            return (
                f"phone_numbers lists {len(group_numbers)} numbers but phone_numbers_formatted {len(group_formatted)}."
            )
        for number, written in zip(group_numbers, group_formatted, strict=True):
            parsed = numbers.parse_e164(str(number))
            if parsed is not None and not _same_number(written, parsed, national_too=True):
                return f"phone_numbers_formatted has {written!r} where phone_numbers has {number}."
    return None


def _capabilities_disagree(rented: dict[str, Any]) -> str | None:
    """What is wrong between the capability flags and lists of a rented number, if anything."""
    if rented.get("mms_enabled") is True and rented.get("sms_enabled") is not True:
        return "The rented number has MMS without SMS (mms_enabled implies sms_enabled)."
    for flag, countries in (("sms_enabled", "supports_sms_to_countries"), ("mms_enabled", "supports_mms_to_countries")):
        if rented.get(flag) is False and rented.get(countries):
            return f"{flag} is false, but {countries} lists {rented[countries]}."
    if not set(rented.get("supports_mms_to_countries") or []) <= set(rented.get("supports_sms_to_countries") or []):
        return "supports_mms_to_countries lists countries the number cannot text (MMS implies SMS)."
    return None


def _number_disagrees(rented: dict[str, Any], parsed: phonenumbers.PhoneNumber) -> str | None:
    """What is wrong between the E.164 number and the fields that describe it, if anything."""
    number = rented.get("number")
    if not _same_number(rented.get("number_formatted", ""), parsed):
        return f"number_formatted {rented.get('number_formatted')!r} is not the number {number}."
    # Shared calling codes (+1 toll-free numbers serve the US and Canada alike): the number must be
    # valid in the country it claims, not be the one region phonenumbers would pick first.
    country = rented.get("country")
    if isinstance(country, str) and not numbers.is_valid_for_country(parsed, country):
        region = phonenumbers.region_code_for_number(parsed)
        return f"{number} is a number of {region}, not of {country!r} as the rented number says."
    kind = rented.get("carrier_type")
    if kind in numbers.KINDS_BY_CARRIER_TYPE and not numbers.kind_matches(parsed, kind):
        return f"carrier_type is {kind!r}, but {number} is not a {kind} number by phonenumbers' metadata."
    return None


@semantic
def rented_number_is_consistent(ctx: Any, response: Any, case: Any) -> bool | None:
    """The fields of a rented number agree with each other and with the request's bundle."""
    found = _rental(response, case)
    if found is None:
        return None
    request, rented = found
    # Another bundle than the one asked for; none at all may be fine (a country that needs none).
    bundle, answered = request.get("bundle_id"), rented.get("bundle_id")
    if bundle and answered is not None and answered != bundle:
        raise AssertionError(f"Rented under bundle {bundle!r}, but the number has bundle_id={answered!r}.")
    parsed = numbers.parse_e164(str(rented.get("number", "")))
    wrong = (
        (_number_disagrees(rented, parsed) if parsed is not None else None)  # else the schema check reports it
        or _capabilities_disagree(rented)
        or _paired_numbers(rented)
    )
    if wrong is not None:
        raise AssertionError(wrong)
    return None


def _moment(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@semantic
def rented_number_dates(ctx: Any, response: Any, case: Any) -> bool | None:
    """Created and updated when the answer was given (within clock skew), billed next within a month."""
    found = _rental(response, case)
    if found is None or _active is None:
        return None
    _request_body, rented = found
    created, updated = _moment(rented.get("date_created")), _moment(rented.get("date_updated"))
    billing = _moment(rented.get("next_billing_on"))
    when = _active.when()
    if when is not None:
        earliest, latest = when[0] - CLOCK_SKEW, when[1] + CLOCK_SKEW
        what = "the run" if not _active.recorded else "the recorded exchange"
        for name, moment in (("date_created", created), ("date_updated", updated)):
            if moment is not None and not earliest <= moment <= latest:
                raise AssertionError(
                    f"{name} {rented[name]} is not the time of the rental ({what} took place from "
                    f"{when[0].isoformat(timespec='seconds')} to {when[1].isoformat(timespec='seconds')}, "
                    f"allowing {CLOCK_SKEW} of clock skew)."
                )
    if created is not None and updated is not None and updated < created:
        raise AssertionError(f"date_updated {rented['date_updated']} is before date_created {rented['date_created']}.")
    if created is not None and billing is not None and not created < billing <= created + BILLING_PERIOD:
        raise AssertionError(
            f"next_billing_on {rented['next_billing_on']} is not within the month after date_created "
            f"{rented['date_created']} (numbers are billed monthly)."
        )
    return None


@semantic
def rentals_are_distinct_and_stable(ctx: Any, response: Any, case: Any) -> bool | None:
    """Across one run: no id or number handed out twice; one owner and one organization per credential.

    The credential is the one the guard sent, or one recognised in recorded traffic by a
    fingerprint of its Authorization header; traffic that kept none is judged on ids and numbers.
    """
    found = _rental(response, case)
    if found is None or _active is None:
        return None
    request, rented = found
    credential = _header(response, CREDENTIAL_HEADER)  # None: a recording that kept no credential
    memory = _active.memory
    number_id, number = str(rented.get("id")), str(rented.get("number"))
    with memory.lock:
        if number_id in memory.ids:
            raise AssertionError(f"The id {number_id} was handed out twice in one run.")
        if number in memory.numbers:
            raise AssertionError(f"The number {number} was rented twice in one run.")
        memory.ids[number_id] = number
        memory.numbers.add(number)
        if credential is None:
            return None  # who sent it is unknown: recordings often mix keys (roles, organizations)
        organization = rented.get("organization_id")
        known = memory.organizations.setdefault(credential, str(organization))
        if organization != known:
            raise AssertionError(
                f"The same credential ({credential}) rented for organization {known} and now {organization}."
            )
        if request.get("assign_to") or request.get("sharing") == "group":
            return None
        owner = rented.get("user_id")
        first = memory.owners.setdefault(credential, str(owner))
        if owner != first:
            raise AssertionError(
                f"The same credential ({credential}) rented for user {first} and now {owner} without assign_to."
            )
    return None


@semantic
def refusal_explains_itself(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx carries `status`; `error` is there when status is `error`; new statuses are drift."""
    if not _applies(response) or not 400 <= response.status_code < 500 or response.status_code == 429:
        return None
    if case.method.upper() != "POST":
        return None  # other methods are judged by HTTP (405 with Allow), not by the operation's rules
    _judging()
    body = _json(response)
    if not isinstance(body, dict) or "status" not in body:
        raise AssertionError(f"A {response.status_code} refusal must be a JSON object with a `status` field.")
    status = body["status"]
    if status in BUSINESS_STATUSES and response.status_code != 400:
        raise AssertionError(
            f"A {response.status_code} answer says status {status!r}, "
            "a business refusal the contract gives only with 400."
        )
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
    if _active.retry is None:
        return None  # judging a recording: nothing may be sent
    status, answer = _active.retry(retry)
    with _active.observations.lock:
        _active.observations.voice_only_retries += 1
    if isinstance(answer, dict) and answer.get("status") == "has-voice-only":
        raise AssertionError(
            f"Retried with with_sms=false as has-voice-only asks, and got has-voice-only again ({status})."
        )
    return None
