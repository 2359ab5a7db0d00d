"""Safe mode's one rule, `safety.could_rent`: which bodies some server, however lenient, could rent on."""

from __future__ import annotations

import json

import pytest

from conformance.suite import safety

RENTABLE = [
    b'{"country": "US"}',
    b'{"country": "us"}',  # upper-cased by a lenient server
    b'{"country": "USA"}',  # cut to two letters
    b'{"country": " U-S "}',
    b'{"country": "US"} trailing',  # JSON followed by garbage, read up to its end
    b'\xef\xbb\xbf{"country": "US"}',  # a byte order mark stripped
    b'{"country": "AQ", "country": "US"}',  # a key given twice: servers differ in which one wins
    b'{"country": "US", "country": "AQ"}',
    b'{"country": ["US"]}',  # the first of a list
    b"country=US&sharing=personal",  # a form body, content type ignored
    b"{}",  # no country: a server may default it
    b'{"sharing": "personal"}',
    b'{"country": null}',
    b'{"country": ""}',
]
SAFE = [
    b"",
    b"[]",
    b"null",
    b'"US"',
    b"not json",
    b'{"country": "AQ"}',
    b'{"country": "aq", "prefix": "650"}',
    b'{"country": "AQA"}',
    b'{"country": 12345}',  # no country's letters, whatever a server makes of it
    b"country=AQ",
    b'{"country": "AQ"} {"country": "US"}',  # a careless reader stops after the first document
]


@pytest.mark.parametrize("body", RENTABLE)
def test_a_body_some_server_could_rent_on_is_held_back(body: bytes) -> None:
    assert safety.could_rent(body)


@pytest.mark.parametrize("body", SAFE)
def test_a_body_no_server_could_rent_on_may_go_out(body: bytes) -> None:
    assert not safety.could_rent(body)


@pytest.mark.parametrize(
    ("body", "aimed"),
    [
        ({"country": "US"}, {"country": "AQ"}),
        ({"country": "us", "prefix": "650"}, {"country": "aq", "prefix": "650"}),
        ({"country": "USA"}, {"country": "AQA"}),
        ({"country": 12345}, {"country": 12345}),
        ([], []),
    ],
)
def test_aiming_keeps_the_country_s_form(body: object, aimed: object) -> None:
    assert safety.aim_at_unrentable(body) == aimed
    assert not safety.could_rent(json.dumps(aimed).encode())
