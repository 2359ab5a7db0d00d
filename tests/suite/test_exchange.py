"""One exchange: whether it was answered, whether it rented, what its answer says, bodies as the app read them."""

from __future__ import annotations

import gzip
import zlib

import pytest

from conformance.suite.exchange import CONNECT, DISCONNECT, PROTOCOL, TIMEOUT, UNSENDABLE, Exchange, decoded


def exchange(method: str = "POST", status: int | None = 201, body: bytes = b'{"id": "phon_a1"}') -> Exchange:
    made = Exchange(1, method, "/api/v1/phone_number/request/internal/", [("Content-Type", "application/json")], b"{}")
    made.status, made.response_headers, made.response_body = status, [("Content-Type", "application/json")], body
    return made


def test_an_exchange_with_a_status_and_no_error_was_answered() -> None:
    assert exchange().answered
    assert not exchange(status=None).answered
    failed = exchange()
    failed.error = "RemoteDisconnected: closed"
    assert not failed.answered


@pytest.mark.parametrize(("failure", "servers"), [(TIMEOUT, True), (DISCONNECT, True), (PROTOCOL, True),
                                                   (CONNECT, False), (UNSENDABLE, False), (None, False)])  # fmt: skip
def test_only_a_failure_after_the_request_went_out_is_the_servers(failure: str | None, servers: bool) -> None:
    made = exchange(status=None)
    made.failure = failure
    assert made.server_failure is servers


@pytest.mark.parametrize(
    ("method", "status", "rented"),
    [("POST", 201, True), ("POST", 200, True), ("POST", 299, True), ("POST", 400, False), ("POST", None, False),
     ("GET", 200, False), ("DELETE", 200, False)],
)  # fmt: skip
def test_any_2xx_to_a_post_counts_as_a_rental(method: str, status: int | None, rented: bool) -> None:
    assert exchange(method, status).rented is rented


def test_a_failed_post_is_no_rental_whatever_its_status_said() -> None:
    made = exchange()
    made.error = "IncompleteRead"
    assert not made.rented


def test_the_answer_is_read_as_json_or_none() -> None:
    assert exchange().json() == {"id": "phon_a1"}
    assert exchange(body=b"<html>").json() is None
    assert exchange(body=b"").json() is None


@pytest.mark.parametrize(
    ("body", "missing", "said"),
    [(b'{"id": "phon_a1"}', False, "phon_a1"), (b'{"number": "+1"}', False, "(no id in the answer)"),
     (b"[]", False, "(no id in the answer)"), (b"", True, "(answer not recorded)")],
)  # fmt: skip
def test_the_rental_id_is_what_the_answer_says_or_why_it_cannot_be_told(body: bytes, missing: bool, said: str) -> None:
    made = exchange(body=body)
    made.body_missing = missing
    assert made.rental_id() == said


def test_headers_are_found_whatever_their_case() -> None:
    made = exchange()
    assert made.header("content-TYPE") == made.request_header("CONTENT-type") == "application/json"
    assert made.header("retry-after") is None


PLAIN = b'{"country": "US"}'


@pytest.mark.parametrize(
    ("coding", "body"),
    [("gzip", gzip.compress(PLAIN)), ("x-gzip", gzip.compress(PLAIN)), ("GZIP", gzip.compress(PLAIN)),
     ("deflate", zlib.compress(PLAIN)), ("deflate", zlib.compress(PLAIN)[2:-4]), ("identity", PLAIN),
     ("gzip", PLAIN), ("br", PLAIN)],
    ids=["gzip", "x-gzip", "upper case", "zlib deflate", "raw deflate", "identity", "already decoded", "unknown"],
)  # fmt: skip
def test_a_body_is_decoded_as_the_application_read_it(coding: str, body: bytes) -> None:
    assert decoded([("Content-Encoding", coding)], body) == PLAIN


def test_a_body_without_content_encoding_or_empty_is_kept() -> None:
    assert decoded([], b"\x1f\x8b") == b"\x1f\x8b"
    assert decoded([("content-encoding", "gzip")], b"") == b""
