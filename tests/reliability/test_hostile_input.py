"""Hostile input to the mock over real HTTP: always a documented status with the contract's body,
never a 500, a hang or a dead server, and nothing refused changes the state.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import contract
from conformance.mock import build
from conformance.mock.server import MockServer
from tests.reliability.rawhttp import RawAnswer, send

ENDPOINT = contract.API_PREFIX + contract.OPERATION_PATH
AUTH = b"Basic " + base64.b64encode(b"mock_admin_key:")
DOCUMENTED = contract.documented_statuses()
SEEN: dict[str, int] = {"requests": 0, "rentals": 0}


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer(build()) as running:
        yield running


def check(answer: RawAnswer) -> None:
    """A documented status, JSON, valid against the contract's schema for that status."""
    SEEN["requests"] += 1
    assert answer.status in DOCUMENTED, (answer.status, answer.body[:300])
    assert answer.headers.get("content-type") == "application/json", answer.headers
    name = contract.response_schema_name(answer.status)
    assert name is not None
    errors = [e.message for e in contract.validator(name).iter_errors(answer.json())]
    assert not errors, (answer.status, errors, answer.body[:300])
    if answer.status == 201:
        SEEN["rentals"] += 1


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(
    ["country", "sharing", "prefix", "carrier_type", "bundle_id", "with_sms", "with_mms", "extra"]
)
near_valid = st.fixed_dictionaries(
    {
        "country": st.one_of(
            st.sampled_from(["US", "GB", "DE", "ÜS", "U\u0301S", "us", "ZZ", ""]), st.text(max_size=3)
        ),
        "sharing": st.sampled_from(["personal", "group", "Personal", ""]),
    },
    optional=dict.fromkeys(("prefix", "carrier_type", "bundle_id", "with_sms", "with_mms"), json_values),
)
special_bodies = st.sampled_from(
    [
        b"",
        b"{",
        b"null",
        b"[]",
        b'"US"',
        b"\xff\xfe\xfd",
        b"\xc3\x28",
        b'{"country": "US", "sharing": "personal", "prefix": NaN}',
        b'{"country": "US", "sharing": "personal", "prefix": Infinity}',
        b'{"country": "US", "sharing": "personal", "prefix": -Infinity}',
        b'{"country": "US", "sharing": "personal", "country": "GB"}',
        b'{"country": "\\ud800", "sharing": "personal"}',
        b'{"country": "US", "sharing": "personal", "prefix": "\\udfff"}',
        b'{"country": "US", "sharing": "personal", "with_sms": ' + b"9" * 5000 + b"}",
        b'{"country": "US", "sharing": "personal", "with_sms": 1' + b"0" * 400 + b"}",
        b"[" * 20000 + b"]" * 20000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b'{"country": "US", "sharing": "personal", "bundle_id": "' + b"x" * 70000 + b'"}',
    ]
)
bodies = st.one_of(
    special_bodies,
    st.binary(max_size=300),
    near_valid.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
)
content_types = st.sampled_from(
    [
        b"application/json",
        b"application/json; charset=utf-8",
        b"application/json; charset=latin-1",
        b"text/plain",
        b"application/x-www-form-urlencoded",
        b"multipart/form-data; boundary=x",
        b"APPLICATION/JSON",
        b"application/vnd.api+json",
        b"",
        b"application/jsonx",
    ]
)
authorizations = st.sampled_from(
    [
        AUTH,
        b"Bearer mock_oauth_token",
        b"Basic",
        b"Bearer",
        b"Basic " + base64.b64encode(b"\xff\xfe:"),
        b"basic " + base64.b64encode(b"mock_admin_key:"),
        b"Basic =====",
        b"Digest x",
        b"Bearer " + b"A" * 4000,
    ]
)


@st.composite
def header_sets(draw: st.DrawFn) -> list[tuple[bytes, bytes]]:
    # None, one or duplicated Authorization and Content-Type headers.
    headers = [(b"Authorization", value) for value in draw(st.lists(authorizations, max_size=2))]
    headers += [(b"Content-Type", value) for value in draw(st.lists(content_types, max_size=2))]
    odd = draw(
        st.lists(
            st.tuples(
                st.sampled_from([b"X-Odd", b"Accept", b"Accept-Encoding", b"X-Forwarded-For", b"Cookie"]),
                st.binary(min_size=0, max_size=40).map(lambda b: bytes(c for c in b if 32 <= c < 127)),
            ),
            max_size=3,
        )
    )
    return headers + odd


HOSTILE = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
VALID_HEADERS = [(b"Authorization", AUTH), (b"Content-Type", b"application/json")]


@pytest.mark.filterwarnings("ignore:Generating overly large repr")  # the 70 kB body, by design
@settings(HOSTILE, max_examples=300)
@given(body=bodies)
def test_any_body_behind_valid_credentials_gets_a_documented_answer(mock: MockServer, body: bytes) -> None:
    # Valid credentials and content type, so every body reaches the JSON and validation stages.
    check(send(mock.port, "POST", ENDPOINT, VALID_HEADERS, body))


@settings(HOSTILE, max_examples=200)
@given(headers=header_sets(), body=bodies)
def test_any_headers_get_a_documented_answer(mock: MockServer, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    check(send(mock.port, "POST", ENDPOINT, headers, body))


@pytest.mark.parametrize("size", [8_000, 60_000])
def test_huge_headers_do_not_kill_the_server(mock: MockServer, size: int) -> None:
    # Past h11's limit uvicorn itself refuses the request; either way the server must live on.
    try:
        answer = send(
            mock.port,
            "POST",
            ENDPOINT,
            [(b"Authorization", AUTH), (b"Content-Type", b"application/json"), (b"X-Huge", b"a" * size)],
            b"{}",
        )
    except (ConnectionError, OSError):
        answer = None
    if answer is not None and answer.headers.get("content-type") == "application/json":
        check(answer)
    alive = httpx.post(
        mock.origin + ENDPOINT, json={"country": "US", "sharing": "personal"}, auth=("mock_admin_key", "")
    )
    assert alive.status_code == 201
    SEEN["rentals"] += 1


def test_huge_declared_body_is_refused_without_reading_it(mock: MockServer) -> None:
    answer = send(
        mock.port,
        "POST",
        ENDPOINT,
        [(b"Authorization", AUTH), (b"Content-Type", b"application/json"), (b"Content-Length", b"10000000")],
        b"",
    )
    assert answer.status == 413


def test_an_oversized_body_gets_its_413_not_a_connection_reset(mock: MockServer) -> None:
    # Answering while the client still sends makes its kernel see a reset that can swallow the
    # answer (188 of 300 before the mock read the excess first); up to 1 MiB is read and dropped.
    body = b'{"country": "US", "sharing": "personal", "bundle_id": "' + b"x" * 500_000 + b'"}'
    statuses = [send(mock.port, "POST", ENDPOINT, VALID_HEADERS, body).status for _ in range(50)]
    assert statuses == [413] * 50


def test_nothing_refused_changed_the_state(mock: MockServer) -> None:
    # Runs last in this module: every rental the books hold was acknowledged with a 201.
    audit = httpx.get(mock.origin + "/__mock__/accounts").json()
    assert audit["consistent"]
    assert audit["rentals"] == SEEN["rentals"]
    assert SEEN["requests"] >= 500
