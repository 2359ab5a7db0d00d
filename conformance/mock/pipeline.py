"""The request pipeline: small named stages, each answering in the contract's error shape.

    rental:          route -> authenticate -> rate limit -> content type -> body size -> JSON
                           -> validate -> business rules -> rent
    GET a number:    route -> authenticate -> rate limit -> (body dropped) -> find
    DELETE a number: route -> authenticate -> rate limit -> (body dropped) -> find
                           -> business rules (may this user release it?) -> release

A stage either returns what the next one needs or raises `Refused` with the answer, so a
refused request never reaches the store and changes nothing. Where Close is silent, each stage
follows the reading of the contract's choice the scenario picked (`choices.py`): the 401's
challenge, the 429's Retry-After, a body without a Content-Type, the largest body, a key given
twice, the request rules a reading relaxes (`validation.py`), a business refusal's code.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from typing import TYPE_CHECKING, Any

from conformance import jsonbody
from conformance.mock import rules
from conformance.mock.model import OverBudget, Rented
from conformance.mock.replies import Refused, Reply, refusal
from conformance.mock.routes import shown, today_route
from conformance.mock.validation import RequestRules
from conformance.serving import receive_body

if TYPE_CHECKING:
    from conformance.mock.choices import Choices, KeepOne
    from conformance.mock.model import Rental
    from conformance.mock.scenario import RateLimit, Scenario, User
    from conformance.mock.store import Store
    from conformance.serving import Receive

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


def authenticate(headers: Headers, credentials: Credentials, choices: Choices) -> tuple[User, str]:
    """Stage 1: return the user and a credential label, or refuse with 401 (its challenge: `www-authenticate`)."""

    def unauthenticated(message: str) -> Refused:
        return choices.refused("www-authenticate", message=message)

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

    def __init__(self, rule: RateLimit, choices: Choices) -> None:
        self.rule = rule
        self.choices = choices
        self.windows: dict[str, tuple[float, int]] = {}
        self.lock = threading.Lock()

    def admit(self, credential: str) -> None:
        """Stage 2: count the request, or refuse with 429 and Close's rate-limit body (Retry-After: `retry-after`)."""
        now = time.monotonic()
        with self.lock:
            start, used = self.windows.get(credential, (now, 0))
            if now - start >= self.rule.window_seconds:
                start, used = now, 0
            self.windows[credential] = (start, used + 1)
        if used < self.rule.limit:
            return
        reset = max(self.rule.window_seconds - (now - start), 0.0)
        raise self.choices.refused("retry-after", limit=self.rule.limit, window=self.rule.window_seconds, reset=reset)

    def reset(self) -> None:
        """Forget every window (a new test starts with a full allowance)."""
        with self.lock:
            self.windows.clear()


def check_content_type(headers: Headers, choices: Choices) -> None:
    """Stage 3: the body must be sent as JSON (UTF-8), else 415; one sent without a type: `content-type-missing`."""
    values = header_values(headers, b"content-type")
    if not values and choices.setting("content-type-missing"):
        return  # read as JSON
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


async def read_body(headers: Headers, receive: Receive, limit: int) -> bytes:
    """Stage 4: read at most `limit` bytes (the `body-limit` reading's), else 413.

    A body declared larger than DRAIN_BYTES is refused without reading any of it; a smaller excess
    is read and dropped first, so the 413 reaches the client instead of a connection reset.
    """
    too_large = refusal(413, f"The request body is larger than {limit} bytes.")
    for value in header_values(headers, b"content-length"):
        if value.isdigit() and int(value) > DRAIN_BYTES:
            raise too_large
    body, size = await receive_body(receive, limit + 1, DRAIN_BYTES)
    if size > limit:
        raise too_large
    return body


async def drop_body(headers: Headers, receive: Receive) -> None:
    """GET and DELETE take no body: one sent is read (up to DRAIN_BYTES, so the answer is not lost) and dropped."""
    for value in header_values(headers, b"content-length"):
        if value.isdigit() and int(value) > DRAIN_BYTES:
            return
    await receive_body(receive, 0, DRAIN_BYTES)


def parse_json(raw: bytes, keep: KeepOne | None = None) -> Any:
    """Stage 5: strict JSON (the project's one reader, `jsonbody.read_strict`), else 400.

    `keep` (the `duplicate-keys` reading's): of a key given twice, the value kept; None refuses it.
    """
    try:
        return jsonbody.read_strict(raw) if keep is None else _read_keeping(raw, keep)
    except jsonbody.NotJSON as error:
        raise refusal(
            400, f"The request body is not valid JSON: {error}", errors=[f"malformed JSON: {error}"]
        ) from None


def _read_keeping(raw: bytes, keep: KeepOne) -> Any:
    """Strict JSON, except that of a key given twice `keep` picks the value.

    Every value, kept or dropped, is still held to the strict reader's rules (NaN, lone
    surrogates): the reading relaxes the repeated key and nothing else.
    """
    try:
        text = raw.decode("utf-8")
        every = json.dumps(json.loads(text, object_pairs_hook=list)).encode("ascii")  # objects as lists of pairs
        kept = json.loads(text, object_pairs_hook=keep)
    except (ValueError, UnicodeError, RecursionError):
        return jsonbody.read_strict(raw)  # no JSON at all: the strict reader says why
    jsonbody.read_strict(every)
    return kept


class Pipeline:
    """The endpoint: runs the stages in order for one request."""

    def __init__(self, scenario: Scenario, store: Store) -> None:
        self.scenario = scenario
        self.store = store
        self.credentials = Credentials(scenario)
        self.contract = scenario.contract
        self.choices = scenario.readings()
        self.rate_limiter = RateLimiter(scenario.rate_limit, self.choices) if scenario.rate_limit else None
        self.rules = RequestRules(self.contract, self.choices)
        self.body_limit = int(self.choices.setting("body-limit"))
        self.keep_one = self.choices.setting("duplicate-keys")
        self.number_route = today_route()

    async def handle(self, headers: Headers, receive: Receive) -> Reply:
        """Answer one POST to the endpoint."""
        try:
            user, credential = authenticate(headers, self.credentials, self.choices)
            if self.rate_limiter:
                self.rate_limiter.admit(credential)
            check_content_type(headers, self.choices)
            raw = await read_body(headers, receive, self.body_limit)
            body = self.rules.validate(parse_json(raw, self.keep_one))
            return self.rent(user, rules.Order.from_body(body))
        except Refused as refused:
            return refused.reply

    def rent(self, user: User, order: rules.Order) -> Reply:
        """Stages 7 and 8: apply the business rules, then rent atomically."""
        owners = rules.assignees(self.scenario, user, order, self.choices)
        offers = rules.plan(self.scenario, user, order, self.choices)
        make = rules.rental_factory(user, order, owners, self.scenario.generation, self.choices)
        outcome = self.store.rent(user.organization, offers, make)
        if isinstance(outcome, Rented):
            return Reply(201, outcome.rental.resource, payload=outcome.rental.encoded)
        if isinstance(outcome, OverBudget):
            raise self.choices.refused("refusal-codes", status="billing-error", message=outcome.reason)
        raise refusal(404, f"No number is left for a {rules.describe(order)}.")

    async def number(self, method: str, number_id: str, headers: Headers, receive: Receive) -> Reply:
        """Answer a GET (retrieve) or DELETE (release) of one phone number."""
        try:
            user, credential = authenticate(headers, self.credentials, self.choices)
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
