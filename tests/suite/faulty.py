"""Deliberately faulty servers: the default mock, deviating from the contract in exactly one way.

Each fault rewrites the request before the mock sees it, or the answer after, so the rest of
the behaviour stays faithful and the suite must catch the one deviation.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from conformance.mock import build
from conformance.mock.app import MockApp
from conformance.serving import receive_all

Body = dict[str, Any]
Answer = tuple[int, dict[str, str], bytes]


Repair = Callable[[bytes, dict[str, str]], tuple[bytes, dict[str, str]]]


@dataclass(frozen=True)
class Fault:
    """One deviation: rewrite the raw request, the parsed request body/headers, and/or the answer."""

    name: str
    expect: str  # the check (or fixed probe) that must report it
    request: Callable[[Any, dict[str, str]], tuple[Any, dict[str, str]]] | None = None
    answer: Callable[[Any, Answer], Answer] | None = None
    raw: Repair | None = None  # applied first, to the bytes and headers as they arrived


def _json_answer(status: int, headers: dict[str, str], body: Any) -> Answer:
    return status, headers, json.dumps(body).encode()


def _on_rental(change: Callable[[Body], Body]) -> Callable[[Any, Answer], Answer]:
    def rewrite(_request: Any, answer: Answer) -> Answer:
        status, headers, raw = answer
        return _json_answer(status, headers, change(json.loads(raw))) if status == 201 else answer

    return rewrite


def _on_body(change: Callable[[Body], Body]) -> Callable[[Any, dict[str, str]], tuple[Any, dict[str, str]]]:
    def rewrite(body: Any, headers: dict[str, str]) -> tuple[Any, dict[str, str]]:
        return (change(dict(body)) if isinstance(body, dict) else body), headers

    return rewrite


def _without(key: str) -> Callable[[Body], Body]:
    return lambda body: {k: v for k, v in body.items() if k != key}


def _crash_on_null_bundle(body: Any, answer: Answer) -> Answer:
    if isinstance(body, dict) and "bundle_id" in body and body["bundle_id"] is None:
        return 500, {"content-type": "text/plain"}, b"Internal Server Error"
    return answer


def _later(moment: str, *, days: int) -> str:
    return (dt.datetime.fromisoformat(moment) + dt.timedelta(days=days)).isoformat()


def _crash_on_empty_string(body: Any, answer: Answer) -> Answer:
    if isinstance(body, dict) and "" in [value for key, value in body.items() if key != "prefix"]:
        return 500, {"content-type": "text/plain"}, b"Internal Server Error"
    return answer


def _refuse_large_bodies(body: Any, answer: Answer) -> Answer:
    if len(json.dumps(body)) > 32_768:
        return _json_answer(413, {"content-type": "application/json"}, {"status": "error", "error": "too large"})
    return answer


def _wrong_field_named(_body: Any, answer: Answer) -> Answer:
    status, headers, raw = answer
    refused = json.loads(raw) if status == 400 else {}
    if isinstance(refused.get("field-errors"), dict) and refused["field-errors"]:
        refused["field-errors"] = {"country": "invalid"}
        return _json_answer(status, headers, refused)
    return answer


def _plain_text_errors(_body: Any, answer: Answer) -> Answer:
    status, headers, raw = answer
    if status == 400:
        return status, {**headers, "content-type": "text/plain"}, json.loads(raw)["error"].encode()
    return answer


def _no_challenge(_body: Any, answer: Answer) -> Answer:
    status, headers, raw = answer
    return (status, {k: v for k, v in headers.items() if k != "www-authenticate"}, raw) if status == 401 else answer


def _reject_bearer(body: Any, headers: dict[str, str]) -> tuple[Any, dict[str, str]]:
    if headers.get("authorization", "").lower().startswith("bearer"):
        headers = {**headers, "authorization": "Bearer refused"}
    return body, headers


def _ignore_auth(body: Any, headers: dict[str, str]) -> tuple[Any, dict[str, str]]:
    return body, {**headers, "authorization": "Bearer mock_oauth_token"}


def _voice_only_forever(body: Any, answer: Answer) -> Answer:
    if (
        isinstance(body, dict)
        and body.get("with_sms") is False
        and body.get("country") in ("GB", "NL", "SE", "MX", "BR", "NZ")
    ):
        return _json_answer(
            400, {"content-type": "application/json"}, {"status": "has-voice-only", "error": "voice only"}
        )
    return answer


def _other_country(body: Body) -> Body:
    return {**body, "country": "CA" if body.get("country") == "US" else "US", "prefix": ""}


FAULTS = [
    Fault(
        "accepts a six-character prefix",
        "request_validation",  # the deterministic boundary probe, not the luck of generation
        request=_on_body(lambda b: {**b, "prefix": b["prefix"][:5]} if isinstance(b.get("prefix"), str) else b),
    ),
    Fault(
        "answers 200 instead of 201",
        "status_code_conformance",
        answer=lambda _b, a: (200, a[1], a[2]) if a[0] == 201 else a,
    ),
    Fault("omits a required field", "response_schema_conformance", answer=_on_rental(_without("number_formatted"))),
    Fault(
        "returns a wrong type", "response_schema_conformance", answer=_on_rental(lambda r: {**r, "sms_enabled": "yes"})
    ),
    Fault("ignores authentication", "authentication", request=_ignore_auth),
    Fault("rejects Bearer", "authentication", request=_reject_bearer),
    Fault("rents in the wrong country", "rented_number_in_requested_country", request=_on_body(_other_country)),
    Fault("ignores the prefix", "rented_number_has_requested_prefix", request=_on_body(lambda b: {**b, "prefix": ""})),
    Fault(
        "allows MMS without SMS",
        "request_validation",
        request=_on_body(lambda b: {**b, "with_sms": True} if b.get("with_mms") is True else b),
    ),
    Fault("crashes on one input", "not_a_server_error", answer=_crash_on_null_bundle),
    Fault("answers an error as text/plain", "content_type_conformance", answer=_plain_text_errors),
    Fault("401 without WWW-Authenticate", "response_headers_conformance", answer=_no_challenge),
    Fault("has-voice-only even with with_sms false", "voice_only_retry_is_not_voice_only", answer=_voice_only_forever),
    Fault(
        "a group number marked personal",
        "rented_number_ownership",
        answer=_on_rental(lambda r: {**r, "is_group_number": False, "user_id": "user_x"}),
    ),
    Fault("ignores with_mms", "rented_number_capabilities", answer=_on_rental(lambda r: {**r, "mms_enabled": False})),
    Fault(
        "ignores the carrier type",
        "rented_number_of_requested_carrier_type",
        request=_on_body(_without("carrier_type")),
    ),
    Fault(
        "number is not E.164",
        "response_schema_conformance",
        answer=_on_rental(lambda r: {**r, "number": r["number"].lstrip("+")}),
    ),
    Fault("type is not internal", "rented_number_ownership", answer=_on_rental(lambda r: {**r, "type": "external"})),
    Fault(
        "refusal without status",
        "response_schema_conformance",
        answer=lambda _b, a: _json_answer(a[0], a[1], {"error": "no"}) if a[0] in (403, 404) else a,
    ),
    # Round 2 (issue 13): one server per class of fault.
    # 1. internal consistency of a rented number
    Fault(
        "number_formatted is another number",
        "rented_number_is_consistent",
        answer=_on_rental(lambda r: {**r, "number_formatted": r["number_formatted"][:-1] + "0"}),
    ),
    Fault(
        "names another bundle than it rented under",
        "rented_number_is_consistent",
        answer=_on_rental(lambda r: {**r, "bundle_id": "bund_someoneElse"} if r["bundle_id"] else r),
    ),
    Fault(
        "forwarding on without a number",
        "rented_number_is_consistent",
        answer=_on_rental(lambda r: {**r, "forward_to_enabled": True}),
    ),
    Fault(
        "a group number's numbers unpaired",
        "rented_number_is_consistent",
        answer=_on_rental(
            lambda r: (
                {**r, "phone_numbers": ["+16505550100"], "phone_numbers_formatted": []} if r["is_group_number"] else r
            )
        ),
    ),
    Fault(
        "texts abroad without SMS",
        "rented_number_is_consistent",
        answer=_on_rental(lambda r: {**r, "supports_sms_to_countries": ["US"]} if not r["sms_enabled"] else r),
    ),
    Fault(
        "calls every number mobile",
        "rented_number_is_consistent",
        answer=_on_rental(lambda r: {**r, "carrier_type": "tollfree"} if r["carrier_type"] == "local" else r),
    ),
    Fault(
        "assigns to the requester whatever assign_to says",
        "rented_number_ownership",
        request=_on_body(lambda b: {k: v for k, v in b.items() if k != "assign_to"}),
    ),
    Fault(
        "participants ignore assign_to",
        "rented_number_ownership",
        answer=_on_rental(lambda r: {**r, "participants": ["user_somebodyElse"]}),
    ),
    # 2. invariants across the rentals of a run
    Fault(
        "hands out the same id twice",
        "rentals_are_distinct_and_stable",
        answer=_on_rental(lambda r: {**r, "id": "phon_always"}),
    ),
    Fault(
        "a different owner every time",
        "rentals_are_distinct_and_stable",
        answer=_on_rental(
            lambda r: (
                {**r, "user_id": f"user_x{r['number'][-4:]}", "participants": [f"user_x{r['number'][-4:]}"]}
                if r["user_id"]
                else r
            )
        ),
    ),
    # 3. time
    Fault(
        "created long ago",
        "rented_number_dates",
        answer=_on_rental(lambda r: {**r, "date_created": "2020-01-01T00:00:00+00:00"}),
    ),
    Fault(
        "billed before it was rented",
        "rented_number_dates",
        answer=_on_rental(lambda r: {**r, "next_billing_on": "2021-01-01T00:00:00+00:00"}),
    ),
    Fault(
        "updated in the future",
        "rented_number_dates",
        answer=_on_rental(lambda r: {**r, "date_updated": "2099-01-01T00:00:00+00:00"}),
    ),
    Fault(
        "billed next in two years",
        "rented_number_dates",
        answer=_on_rental(lambda r: {**r, "next_billing_on": _later(r["date_created"], days=730)}),
    ),
    # 4. strict request handling
    Fault("crashes on an empty optional string", "not_a_server_error", answer=_crash_on_empty_string),
    Fault("refuses large allowed bodies", "valid_request_accepted", answer=_refuse_large_bodies),
    Fault(
        "refuses whitespace around the JSON",
        "valid_request_accepted",
        raw=lambda raw, headers: (raw + b" trailing" if raw[:1].isspace() or raw[-1:].isspace() else raw, headers),
    ),
    Fault(
        "refuses a charset parameter",
        "valid_request_accepted",
        raw=lambda raw, headers: (
            raw,
            {**headers, "content-type": "text/plain"} if ";" in headers.get("content-type", "") else headers,
        ),
    ),
    Fault(
        "reads JSON followed by garbage",
        "request_validation",
        raw=lambda raw, headers: (raw.split(b" trailing")[0], headers),
    ),
    # 5. refusals that explain themselves
    Fault("field-errors name the wrong field", "request_validation", answer=_wrong_field_named),
]


def request_headers(scope: dict[str, Any]) -> dict[str, str]:
    """The request's headers, names in lower case (the last of a repeated header wins)."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


