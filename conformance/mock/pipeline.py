"""The request pipeline: small named stages, each answering in the contract's error shape.

    rental:          route -> authenticate -> rate limit -> content type -> body size -> JSON
                           -> validate -> business rules -> rent
    GET a number:    route -> authenticate -> rate limit -> (body dropped) -> find
    DELETE a number: route -> authenticate -> rate limit -> (body dropped) -> find
                           -> business rules (may this user release it?) -> release

A stage either returns what the next one needs or raises `Refused` with the answer, so a
refused request never reaches the store and changes nothing. Where Close is silent, the
answer follows the reading of the contract's choice the scenario picked (`choices.py`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import math
import threading
import time
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from conformance import jsonbody
from conformance.mock import rules
from conformance.mock.model import OverBudget, Rented
from conformance.mock.replies import WWW_AUTHENTICATE, Refused, Reply, refusal
from conformance.mock.routes import shown, today_route
from conformance.serving import receive_all as receive_all  # noqa: PLC0414 - still importable from here
from conformance.serving import receive_body

if TYPE_CHECKING:
    from conformance.contract import Contract
    from conformance.mock.model import Rental
    from conformance.mock.scenario import RateLimit, Scenario, User
    from conformance.mock.store import Store
    from conformance.serving import Receive

MAX_BODY_BYTES = 64 * 1024
# Up to this many bytes of an oversized body are read and dropped before the 413 (see read_body).
DRAIN_BYTES = 1024 * 1024
MAX_MESSAGE = 200
Headers = list[tuple[bytes, bytes]]


def header_values(headers: Headers, name: bytes) -> list[bytes]:
    """Return every value of a header (names compared case-insensitively)."""
    return [value for key, value in headers if key.lower() == name]


class Credentials:
    """The scenario's secrets, looked up in constant time (every entry compared every time)."""

    def __init__(self, scenario: Scenario) -> None:
        self.api_keys = [(self._digest(key), user) for key, user in scenario.api_keys.items()]
        self.tokens = [(self._digest(token), user) for token, user in scenario.oauth_tokens.items()]

    @staticmethod
    def _digest(secret: str) -> bytes:
        return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).digest()

    def _find(self, table: list[tuple[bytes, User]], secret: str) -> User | None:
        digest = self._digest(secret)
        found = None
        for known, user in table:
            if hmac.compare_digest(known, digest):
                found = user
        return found

    def api_key(self, key: str) -> User | None:
        """Return the user of an API key, if it is known."""
        return self._find(self.api_keys, key)

    def oauth_token(self, token: str) -> User | None:
        """Return the user of an OAuth token, if it is known."""
        return self._find(self.tokens, token)


def unauthenticated(message: str) -> Refused:
    """A 401 with the challenge header the contract requires."""
    return refusal(401, message, headers=(("www-authenticate", WWW_AUTHENTICATE),))


