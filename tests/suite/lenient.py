"""Lenient servers: the faithful mock behind a front that tolerates one kind of bad request.

Each variant repairs a request the contract forbids (the way careless servers do) before
the mock sees it, so the mock, and its books, say exactly what such a server would rent.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from conformance.mock import build
from conformance.mock.app import MockApp
from tests.suite.faulty import read_body, request_headers

Repair = Callable[[bytes, dict[str, str]], tuple[bytes, dict[str, str]]]
KNOWN_FIELDS = {"country", "sharing", "assign_to", "bundle_id", "carrier_type", "prefix", "with_mms", "with_sms"}


def _on_json(change: Callable[[dict[str, Any]], dict[str, Any]]) -> Repair:
    def repair(raw: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        try:
            body = json.loads(raw)
        except ValueError:
            return raw, headers
        return (json.dumps(change(body)).encode() if isinstance(body, dict) else raw), headers

    return repair


def _first_json_value(raw: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    try:
        value, _ = json.JSONDecoder().raw_decode(raw.decode("utf-8", "replace").lstrip())
    except ValueError:
        return raw, headers
    return json.dumps(value).encode(), headers


def _coerce(body: dict[str, Any]) -> dict[str, Any]:
    fixed = dict(body)
    for flag in ("with_sms", "with_mms"):
        if flag in fixed and not isinstance(fixed[flag], bool | None):
            fixed[flag] = bool(fixed[flag])
    for text in ("prefix", "bundle_id", "country"):
        if text in fixed and fixed[text] is not None and not isinstance(fixed[text], str):
            fixed[text] = str(fixed[text])
    return fixed


def _enums(body: dict[str, Any]) -> dict[str, Any]:
    fixed = dict(body)
    if fixed.get("sharing") not in (None, "personal", "group"):
        fixed["sharing"] = "personal"
    if fixed.get("carrier_type") not in (None, "local", "national", "mobile", "tollfree"):
        fixed["carrier_type"] = None
    return fixed


@dataclass(frozen=True)
class Leniency:
    """One tolerated fault, and the probe that must report it."""

    name: str
    reported_by: str
    repair: Repair


LENIENCIES = [
    Leniency(
        "accepts unknown fields",
        "unknown field",
        _on_json(lambda b: {k: v for k, v in b.items() if k in KNOWN_FIELDS}),
    ),
    Leniency("accepts values outside an enum", "sharing outside its enum", _on_json(_enums)),
    Leniency(
        "cuts an over-long prefix",
        "prefix one past maxLength",
        _on_json(lambda b: {**b, "prefix": b["prefix"][:5]} if isinstance(b.get("prefix"), str) else b),
    ),
    Leniency(
        "upper-cases the country",
        "country in lower case",
        _on_json(lambda b: {**b, "country": b["country"].upper()} if isinstance(b.get("country"), str) else b),
    ),
    Leniency(
        "accepts MMS without SMS",
        "with_mms: true without with_sms: true",
        _on_json(lambda b: {**b, "with_sms": True} if b.get("with_mms") is True else b),
    ),
    Leniency("reads JSON followed by garbage", "valid JSON followed by garbage", _first_json_value),
    Leniency("coerces wrong types", "with_sms of the wrong type", _on_json(_coerce)),
    Leniency(
        "ignores the content type",
        "valid body sent as text/plain",
        lambda raw, headers: (raw, {**headers, "content-type": "application/json"}),
    ),
    Leniency(
        "ignores authentication",
        "no credentials",
        lambda raw, headers: (raw, {**headers, "authorization": "Bearer mock_oauth_token"}),
    ),
]


class LenientServer:
    """ASGI app: the default mock behind one repair; `mock` holds the books."""

    def __init__(self, leniency: Leniency, mock: MockApp | None = None) -> None:
        self.leniency = leniency
        self.mock = mock or build()

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        raw, headers = self.leniency.repair(await read_body(receive), request_headers(scope))
        headers["content-length"] = str(len(raw))
        inner = {**scope, "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]}

        async def inner_receive() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.mock(inner, inner_receive, send)
