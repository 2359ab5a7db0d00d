"""Lenient servers: the faithful mock behind a front that tolerates one kind of bad request.

Each variant is a `Fault` whose raw repair fixes a request the contract forbids (the way
careless servers do) before the mock sees it, so the mock, and its books, say exactly what
such a server would rent. Serve one with `FaultyServer`.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from typing import Any

from tests.suite.faulty import Fault, Repair

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


def lenient(name: str, reported_by: str, repair: Repair) -> Fault:
    """A server that tolerates one kind of bad request; `reported_by` is the probe that must name it."""
    return Fault(name, reported_by, raw=repair)


LENIENCIES = [
    lenient(
        "accepts unknown fields",
        "unknown field",
        _on_json(lambda b: {k: v for k, v in b.items() if k in KNOWN_FIELDS}),
    ),
    lenient("accepts values outside an enum", "sharing outside its enum", _on_json(_enums)),
    lenient(
        "cuts an over-long prefix",
        "prefix one past maxLength",
        _on_json(lambda b: {**b, "prefix": b["prefix"][:5]} if isinstance(b.get("prefix"), str) else b),
    ),
    lenient(
        "upper-cases the country",
        "country in lower case",
        _on_json(lambda b: {**b, "country": b["country"].upper()} if isinstance(b.get("country"), str) else b),
    ),
    lenient(
        "accepts MMS without SMS",
        "with_mms: true without with_sms: true",
        _on_json(lambda b: {**b, "with_sms": True} if b.get("with_mms") is True else b),
    ),
    lenient("reads JSON followed by garbage", "valid JSON followed by garbage", _first_json_value),
    lenient("coerces wrong types", "with_sms of the wrong type", _on_json(_coerce)),
    lenient(
        "ignores the content type",
        "valid body sent as text/plain",
        lambda raw, headers: (raw, {**headers, "content-type": "application/json"}),
    ),
    lenient(
        "ignores authentication",
        "no credentials",
        lambda raw, headers: (raw, {**headers, "authorization": "Bearer mock_oauth_token"}),
    ),
]


def _default_country(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "country": body.get("country") or "US"}


def _form_bodies(raw: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    if "x-www-form-urlencoded" not in headers.get("content-type", ""):
        return raw, headers
    fields = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace")))
    return json.dumps(fields).encode(), {**headers, "content-type": "application/json"}


def _first_key_wins(raw: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    def first(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, value in pairs:
            found.setdefault(key, value)
        return found

    try:
        return json.dumps(json.loads(raw, object_pairs_hook=first)).encode(), headers
    except ValueError:
        return raw, headers


def _list_country(body: dict[str, Any]) -> dict[str, Any]:
    country = body.get("country")
    return {**body, "country": country[0]} if isinstance(country, list) and country else body


# Leniencies no probe can show in safe mode without risking a rental (a body without a country is
# held back, since this server would rent one in the US): safe mode must still rent nothing.
UNSEEN_LENIENCIES = [
    lenient("defaults a missing country to US", "missing required country", _on_json(_default_country)),
    lenient("reads form-encoded bodies", "", _form_bodies),
    lenient("takes the first of a key given twice", "", _first_key_wins),
    lenient("strips a byte order mark", "", lambda raw, headers: (raw.removeprefix(b"\xef\xbb\xbf"), headers)),
    lenient("takes the first country of a list", "", _on_json(_list_country)),
]
