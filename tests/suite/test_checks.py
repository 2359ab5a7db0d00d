"""Every check, rule by rule: one exchange (or sequence) that passes, one that fails, and where it does not apply.

Each case is judged by the one judge, as every front-end's exchanges are. A failing case names
the finding's key (`check: subject`) and its basis as the contract marks it: `documented`
with the source, or `chosen` with the choice id. A check that does not apply to an exchange
does not count it (`tallies[name].judged`), so counts in reports are honest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from conformance.suite import checks, findings
from conformance.suite.exchange import INVALID, NONE, PRESENT, Exchange
from conformance.suite.judge import Judge
from tests.suite.views import (
    CONTRACT,
    JSON,
    RENT,
    answer,
    judged,
    read,
    release,
    rental,
    rented,
    sent,
)

Make = Callable[[], list[Exchange]]
ID = "phon_4XrFk2P0e8bV1cQz9mWyTn"  # the contract's example rental
NUMBER = "+16503335555"
USER, OTHER = "user_8Tq3nLw0Zc5Hb2Rk7pYsVd", "user_2Hc7Vb1Nm4Qx8Lk0Pw3Zt5"
TEXT = [("content-type", "text/plain")]
HTML = [("content-type", "text/html")]
CHALLENGE = 'Basic realm="Close API", Bearer realm="Close API"'
RATE_LIMIT = "limit=160, remaining=0, reset=8"
HTTP_DATE = "Wed, 21 Oct 2099 07:28:00 GMT"
RATE_LIMITED = {"error": {"message": "API call count exceeded", "rate_reset": 0.87}}
CREATED = dt.datetime.fromisoformat(rented()["date_created"]).timestamp()
NAIVE = "2026-11-27T15:04:05"  # the example's date_created without its offset


def shown(exchanges: list[Exchange], judge: Judge) -> str:
    """What was judged and found, for a failure message."""
    lines = [
        f"  {e.number}. {e.method} {e.path} {e.body[:80]!r} -> {e.status} {e.response_body[:80]!r}" for e in exchanges
    ]
    lines += [f"  found {f.key} [{f.problem.basis.label()}]: {f.problem.message}" for f in judge.verdicts.findings()]
    return "\n" + "\n".join(lines)


def invalid(status: int, response: Any, request: Any, **options: Any) -> Make:
    return lambda: [rental(request, status, response, **options)]


def business_404(request: Any, **options: Any) -> Make:
    return invalid(404, {"status": "error", "error": "no number"}, request, **options)


def rent_then(*after: Callable[[], Exchange], first: Callable[[], Exchange] = rental) -> Make:
    return lambda: [first(), *(make() for make in after)]


def at(seconds: float, exchange: Exchange) -> Exchange:
    exchange.started, exchange.elapsed = seconds, 0.5
    return exchange


# (check, exchanges, the key it finds or None when it passes, the basis as (kind, ref))
# fmt: off
RULES = [
    # -- every answer ---------------------------------------------------------------------------
    pytest.param("not_a_server_error", lambda: [rental()], None, None, id="a 201 is no server error"),
    pytest.param(
        "not_a_server_error", invalid(500, b"oops", {"country": "US"}, headers=TEXT), "not_a_server_error: 500",
        ("documented", "seed"), id="a 500 to a rental",
    ),
    pytest.param(
        "not_a_server_error", lambda: [read(ID, 503, b"", headers=TEXT)], "not_a_server_error: 503",
        ("documented", "reference"), id="a 503 to a read",
    ),
    pytest.param(
        "not_a_server_error", lambda: [answer(sent("PUT", RENT, {}), 500, b"", TEXT)], "not_a_server_error: 500",
        ("documented", "http"), id="a 500 to an undocumented method",
    ),
    pytest.param("status_code_conformance", lambda: [rental()], None, None, id="201 is documented"),
    pytest.param(
        "status_code_conformance", invalid(200, rented(), {"country": "US"}), "status_code_conformance: 200",
        ("documented", "seed"), id="200 to a rental",
    ),
    pytest.param(
        "status_code_conformance", invalid(422, {"status": "has-voice-only"}, {"country": "US"}),
        "status_code_conformance: 422 (refusal-codes)", ("chosen", "refusal-codes"),
        id="422: another reading of refusal-codes",
    ),
    pytest.param(
        "status_code_conformance",
        invalid(422, {"status": "error", "error": "x", "field-errors": {"assign_to": "inactive"}},
                {"country": "US", "assign_to": [OTHER]}),
        "status_code_conformance: 422 (assignee-code)", ("chosen", "assignee-code"),
        id="422 naming an assignee: assignee-code",
    ),
    pytest.param(
        "status_code_conformance", lambda: [release(ID, 204, b"", headers=[])],
        "status_code_conformance: 204 (delete-success-body)",
        ("chosen", "delete-success-body"), id="204 to a release: another reading of its body",
    ),
    pytest.param(
        "status_code_conformance", lambda: [release(ID, 400, {"status": "error", "error": "no"})],
        "status_code_conformance: 400 (forbidden-delete-code)", ("chosen", "forbidden-delete-code"),
        id="400 to a release",
    ),
    pytest.param(
        "unsupported_method_answer", lambda: [answer(sent("PUT", RENT, {}), 405, b"", [("allow", "POST")])], None,
        None, id="405 with Allow",
    ),
    pytest.param(
        "unsupported_method_answer", lambda: [answer(sent("PUT", RENT, {}), 405, b"", [])],
        "unsupported_method_answer: 405 without Allow", ("documented", "http"), id="405 without Allow",
    ),
    pytest.param(
        "unsupported_method_answer", lambda: [answer(sent("PATCH", RENT, {}), 200, {})],
        "unsupported_method_answer: PATCH answered", ("documented", "http"), id="an undocumented method served",
    ),
    pytest.param(
        "content_type_conformance", lambda: [rental(headers=[("Content-Type", "application/json; charset=utf-8")])],
        None, None, id="JSON with a charset",
    ),
    pytest.param(
        "content_type_conformance", lambda: [rental(headers=HTML)], "content_type_conformance: 201: text/html",
        ("documented", "seed"), id="a rental as HTML",
    ),
    pytest.param(
        "content_type_conformance", lambda: [rental(headers=[])], "content_type_conformance: 201: no Content-Type",
        ("documented", "seed"), id="a rental without Content-Type",
    ),
    pytest.param(
        "content_type_conformance", lambda: [read(ID, 404, b"<html>", headers=HTML)],
        "content_type_conformance: 404: text/html", ("documented", "reference"),
        id="a read's 404 as HTML: the read's source (a shared response)",
    ),
    pytest.param(
        "response_headers_conformance",
        invalid(401, {"status": "error", "error": "no"}, None, auth=NONE,
                headers=[("content-type", "application/json"), ("www-authenticate", CHALLENGE)]),
        None, None, id="401 with WWW-Authenticate",
    ),
    pytest.param(
        "response_headers_conformance", invalid(401, {"status": "error", "error": "no"}, None, auth=NONE),
        "response_headers_conformance: 401 WWW-Authenticate: missing", ("chosen", "www-authenticate"),
        id="401 without WWW-Authenticate",
    ),
    pytest.param(
        "response_headers_conformance",
        invalid(401, {"status": "error", "error": "no"}, None, auth=NONE, headers=[("www-authenticate", "")]),
        "response_headers_conformance: 401 WWW-Authenticate: form", ("chosen", "www-authenticate"),
        id="401 with an empty WWW-Authenticate",
    ),
    pytest.param(
        "response_headers_conformance",
        invalid(429, RATE_LIMITED, None, headers=[("ratelimit", RATE_LIMIT), ("retry-after", HTTP_DATE)]),
        None, None, id="429 with RateLimit and Retry-After as an HTTP date",
    ),
    pytest.param(
        "response_headers_conformance",
        invalid(429, RATE_LIMITED, None, headers=[("ratelimit", RATE_LIMIT), ("retry-after", "8")]),
        None, None, id="429 with Retry-After in seconds",
    ),
    pytest.param(
        "response_headers_conformance", invalid(429, RATE_LIMITED, None, headers=[("retry-after", "8")]),
        "response_headers_conformance: 429 RateLimit: missing", ("documented", "errors"), id="429 without RateLimit",
    ),
    pytest.param(
        "response_headers_conformance",
        invalid(429, RATE_LIMITED, None, headers=[("ratelimit", "limit=160"), ("retry-after", "8")]),
        "response_headers_conformance: 429 RateLimit: form", ("documented", "errors"),
        id="429 with RateLimit cut short",
    ),
    pytest.param(
        "response_headers_conformance", invalid(429, RATE_LIMITED, None, headers=[("ratelimit", RATE_LIMIT)]),
        "response_headers_conformance: 429 Retry-After: missing", ("chosen", "retry-after"),
        id="429 without Retry-After",
    ),
    pytest.param(
        "response_headers_conformance",
        invalid(429, RATE_LIMITED, None, headers=[("ratelimit", RATE_LIMIT), ("retry-after", "Wednesday")]),
        "response_headers_conformance: 429 Retry-After: form", ("chosen", "retry-after"),
        id="429 with Retry-After neither seconds nor an HTTP date",
    ),
    pytest.param(
        "response_headers_conformance",
        lambda: [read(ID, 429, RATE_LIMITED, headers=[*JSON, ("ratelimit", RATE_LIMIT)])],
        "response_headers_conformance: 429 Retry-After: missing", ("chosen", "retry-after"),
        id="a read's 429 without Retry-After (a shared response)",
    ),
    pytest.param("response_schema_conformance", lambda: [rental()], None, None, id="the example rental"),
    pytest.param(
        "response_schema_conformance", invalid(201, rented(sms_enabled="yes"), None),
        "response_schema_conformance: 201 PhoneNumber sms_enabled: type", ("documented", "reference"),
        id="a rental with a string for a boolean",
    ),
    pytest.param(
        "response_schema_conformance", invalid(201, rented(number_formatted=""), None),
        "response_schema_conformance: 201 PhoneNumber number_formatted: minLength",
        ("chosen", "number-formatted-international"), id="a rental with an empty number_formatted",
    ),
    pytest.param(
        "response_schema_conformance", invalid(201, b"<html>rented</html>", None, headers=HTML),
        "response_schema_conformance: 201: not JSON", ("documented", "seed"), id="a rental that is not JSON",
    ),
    pytest.param(
        "response_schema_conformance", invalid(400, {"error": "no"}, None),
        "response_schema_conformance: 400 Refusal (body): required", ("documented", "seed"),
        id="a refusal without status",
    ),
    pytest.param(
        "response_schema_conformance", lambda: [read(ID, 404, {"message": "gone"})],
        "response_schema_conformance: 404 NotFound (body): required", ("chosen", "not-found-body"),
        id="a read's 404 without error",
    ),
    pytest.param(
        "response_schema_conformance", lambda: [read(ID, 404, b"gone", headers=TEXT)],
        "response_schema_conformance: 404: not JSON", ("documented", "reference"),
        id="a read's 404 that is not JSON: the read's source (a shared response)",
    ),
    pytest.param(
        "response_schema_conformance", lambda: [release(ID, 200, [])],
        "response_schema_conformance: 200 DeletedPhoneNumber (body): type",
        ("chosen", "delete-success-body"), id="a release answered with a list, not an object",
    ),
    pytest.param(
        "rate_limit_answer", invalid(429, {"error": {"message": "slow"}}, None, headers=[("retry-after", HTTP_DATE)]),
        None, None, id="429 with Retry-After as an HTTP date",
    ),
    pytest.param(
        "rate_limit_answer", invalid(429, RATE_LIMITED, None, headers=[]), None, None, id="429 with rate_reset",
    ),
    pytest.param(
        "rate_limit_answer", invalid(429, {"error": {"message": "slow"}}, None, headers=[("ratelimit", RATE_LIMIT)]),
        None, None, id="429 with a RateLimit reset",
    ),
    pytest.param(
        "rate_limit_answer", invalid(429, {"error": {"message": "slow"}}, None), "rate_limit_answer: no wait given",
        ("documented", "errors"), id="429 without any wait",
    ),
    # -- requests -------------------------------------------------------------------------------
    pytest.param(
        "request_validation",
        invalid(400, {"status": "error", "error": "x", "field-errors": {"prefix": "too long"}},
                {"country": "US", "prefix": "123456"}),
        None, None, id="an over-long prefix refused with 400 naming prefix",
    ),
    pytest.param(
        "request_validation", invalid(415, {"status": "error", "error": "x"}, {"country": "US"},
                                      content_type="text/plain"),
        None, None, id="text/plain refused with 415",
    ),
    pytest.param(
        "request_validation", business_404({"country": "US", "prefix": "123456"}),
        "request_validation: prefix: maxLength", ("documented", "seed"), id="an over-long prefix reaching business",
    ),
    pytest.param(
        "request_validation",
        invalid(400, {"status": "has-voice-only", "error": "x"}, {"country": "US", "prefix": "123456"}),
        "request_validation: prefix: maxLength", ("documented", "seed"),
        id="an over-long prefix refused by a business rule",
    ),
    pytest.param(
        "request_validation", invalid(400, {"status": "error", "error": "x"}, {"country": "US"},
                                      content_type="text/plain"),
        "request_validation: Content-Type text/plain", ("documented", "status-codes"), id="text/plain refused with 400",
    ),
    pytest.param(
        "request_validation", invalid(400, {"status": "error", "error": "x"}, {"country": "US"}, content_type=None),
        "request_validation: no Content-Type", ("chosen", "content-type-missing"),
        id="no Content-Type refused with 400",
    ),
    pytest.param(
        "request_validation", business_404(b'{"country": "US", "country": "AQ"}'),
        "request_validation: duplicate key", ("chosen", "duplicate-keys"), id="a key given twice",
    ),
    pytest.param(
        "request_validation", business_404(b'{"country": "US"'), "request_validation: not JSON",
        ("documented", "json"), id="a body that is not JSON",
    ),
    pytest.param(
        "request_validation", business_404(b""), "request_validation: no body", ("documented", "seed"),
        id="no body: the operation's required body, not a choice about JSON",
    ),
    pytest.param(
        "request_validation", business_404({"country": "US", "colour": "red"}), "request_validation: unknown field",
        ("documented", "seed"), id="an unknown field",
    ),
    pytest.param(
        "request_validation", business_404({"country": "US", "assign_to": None}),
        "request_validation: assign_to: type null", ("chosen", "assign-to-null"), id="assign_to null",
    ),
    pytest.param(
        "request_validation", business_404({"country": "US", "assign_to": []}),
        "request_validation: assign_to: minItems", ("chosen", "assign-to-empty"), id="assign_to empty",
    ),
    pytest.param(
        "request_validation", business_404({"country": "US", "with_mms": True, "with_sms": False}),
        "request_validation: with_mms: true needs with_sms: true", ("documented", "seed"), id="MMS without SMS",
    ),
    pytest.param(
        "request_validation", business_404({"prefix": "650"}), "request_validation: country: required",
        ("documented", "seed"), id="no country",
    ),
    pytest.param(
        "request_validation",
        invalid(400, {"status": "error", "error": "x", "field-errors": {"country": "bad"}},
                {"country": "US", "prefix": "123456"}),
        "request_validation: field-errors name prefix: maxLength", ("documented", "errors"),
        id="a 400 naming another field",
    ),
    pytest.param(
        "request_validation", lambda: [read("not-an-id", 200, rented())], "request_validation: phone_number_id: form",
        ("documented", "reference"), id="a read of an id of the wrong form answered 200",
    ),
    pytest.param(
        "request_validation", lambda: [read("not-an-id", 404, {"error": "no such number"})], None, None,
        id="a read of an id of the wrong form refused as not found",
    ),
    pytest.param(
        "invalid_request_never_rents", invalid(400, {"status": "error", "error": "x"}, {"country": "us"}), None, None,
        id="an invalid country refused",
    ),
    pytest.param(
        "invalid_request_never_rents", invalid(201, rented(), {"country": "US", "prefix": "123456"}),
        "invalid_request_never_rents: prefix: maxLength", ("documented", "seed"), id="an over-long prefix rented",
    ),
    pytest.param(
        "invalid_request_never_rents", invalid(201, rented(), {"country": "US", "assign_to": [], "prefix": "123456"}),
        "invalid_request_never_rents: prefix: maxLength", ("documented", "seed"),
        id="of several faults the documented one names the cause",
    ),
    pytest.param(
        "invalid_request_never_rents", invalid(201, rented(), {"country": "US", "assign_to": []}),
        "invalid_request_never_rents: assign_to: minItems", ("chosen", "assign-to-empty"),
        id="an empty assign_to rented",
    ),
    pytest.param(
        "valid_request_accepted", business_404({"country": "US"}), None, None, id="a valid request refused by business",
    ),
    pytest.param(
        "valid_request_accepted",
        invalid(400, {"status": "error", "error": "x", "field-errors": {"assign_to": "inactive"}},
                {"country": "US", "assign_to": [OTHER]}),
        None, None, id="an assignee refused: a business field",
    ),
    pytest.param(
        "valid_request_accepted",
        invalid(400, {"status": "error", "error": "x", "field-errors": {"sharing": "required"}}, {"country": "US"}),
        "valid_request_accepted: refused: field-errors sharing", ("documented", "changelog"),
        id="refused naming a field (a seed-era server): what the contract says of it",
    ),
    pytest.param(
        "valid_request_accepted", invalid(400, {"status": "error", "error": "x", "errors": ["bad"]}, {"country": "US"}),
        "valid_request_accepted: refused: 400", ("documented", "seed"), id="refused as invalid without a field",
    ),
    pytest.param(
        "valid_request_accepted",
        invalid(413, {"status": "error", "error": "big"}, {"country": "US", "bundle_id": "b" * 20_000}),
        "valid_request_accepted: refused: 413", ("chosen", "body-limit"), id="a 20 KiB body refused as too large",
    ),
    pytest.param(
        "valid_request_accepted", invalid(415, {"status": "error", "error": "x"}, {"country": "US"}),
        "valid_request_accepted: refused: 415", ("documented", "seed"), id="JSON refused as an unsupported format",
    ),
    pytest.param(
        "authentication", invalid(401, {"status": "error", "error": "x"}, None, auth=NONE), None, None,
        id="no credentials refused with 401",
    ),
    pytest.param(
        "authentication", invalid(400, {"status": "error", "error": "x", "errors": ["bad"]}, b"[]", auth=NONE),
        None, None, id="no credentials and an invalid body refused as invalid first",
    ),
    pytest.param(
        "authentication", business_404(None, auth=NONE), "authentication: no credentials",
        ("documented", "reference"), id="no credentials reaching business",
    ),
    pytest.param(
        "authentication", invalid(201, rented(), None, auth=INVALID), "authentication: unknown credentials",
        ("documented", "reference"), id="an unknown key rents",
    ),
    pytest.param(
        "authentication", lambda: [read(ID, 200, rented(), auth=NONE)], "authentication: no credentials",
        ("documented", "reference"), id="a read without credentials served",
    ),
    pytest.param(
        "refusal_explains_itself", invalid(400, {"status": "has-voice-only", "error": "x"}, None), None, None,
        id="has-voice-only with 400",
    ),
    pytest.param(
        "refusal_explains_itself", invalid(409, {"status": "brand-new-refusal"}, None), None, None,
        id="a status the contract does not know is drift, not a failure",
    ),
    pytest.param(
        "refusal_explains_itself", invalid(422, {"status": "has-voice-only", "error": "x"}, None),
        "refusal_explains_itself: has-voice-only with 422", ("chosen", "refusal-codes"), id="has-voice-only with 422",
    ),
    pytest.param(
        "refusal_explains_itself", invalid(404, {"status": "needs-more-info", "error": "x"}, None),
        "refusal_explains_itself: needs-more-info with 404", ("chosen", "refusal-codes"), id="needs-more-info with 404",
    ),
    pytest.param(
        "voice_only_retry_is_not_voice_only",
        lambda: [
            rental({"country": "GB", "prefix": "20"}, 400, {"status": "has-voice-only", "error": "x"}),
            rental({"country": "GB", "prefix": "20", "with_sms": False}, 404, {"status": "error", "error": "none"}),
        ],
        None, None, id="the retry is answered otherwise",
    ),
    pytest.param(
        "voice_only_retry_is_not_voice_only",
        lambda: [
            rental({"country": "GB", "prefix": "20"}, 400, {"status": "has-voice-only", "error": "x"}),
            rental({"country": "GB", "prefix": "20", "with_sms": False}, 400, {"status": "has-voice-only"}),
        ],
        "voice_only_retry_is_not_voice_only: voice-only with with_sms false", ("documented", "seed"),
        id="the retry is refused as voice-only again",
    ),
    # -- what a rental says ------------------------------------------------------------------------
    pytest.param("rented_number_in_requested_country", lambda: [rental()], None, None, id="a US number for US"),
    pytest.param(
        "rented_number_in_requested_country", invalid(201, rented(country="CA"), None),
        "rented_number_in_requested_country: country", ("documented", "seed"), id="says another country",
    ),
    pytest.param(
        "rented_number_in_requested_country", invalid(201, rented(number="+442071838750"), None),
        "rented_number_in_requested_country: number of the country", ("documented", "seed"),
        id="a number of another country",
    ),
    pytest.param("rented_number_has_requested_prefix", lambda: [rental()], None, None, id="650 for 650"),
    pytest.param(
        "rented_number_has_requested_prefix", invalid(201, rented(), {"country": "US", "prefix": "415"}),
        "rented_number_has_requested_prefix: prefix", ("documented", "seed"), id="650 for 415",
    ),
    pytest.param(
        "rented_number_of_requested_carrier_type", invalid(201, rented(), {"country": "US", "carrier_type": "local"}),
        None, None, id="local for local",
    ),
    pytest.param(
        "rented_number_of_requested_carrier_type", invalid(201, rented(), {"country": "US", "carrier_type": "mobile"}),
        "rented_number_of_requested_carrier_type: carrier_type", ("documented", "seed"), id="local for mobile",
    ),
    pytest.param(
        "rented_number_of_requested_carrier_type",
        invalid(201, rented(carrier_type="tollfree"), {"country": "US", "carrier_type": "tollfree"}),
        "rented_number_of_requested_carrier_type: kind of number", ("documented", "seed"),
        id="a 650 number called toll-free",
    ),
    pytest.param(
        "rented_number_capabilities", invalid(201, rented(), {"country": "US", "with_sms": True, "with_mms": True}),
        None, None, id="SMS and MMS as asked",
    ),
    pytest.param(
        "rented_number_capabilities",
        invalid(201, rented(sms_enabled=False, mms_enabled=False), {"country": "US", "with_sms": True}),
        "rented_number_capabilities: with_sms", ("documented", "seed"), id="no SMS for with_sms",
    ),
    pytest.param(
        "rented_number_capabilities",
        invalid(201, rented(mms_enabled=False), {"country": "US", "with_sms": True, "with_mms": True}),
        "rented_number_capabilities: with_mms", ("documented", "seed"), id="no MMS for with_mms",
    ),
    pytest.param("rented_number_ownership", lambda: [rental()], None, None, id="a personal number of the requester"),
    pytest.param(
        "rented_number_ownership", invalid(201, rented(type="external"), None), "rented_number_ownership: type",
        ("documented", "reference"), id="not internal",
    ),
    pytest.param(
        "rented_number_ownership",
        invalid(201, rented(user_id=None, is_group_number=True), {"country": "US", "sharing": "group"}), None, None,
        id="a group number",
    ),
    pytest.param(
        "rented_number_ownership", invalid(201, rented(user_id=None), {"country": "US", "sharing": "group"}),
        "rented_number_ownership: is_group_number", ("documented", "seed"), id="a group number that says personal",
    ),
    pytest.param(
        "rented_number_ownership", invalid(201, rented(is_group_number=True), {"country": "US", "sharing": "group"}),
        "rented_number_ownership: user_id of a group number", ("documented", "seed"), id="a group number with an owner",
    ),
    pytest.param(
        "rented_number_ownership", invalid(201, rented(user_id=None), None),
        "rented_number_ownership: user_id of a personal number", ("documented", "seed"),
        id="a personal number without an owner",
    ),
    pytest.param(
        "rented_number_ownership",
        invalid(201, rented(user_id=USER, participants=[USER, OTHER]), {"country": "US", "assign_to": [USER, OTHER]}),
        None, None, id="assigned to two",
    ),
    pytest.param(
        "rented_number_ownership",
        invalid(201, rented(user_id=OTHER, participants=[USER, OTHER]), {"country": "US", "assign_to": [USER, OTHER]}),
        "rented_number_ownership: user_id: first assignee", ("chosen", "user-id-first-assignee"),
        id="user_id is not the first assignee",
    ),
    pytest.param(
        "rented_number_ownership",
        invalid(201, rented(user_id=USER, participants=[USER]), {"country": "US", "assign_to": [USER, OTHER]}),
        "rented_number_ownership: participants: assign_to", ("documented", "changelog"),
        id="participants leave an assignee out",
    ),
    pytest.param(
        "rented_number_ownership", invalid(201, rented(participant_groups=["group_a1"]), None),
        "rented_number_ownership: participant_groups", ("documented", "changelog"), id="a new number in a group",
    ),
    pytest.param(
        "rented_number_ownership", invalid(201, rented(participants=[]), None),
        "rented_number_ownership: participants: the requester", ("chosen", "participants-requester"),
        id="no participants without assign_to",
    ),
    pytest.param("rented_number_is_consistent", lambda: [rental()], None, None, id="the example rental agrees"),
    pytest.param(
        "rented_number_is_consistent", invalid(201, rented(bundle_id=None), {"country": "US", "bundle_id": "bund_a1"}),
        None, None, id="no bundle where the country needs none",
    ),
    pytest.param(
        "rented_number_is_consistent",
        invalid(201, rented(bundle_id="bund_b2"), {"country": "US", "bundle_id": "bund_a1"}),
        "rented_number_is_consistent: bundle_id", ("documented", "seed"), id="another bundle",
    ),
    pytest.param(
        "rented_number_is_consistent", invalid(201, rented(number_formatted="+1 650-333-5556"), None),
        "rented_number_is_consistent: number_formatted", ("chosen", "number-formatted-international"),
        id="number_formatted of another number",
    ),
    pytest.param(
        "rented_number_is_consistent", invalid(201, rented(country="CA"), None),
        "rented_number_is_consistent: country of the number", ("documented", "reference"),
        id="a US number that says CA",
    ),
    pytest.param(
        "rented_number_is_consistent", invalid(201, rented(carrier_type="tollfree"), None),
        "rented_number_is_consistent: carrier_type of the number", ("documented", "reference"),
        id="a 650 number that says toll-free",
    ),
    pytest.param(
        "rented_number_is_consistent", invalid(201, rented(sms_enabled=False), None),
        "rented_number_is_consistent: mms without sms", ("documented", "seed"), id="MMS without SMS",
    ),
    pytest.param(
        "rented_number_is_consistent",
        invalid(201, rented(sms_enabled=False, mms_enabled=False, supports_mms_to_countries=[]), None),
        "rented_number_is_consistent: supports_sms_to_countries", ("documented", "seed"),
        id="texts countries without SMS",
    ),
    pytest.param(
        "rented_number_is_consistent", invalid(201, rented(supports_mms_to_countries=["US", "CA", "GB"]), None),
        "rented_number_is_consistent: supports_mms_to_countries", ("documented", "seed"),
        id="MMS to a country it cannot text",
    ),
    pytest.param(
        "rented_number_is_consistent", invalid(201, rented(forward_to_enabled=True, forward_to=None), None),
        "rented_number_is_consistent: forwarding", ("documented", "reference"), id="forwarding to nowhere",
    ),
    pytest.param(
        "rented_number_is_consistent",
        invalid(201, rented(forward_to="+16505550100", forward_to_formatted="(650) 555-0100"), None), None, None,
        id="forward_to written nationally",
    ),
    pytest.param(
        "rented_number_is_consistent",
        invalid(201, rented(forward_to="+16505550100", forward_to_formatted="+1 650-555-0199"), None),
        "rented_number_is_consistent: forward_to_formatted", ("documented", "reference"),
        id="forward_to_formatted of another number",
    ),
    pytest.param(
        "rented_number_is_consistent",
        invalid(201, rented(phone_numbers=["+16505550100"], phone_numbers_formatted=[]), None),
        "rented_number_is_consistent: phone_numbers_formatted", ("documented", "reference"),
        id="phone_numbers and their formatted list differ in length",
    ),
    pytest.param(
        "rented_number_dates", lambda: [at(CREATED, rental())], None, None, id="dated when it was rented",
    ),
    pytest.param(
        "rented_number_dates",
        lambda: [at(CREATED, rental(response=rented(date_created=NAIVE, date_updated=NAIVE)))],
        None, None, id="a date-time without an offset is UTC",
    ),
    pytest.param(
        "rented_number_dates", lambda: [at(CREATED + 3600, rental())], "rented_number_dates: date_created",
        ("documented", "reference"), id="created an hour before the rental",
    ),
    pytest.param(
        "rented_number_dates",
        lambda: [at(CREATED, rental(response=rented(date_updated="2026-11-27T16:04:05+00:00")))],
        "rented_number_dates: date_updated", ("documented", "reference"), id="updated an hour after the rental",
    ),
    pytest.param(
        "rented_number_dates", invalid(201, rented(date_updated="2026-11-26T15:04:05+00:00"), None),
        "rented_number_dates: date_updated before date_created", ("documented", "reference"),
        id="updated before it was created",
    ),
    pytest.param(
        "rented_number_dates", invalid(201, rented(next_billing_on="2027-02-27T15:04:05+00:00"), None),
        "rented_number_dates: next_billing_on", ("documented", "reference"), id="billed next in three months",
    ),
    # -- across a run ------------------------------------------------------------------------------
    pytest.param(
        "rentals_are_distinct_and_stable",
        lambda: [rental(), rental(response=rented(id="phon_second2", number="+16503335556",
                                                  number_formatted="+1 650-333-5556"))],
        None, None, id="two numbers for one owner",
    ),
    pytest.param(
        "rentals_are_distinct_and_stable",
        lambda: [rental(), rental(response=rented(number="+16503335556", number_formatted="+1 650-333-5556"))],
        "rentals_are_distinct_and_stable: id handed out twice", ("documented", "reference"), id="one id twice",
    ),
    pytest.param(
        "rentals_are_distinct_and_stable", lambda: [rental(), rental(response=rented(id="phon_second2"))],
        "rentals_are_distinct_and_stable: number rented twice", ("documented", "reference"), id="one number twice",
    ),
    pytest.param(
        "rentals_are_distinct_and_stable",
        lambda: [rental(), rental(response=rented(id="phon_second2", number="+16503335556",
                                                  organization_id="orga_other2"))],
        "rentals_are_distinct_and_stable: organization per credential", ("documented", "reference"),
        id="one credential, two organizations",
    ),
    pytest.param(
        "rentals_are_distinct_and_stable",
        lambda: [rental(), rental(response=rented(id="phon_second2", number="+16503335556", user_id=OTHER))],
        "rentals_are_distinct_and_stable: owner per credential", ("documented", "reference"),
        id="one credential, two owners",
    ),
    pytest.param(
        "rentals_are_distinct_and_stable",
        lambda: [rental(), rental({"country": "US", "assign_to": [OTHER]},
                                  response=rented(id="phon_second2", number="+16503335556", user_id=OTHER))],
        None, None, id="another owner through assign_to",
    ),
    pytest.param(
        "rentals_are_distinct_and_stable",
        lambda: [rental(), rental(response=rented(id="phon_second2", number="+16503335556", user_id=OTHER),
                                  credential="bearer")],
        None, None, id="another owner under another credential",
    ),
    pytest.param(
        "rentals_are_distinct_and_stable",
        lambda: [rental(auth=PRESENT), rental(response=rented(id="phon_second2", number="+16503335556",
                                                              user_id=OTHER), auth=PRESENT)],
        None, None, id="owners of traffic whose credentials nobody can tell apart",
    ),
    pytest.param(
        "read_back_is_the_rental", rent_then(lambda: read(ID, 200, rented())), None, None, id="read back as rented",
    ),
    pytest.param(
        "read_back_is_the_rental",
        rent_then(lambda: read(ID, 200, rented(date_updated="2026-11-28T15:04:05+00:00", label="Sales"))),
        None, None, id="read back with fields that may change",
    ),
    pytest.param(
        "read_back_is_the_rental", rent_then(lambda: read(ID, 404, {"error": "no"})),
        "read_back_is_the_rental: rented number not there", ("documented", "reference"), id="rented, then not found",
    ),
    pytest.param(
        "read_back_is_the_rental", rent_then(lambda: read(ID, 200, rented(number="+16503335556"))),
        "read_back_is_the_rental: another number", ("documented", "reference"), id="read back as another number",
    ),
    pytest.param(
        "read_back_is_the_rental", rent_then(lambda: read(ID, 200, rented(carrier_type="mobile"))),
        "read_back_is_the_rental: fields differ from the rental", ("documented", "reference"),
        id="read back with another carrier type",
    ),
    pytest.param(
        "read_back_is_the_rental", rent_then(lambda: release(ID), lambda: read(ID, 404, {"error": "no"})), None,
        None, id="released, then not found",
    ),
    pytest.param(
        "read_back_is_the_rental", rent_then(lambda: release(ID), lambda: read(ID, 200, rented())),
        "read_back_is_the_rental: released number still there", ("documented", "reference"),
        id="released, then still there",
    ),
    pytest.param("release_releases", rent_then(lambda: release(ID)), None, None, id="a release of a rental"),
    pytest.param(
        "release_releases", rent_then(lambda: release(ID), lambda: release(ID, 404, {"error": "no"})), None, None,
        id="released twice: the second answer is not judged",
    ),
    pytest.param(
        "release_releases", rent_then(lambda: release(ID, 500, b"", headers=TEXT)), "release_releases: release failed",
        ("documented", "reference"), id="a release that fails",
    ),
    pytest.param(
        "release_releases", rent_then(lambda: release(ID, 403, {"status": "error", "error": "not yours"})),
        "release_releases: release failed", ("documented", "reference"), id="a release refused",
    ),
]
# fmt: on


@pytest.mark.parametrize(("name", "make", "key", "basis"), RULES)
def test_a_rule_passes_or_fails_with_its_key_and_basis(
    name: str, make: Make, key: str | None, basis: tuple[str, str] | None
) -> None:
    exchanges = make()
    judge = judged(*exchanges)
    tally = judge.verdicts.tallies[name]
    found = [(finding.key, (finding.problem.basis.kind, finding.problem.basis.ref)) for finding in tally.findings]
    assert tally.judged > 0, f"{name} judged nothing:{shown(exchanges, judge)}"
    if key is None:
        assert found == [], f"{name} should pass:{shown(exchanges, judge)}"
    else:
        assert found[-1:] == [(key, basis)], f"{name} should find {key} [{basis}]:{shown(exchanges, judge)}"
        assert [k for k, _ in found].count(key) == 1


# (check, exchanges it must not count)
# fmt: off
NOT_APPLICABLE = [
    pytest.param("not_a_server_error", lambda: [answer(sent("GET", "/api/v1/me/"), 500, b"")], id="another endpoint"),
    pytest.param("status_code_conformance", invalid(500, b"", None, headers=TEXT), id="a 5xx is not_a_server_error's"),
    pytest.param("unsupported_method_answer", lambda: [rental()], id="a documented method"),
    pytest.param(
        "valid_request_accepted", invalid(401, {"status": "error", "error": "who?"}, {"country": "US"}),
        id="the credential refused: nothing known of the request",
    ),
    pytest.param("content_type_conformance", invalid(200, rented(), None), id="an undocumented status"),
    pytest.param("content_type_conformance", lambda: [release(ID, 204, b"", headers=[])], id="a 204"),
    pytest.param("response_headers_conformance", lambda: [rental()], id="a 201 documents no headers"),
    pytest.param("response_schema_conformance", invalid(200, rented(), None), id="an undocumented status"),
    pytest.param("rate_limit_answer", lambda: [rental()], id="not a 429"),
    pytest.param("request_validation", lambda: [rental()], id="a valid request"),
    pytest.param(
        "request_validation", invalid(201, rented(), {"country": "US", "prefix": "123456"}),
        id="an invalid request rented: invalid_request_never_rents'",
    ),
    pytest.param("request_validation", invalid(429, RATE_LIMITED, {"country": "us"}), id="a 429 says nothing"),
    pytest.param("request_validation", invalid(500, b"", {"country": "us"}, headers=TEXT), id="a 5xx says nothing"),
    pytest.param("invalid_request_never_rents", lambda: [rental()], id="a valid request"),
    pytest.param("valid_request_accepted", business_404({"country": "us"}), id="an invalid request"),
    pytest.param("valid_request_accepted", invalid(401, {"status": "error"}, None, auth=NONE), id="no credentials"),
    pytest.param("valid_request_accepted", invalid(429, RATE_LIMITED, None), id="a 429"),
    pytest.param("authentication", lambda: [rental()], id="real credentials"),
    pytest.param("authentication", invalid(429, RATE_LIMITED, None, auth=NONE), id="a 429 without credentials"),
    pytest.param("refusal_explains_itself", lambda: [rental()], id="a rental"),
    pytest.param("refusal_explains_itself", invalid(400, b"not json", None, headers=TEXT), id="a refusal without JSON"),
    pytest.param("voice_only_retry_is_not_voice_only", lambda: [rental()], id="neither voice-only nor its retry"),
    pytest.param("rented_number_in_requested_country", business_404({"country": "US"}), id="a refusal"),
    pytest.param(
        "rented_number_in_requested_country", invalid(201, rented(), {"country": "us"}),
        id="a rental on an invalid request",
    ),
    pytest.param("rented_number_has_requested_prefix", invalid(201, rented(), {"country": "US"}), id="no prefix"),
    pytest.param(
        "rented_number_has_requested_prefix", invalid(201, rented(), {"country": "US", "prefix": ""}),
        id="an empty prefix",
    ),
    pytest.param("rented_number_of_requested_carrier_type", lambda: [rental()], id="no carrier type asked"),
    pytest.param(
        "rented_number_of_requested_carrier_type", invalid(201, rented(), {"country": "US", "carrier_type": None}),
        id="carrier_type null: any kind",
    ),
    pytest.param("rented_number_capabilities", lambda: [read(ID, 200, rented())], id="a read"),
    pytest.param("rented_number_ownership", invalid(201, b"<html>", None, headers=HTML), id="a rental without JSON"),
    pytest.param("rented_number_is_consistent", business_404({"country": "US"}), id="a refusal"),
    pytest.param("rented_number_dates", business_404({"country": "US"}), id="a refusal"),
    pytest.param("rentals_are_distinct_and_stable", lambda: [release(ID)], id="a release"),
    pytest.param("read_back_is_the_rental", lambda: [read(ID, 200, rented())], id="a number not rented here"),
    pytest.param(
        "read_back_is_the_rental", rent_then(lambda: read(ID, 429, RATE_LIMITED)), id="a read answered 429",
    ),
    pytest.param("release_releases", lambda: [release(ID, 500, b"", headers=TEXT)], id="a number not rented here"),
    pytest.param("release_releases", rent_then(lambda: release(ID, 429, RATE_LIMITED)), id="a release answered 429"),
]
# fmt: on


@pytest.mark.parametrize(("name", "make"), NOT_APPLICABLE)
def test_a_check_that_does_not_apply_does_not_count_the_exchange(name: str, make: Make) -> None:
    exchanges = make()
    judge = judged(*exchanges)
    tally = judge.verdicts.tallies[name]
    assert (tally.judged, tally.findings) == (0, []), f"{name} should not apply:{shown(exchanges, judge)}"


def test_every_check_has_rules_here_that_pass_fail_and_do_not_apply() -> None:
    named = [param.values[0] for param in RULES]
    failing = {param.values[0] for param in RULES if param.values[2] is not None}
    inapplicable = {param.values[0] for param in NOT_APPLICABLE}
    assert set(named) == set(checks.NAMES) == failing
    assert set(checks.NAMES) - inapplicable == set()


def test_one_status_answered_in_two_choices_readings_is_two_causes_each_on_its_own_choice() -> None:
    voice_only = rental({"country": "GB", "prefix": "20"}, 422, {"status": "has-voice-only", "error": "x"})
    assignee = rental(
        {"country": "US", "assign_to": [OTHER]}, 422,
        {"status": "error", "error": "x", "field-errors": {"assign_to": "inactive"}},
    )  # fmt: skip
    judge = judged(voice_only, assignee, voice_only)
    violations = {
        violation.key: (violation.basis.ref, violation.cases)
        for violation in findings.group(judge.verdicts.findings())
        if violation.check == "status_code_conformance"
    }
    assert violations == {
        "status_code_conformance: 422 (refusal-codes)": ("refusal-codes", 2),
        "status_code_conformance: 422 (assignee-code)": ("assignee-code", 1),
    }


def test_a_business_refusal_with_another_readings_status_is_judged_against_that_choice_only() -> None:
    judge = judged(rental({"country": "GB", "prefix": "20"}, 422, {"status": "has-voice-only", "error": "x"}))
    found = {f.key: f.problem.basis.is_choice for f in judge.verdicts.findings()}
    assert found == {
        "status_code_conformance: 422 (refusal-codes)": True,
        "refusal_explains_itself: has-voice-only with 422": True,
    }


def test_the_voice_only_retry_asks_for_with_sms_false_and_no_mms() -> None:
    request = {"country": "US", "prefix": "650", "with_sms": True, "with_mms": True}
    assert checks.voice_only_retry(request) == {"country": "US", "prefix": "650", "with_sms": False}
    assert request["with_mms"] is True  # the request itself is left as it was


def test_a_retry_after_has_voice_only_is_counted_once_as_a_retry() -> None:
    voice_only = {"status": "has-voice-only", "error": "x"}
    asked = {"country": "US", "with_sms": True, "with_mms": True}
    judge = judged(
        rental(asked, 400, voice_only),
        rental({"country": "US", "with_sms": False}, 404, {"status": "error", "error": "none"}),
        rental({"country": "US", "with_sms": False}, 404, {"status": "error", "error": "none"}),  # not asked again
    )
    assert judge.memory.voice_only_retries == 1
    assert judge.verdicts.tallies["voice_only_retry_is_not_voice_only"].judged == 2  # the refusal and its retry


def test_a_rental_is_remembered_for_the_rules_across_exchanges() -> None:
    judge = judged(rental(), release(ID))
    assert judge.memory.ids == {ID: NUMBER}
    assert judge.memory.numbers == {NUMBER}
    assert judge.memory.owners == {"basic": USER}
    assert judge.memory.rented[ID]["number"] == NUMBER
    assert judge.memory.released == {ID}


def test_every_check_is_registered_once_with_what_it_is_about() -> None:
    assert len(checks.NAMES) == len(set(checks.NAMES))
    assert all(registered.about for registered in checks.CHECKS)
    body_free = {registered.name for registered in checks.CHECKS if registered.body_free}
    assert body_free == {
        "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
    }  # fmt: skip
    assert all(registered.answer_only for registered in checks.CHECKS if registered.body_free)


def test_a_view_reads_the_exchange_once() -> None:
    exchange = rental({"country": "US", "prefix": "123456", "colour": "red"}, 404, {"status": "error", "error": "x"})
    match = CONTRACT.match(exchange.method, exchange.path)
    seen = checks.view(exchange, CONTRACT, match)
    assert seen.renting
    assert seen.role == "request_internal_phone_number"
    assert seen.request == {"country": "US", "prefix": "123456", "colour": "red"}
    assert seen.answer == {"status": "error", "error": "x"}
    assert seen.answer_is_json
    assert not seen.allowed
    assert sorted(fault.subject for fault in seen.faults) == ["prefix: maxLength", "unknown field"]
    assert {fault.field for fault in seen.faults} == {"prefix", "colour"}
    assert seen.header("CONTENT-TYPE") == "application/json"


def test_a_rental_of_a_seed_era_contract_is_judged_by_that_contract() -> None:
    from conformance import contract

    seed = contract.seed()
    judge = judged(rental({"country": "US", "prefix": "650", "sharing": "personal"}, contract=seed), contract=seed)
    assert judge.verdicts.findings() == []
    assert judge.verdicts.tallies["rented_number_ownership"].judged == 1
