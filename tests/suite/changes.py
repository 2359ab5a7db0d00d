"""Servers that Close might become without breaking anyone: the default mock, changed in place in one way.

Close changes its API in place (one version, no version header): it adds response fields and
refusal statuses, and its answers may come compressed, chunked, with a charset, with headers of
its own. A client built on the contract keeps working, so the suite must pass each of these with
no finding. Each `Change` rewrites every answer of the API (not the mock's test controls) after
the mock gave it; `chunked` sends the body in pieces without a Content-Length.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from conformance.mock import build
from conformance.mock.app import MockApp
from conformance.mock.script import odd_answer

Headers = list[tuple[str, str]]
Answer = tuple[int, Headers, bytes]
Rewrite = Callable[[dict[str, Any], Answer], Answer]  # (request scope, answer) -> answer
DATE_FIELDS = ("date_created", "date_updated", "next_billing_on")
CHUNK = 7  # bytes of a chunked answer per piece: every body comes in several


@dataclass(frozen=True)
class Change:
    """One change Close might make in place, named as a changelog would."""

    name: str
    rewrite: Rewrite | None = None
    chunked: bool = False
    rate_limited_first: bool = False  # the run meets a 429 (waited out), so the 429's headers are judged too


def _json(answer: Answer, change: Callable[[Any], Any]) -> Answer:
    """The answer with its JSON body changed (other answers, and bodies the change leaves alone, as they are)."""
    status, headers, body = answer
    try:
        value = json.loads(body)
    except ValueError:
        return answer
    changed = json.dumps(change(value)).encode()
    return (status, headers, changed) if changed != json.dumps(value).encode() else answer


def _header(answer: Answer, name: str, change: Callable[[str], str]) -> Answer:
    status, headers, body = answer
    return status, [(key, change(value) if key.lower() == name else value) for key, value in headers], body


def _a_new_field(_scope: dict[str, Any], answer: Answer) -> Answer:
    def add(value: Any) -> Any:
        if isinstance(value, dict) and str(value.get("id", "")).startswith("phon_"):
            return {**value, "caller_id_name": "Close", "routing": {"kind": "default", "weights": [1, 2]}}
        return value

    return _json(answer, add)


NEW_STATUS = "no-number-available"  # a refusal status Close might add tomorrow


def _a_new_refusal_status(scope: dict[str, Any], answer: Answer) -> Answer:
    """The rental's 404 says why in a word the contract does not know yet (every run meets one: its probes)."""

    def rename(value: Any) -> Any:
        if isinstance(value, dict) and value.get("status") == "error":
            return {**value, "status": NEW_STATUS}
        return value

    renting = scope["method"] == "POST" and scope["path"].endswith("/request/internal/")
    return _json(answer, rename) if renting and answer[0] == 404 else answer


def _gzip(scope: dict[str, Any], answer: Answer) -> Answer:
    accepted = b"".join(value for key, value in scope["headers"] if key.lower() == b"accept-encoding")
    status, headers, body = answer
    if b"gzip" not in accepted or not body:
        return answer
    return status, [*headers, ("content-encoding", "gzip"), ("vary", "Accept-Encoding")], gzip.compress(body)


def _charset(_scope: dict[str, Any], answer: Answer) -> Answer:
    return _header(answer, "content-type", lambda value: value + "; charset=utf-8")


def _semicolons(_scope: dict[str, Any], answer: Answer) -> Answer:
    status, headers, body = answer
    if not any(key.lower() == "ratelimit" for key, _ in headers):
        headers = [*headers, ("ratelimit", "limit=160, remaining=159, reset=8")]  # Close sends it on every answer
    return _header((status, headers, body), "ratelimit", lambda value: value.replace(", ", "; "))


def _http_date(_scope: dict[str, Any], answer: Answer) -> Answer:
    def as_date(seconds: str) -> str:
        when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(seconds))
        return email.utils.format_datetime(when, usegmt=True)

    return _header(answer, "retry-after", as_date)


def _no_utc_offset(_scope: dict[str, Any], answer: Answer) -> Answer:
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: item.removesuffix("+00:00") if key in DATE_FIELDS and isinstance(item, str) else item
                for key, item in value.items()
            }
        return value

    return _json(answer, strip)


def _headers_of_its_own(_scope: dict[str, Any], answer: Answer) -> Answer:
    status, headers, body = answer
    own = [
        ("date", email.utils.formatdate(usegmt=True)),
        ("server", "nginx"),
        ("x-request-id", "req_4XrFk2P0e8bV1cQz9mWyTn"),
    ]
    return status, [*headers, *own], body


def _reordered(_scope: dict[str, Any], answer: Answer) -> Answer:
    def reverse(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: reverse(value[key]) for key in reversed(value)}
        if isinstance(value, list):
            return [reverse(item) for item in value]
        return value

    return _json(answer, reverse)


def _a_field_in_every_answer(_scope: dict[str, Any], answer: Answer) -> Answer:
    """A key added to every JSON object answered: rentals, reads, refusals, 401s, 429s, and a release's {}."""
    return _json(answer, lambda value: {**value, "request_id": "req_7d1f"} if isinstance(value, dict) else value)


CHANGES = [
    Change("a new field on the rented number", _a_new_field),
    Change("a new field in every answer, a release's too", _a_field_in_every_answer),
    Change("a new refusal status", _a_new_refusal_status),
    Change("gzip-compressed answers", _gzip),
    Change("chunked answers", chunked=True),
    Change("application/json; charset=utf-8", _charset),
    Change("RateLimit with semicolons", _semicolons, rate_limited_first=True),
    Change("Retry-After as an HTTP date", _http_date, rate_limited_first=True),
    Change("date-times without a UTC offset", _no_utc_offset),
    Change("Date, Server and X-Request-Id headers", _headers_of_its_own),
    Change("keys in another order", _reordered),
]


class ChangedServer:
    """ASGI app: the default mock with one change applied to every answer of the API; `mock` holds the books.

    `changed` counts the answers the change altered, so a test knows the suite met the change.
    """

    def __init__(self, change: Change, mock: MockApp | None = None) -> None:
        self.change = change
        self.mock = mock or build()
        self.changed = 0
        if change.rate_limited_first:
            self.mock.script.push(odd_answer("rate-limited", reset=0))

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.mock(scope, receive, send)
            return
        sent: list[dict[str, Any]] = []

        async def capture(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.mock(scope, receive, capture)
        start = sent[0]
        headers = [(key.decode("latin-1"), value.decode("latin-1")) for key, value in start["headers"]]
        body = b"".join(message.get("body", b"") for message in sent[1:])
        original: Answer = (start["status"], headers, body)
        answer = self.change.rewrite(scope, original) if self.change.rewrite is not None else original
        self.changed += answer != original or (self.change.chunked and len(body) > CHUNK)
        status, headers, body = answer
        headers = [(key, value) for key, value in headers if key.lower() != "content-length"]
        if not self.change.chunked and status != 204:
            headers.append(("content-length", str(len(body))))
        raw = [(key.encode("latin-1"), value.encode("latin-1")) for key, value in headers]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        pieces = [body[at : at + CHUNK] for at in range(0, len(body), CHUNK)] if self.change.chunked else [body]
        for index, piece in enumerate(pieces or [b""]):
            await send({"type": "http.response.body", "body": piece, "more_body": index < len(pieces) - 1})