read_body = receive_all  # the whole request body of an ASGI request, as the mock reads it


class FaultyServer:
    """ASGI app: the default mock (or the one given) with one fault applied; `mock` holds the books."""

    def __init__(self, fault: Fault, mock: MockApp | None = None) -> None:
        self.fault = fault
        self.mock = mock or build()

    def _rewrite_request(self, raw: bytes, headers: dict[str, str]) -> tuple[Any, bytes, dict[str, str]]:
        if self.fault.raw is not None:
            raw, headers = self.fault.raw(raw, headers)
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        if self.fault.request is None:
            return body, raw, headers
        new_body, headers = self.fault.request(body, headers)
        if body is not None and new_body is not body:
            return new_body, json.dumps(new_body).encode(), headers
        return body, raw, headers

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        raw = await read_body(receive)
        headers = request_headers(scope)
        body, raw, headers = self._rewrite_request(raw, headers)
        headers["content-length"] = str(len(raw))
        inner_scope = {**scope, "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]}
        sent: dict[str, Any] = {}

        async def inner_receive() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        async def capture(message: dict[str, Any]) -> None:
            sent.setdefault(message["type"], message)

        await self.mock(inner_scope, inner_receive, capture)
        start = sent["http.response.start"]
        answer: Answer = (
            start["status"],
            {k.decode(): v.decode() for k, v in start["headers"]},
            sent["http.response.body"]["body"],
        )
        if self.fault.answer is not None and scope["path"].endswith("/internal/"):
            answer = self.fault.answer(body, answer)
        status, out_headers, payload = answer
        out_headers["content-length"] = str(len(payload))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in out_headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": payload})