def authenticate(headers: Headers, credentials: Credentials) -> tuple[User, str]:
    """Stage 1: return the user and a credential label, or refuse with 401."""
    values = header_values(headers, b"authorization")
    if not values:
        raise unauthenticated("Authentication required: send an API key with HTTP Basic or an OAuth token with Bearer.")
    if len(values) > 1:
        raise unauthenticated("Send exactly one Authorization header.")
    scheme, _, secret = values[0].decode("latin-1").strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(secret, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise unauthenticated("Malformed Basic credentials: expected base64 of 'API_KEY:'.") from None
        key, colon, password = decoded.partition(":")
        if not colon or password:
            raise unauthenticated("Basic credentials must be the API key as username and an empty password.")
        user = credentials.api_key(key)
        label = "key"
    elif scheme.lower() == "bearer" and secret:
        user = credentials.oauth_token(secret)
        label = "token"
    else:
        raise unauthenticated("Unsupported Authorization scheme: use Basic (API key) or Bearer (OAuth token).")
    if user is None:
        raise unauthenticated("Unknown API key or OAuth token.")
    return user, f"{label}:{user.id}"


class RateLimiter:
    """A fixed window per credential; per process when several workers run."""

    def __init__(self, rule: RateLimit) -> None:
        self.rule = rule
        self.windows: dict[str, tuple[float, int]] = {}
        self.lock = threading.Lock()

    def admit(self, credential: str) -> None:
        """Stage 2: count the request, or refuse with 429 and Close's rate-limit body."""
        now = time.monotonic()
        with self.lock:
            start, used = self.windows.get(credential, (now, 0))
            if now - start >= self.rule.window_seconds:
                start, used = now, 0
            self.windows[credential] = (start, used + 1)
        if used < self.rule.limit:
            return
        reset = max(self.rule.window_seconds - (now - start), 0.0)
        raise Refused(rate_limited(self.rule.limit, self.rule.window_seconds, reset))

    def reset(self) -> None:
        """Forget every window (a new test starts with a full allowance)."""
        with self.lock:
            self.windows.clear()


def rate_limited(limit: int, window: float, reset: float) -> Reply:
    """Close's 429: the rate-limit body, `RateLimit` and `Retry-After`."""
    return Reply(
        429,
        {
            "status": "error",
            "error": {
                "message": f"API call count exceeded for this {window:g} second window",
                "rate_reset": round(reset, 3),
                "rate_limit": limit,
                "rate_window": window,
                "rate_limit_type": "key",
            },
        },
        (
            ("ratelimit", f"limit={limit}, remaining=0, reset={math.ceil(reset)}"),
            ("retry-after", str(math.ceil(reset))),
        ),
    )


def check_content_type(headers: Headers) -> None:
    """Stage 3: the body must be sent as JSON (UTF-8), else 415."""
    values = header_values(headers, b"content-type")
    if len(values) != 1:
        raise refusal(415, "Send exactly one Content-Type header: application/json.")
    media, *params = values[0].decode("latin-1").split(";")
    media = media.strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise refusal(415, f"Send the request body as application/json, not {media[:60] or 'nothing'}.")
    for param in params:
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value.strip('"').lower() not in ("utf-8", "utf8"):
            raise refusal(415, "Send the JSON body in UTF-8.")


async def read_body(headers: Headers, receive: Receive) -> bytes:
    """Stage 4: read at most MAX_BODY_BYTES, else 413.

    A body declared larger than DRAIN_BYTES is refused without reading any of it; a smaller excess
    is read and dropped first, so the 413 reaches the client instead of a connection reset.
    """
    too_large = refusal(413, f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    for value in header_values(headers, b"content-length"):
        if value.isdigit() and int(value) > DRAIN_BYTES:
            raise too_large
    body, size = await receive_body(receive, MAX_BODY_BYTES + 1, DRAIN_BYTES)
    if size > MAX_BODY_BYTES:
        raise too_large
    return body


async def drop_body(headers: Headers, receive: Receive) -> None:
    """GET and DELETE take no body: one sent is read (up to DRAIN_BYTES, so the answer is not lost) and dropped."""
    for value in header_values(headers, b"content-length"):
        if value.isdigit() and int(value) > DRAIN_BYTES:
            return
    await receive_body(receive, 0, DRAIN_BYTES)


def parse_json(raw: bytes) -> Any:
    """Stage 5: strict JSON (the project's one reader, `jsonbody.read_strict`), else 400."""
    try:
        return jsonbody.read_strict(raw)
    except jsonbody.NotJSON as error:
        raise refusal(
            400, f"The request body is not valid JSON: {error}", errors=[f"malformed JSON: {error}"]
        ) from None


def _rule_fields(document: dict[str, Any], schema_path: list[str | int]) -> str:
    """Name the fields of the `if` clause behind a failed `then`, from the contract itself."""
    node: Any = document
    for part in schema_path[: schema_path.index("then")]:
        node = node[part]
    condition = node.get("if", {})
    return ", ".join(
        f"{name}: {json.dumps(spec.get('const'))}" for name, spec in condition.get("properties", {}).items()
    )


def validate(body: Any, contract: Contract) -> dict[str, Any]:
    """Stage 6: validate against the contract's request schema, else 400 naming every bad field."""
    try:
        errors = list(contract.request_validator().iter_errors(body))
    except (ValueError, OverflowError, TypeError) as problem:
        reason = str(problem)[:MAX_MESSAGE]
        raise refusal(400, f"The request body cannot be validated: {reason}", errors=[reason]) from None
    if not errors:
        return dict(body)
    field_errors: dict[str, str] = {}
    general: list[str] = []
    for error in errors:
        message = error.message[:MAX_MESSAGE]
        kind = error.kind
        path = list(error.schema_path)
        if "then" in path:
            message += f" (because of {_rule_fields(contract.document, path)})"
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


class Pipeline:
    """The endpoint: runs the stages in order for one request."""

    def __init__(self, scenario: Scenario, store: Store) -> None:
        self.scenario = scenario
        self.store = store
        self.credentials = Credentials(scenario)
        self.rate_limiter = RateLimiter(scenario.rate_limit) if scenario.rate_limit else None
        self.contract = scenario.contract
        self.choices = scenario.readings()
        self.number_route = today_route()

    async def handle(self, headers: Headers, receive: Receive) -> Reply:
        """Answer one POST to the endpoint."""
        try:
            user, credential = authenticate(headers, self.credentials)
            if self.rate_limiter:
                self.rate_limiter.admit(credential)
            check_content_type(headers)
            body = validate(parse_json(await read_body(headers, receive)), self.contract)
            return self.rent(user, rules.Order.from_body(body))
        except Refused as refused:
            return refused.reply

    def rent(self, user: User, order: rules.Order) -> Reply:
        """Stages 7 and 8: apply the business rules, then rent atomically."""
        owners = rules.assignees(self.scenario, user, order)
        offers = rules.plan(self.scenario, user, order)
        make = rules.rental_factory(user, order, owners, self.scenario.generation)
        outcome = self.store.rent(user.organization, offers, make)
        if isinstance(outcome, Rented):
            return Reply(201, outcome.rental.resource, payload=outcome.rental.encoded)
        if isinstance(outcome, OverBudget):
            raise refusal(400, outcome.reason, status="billing-error")
        raise refusal(404, f"No number is left for a {rules.describe(order)}.")

    async def number(self, method: str, number_id: str, headers: Headers, receive: Receive) -> Reply:
        """Answer a GET (retrieve) or DELETE (release) of one phone number."""
        try:
            user, credential = authenticate(headers, self.credentials)
            if self.rate_limiter:
                self.rate_limiter.admit(credential)
            await drop_body(headers, receive)
            rental = self.find(user, number_id)
            if method == "GET":
                return Reply(200, rental.resource, payload=rental.encoded)
            return self.release(user, rental)
        except Refused as refused:
            return refused.reply

    def missing(self, number_id: str) -> str:
        """The message of a 404 for this id (an id of another form is not echoed)."""
        shown_id = shown(number_id) if self.number_route.is_valid(number_id) else "with this id"
        return f"No phone number {shown_id} in this organization."

    def not_found(self, number_id: str) -> Refused:
        """404 for a number the user's organization does not hold, in the `not-found-body` reading."""
        return Refused(self.choices.answer("not-found-body", message=self.missing(number_id)))

    def find(self, user: User, number_id: str) -> Rental:
        """The number the user's organization holds by this id, or 404 (unknown, released, another's)."""
        if not self.number_route.is_valid(number_id):
            raise self.not_found(number_id)  # no number has such an id: the store is not asked
        rental = self.store.find(user.organization.id, number_id)
        if rental is None or not rental.held:
            raise self.not_found(number_id)
        return rental

    def release(self, user: User, rental: Rental) -> Reply:
        """The business rule (403 in the `forbidden-delete-code` reading), then the atomic release."""
        reason = rules.release_refusal(user, rental)
        if reason is not None:
            raise Refused(self.choices.answer("forbidden-delete-code", message=reason, hidden=self.missing(rental.id)))
        released = self.store.release(user.organization.id, rental.id, dt.datetime.now(dt.UTC).isoformat())
        if released is None:  # another request released it first
            raise self.not_found(rental.id)
        return self.choices.answer("delete-success-body")
