"""Rate limits do not drain the suite: 429s are waited out and sent again, and the run says so."""

from __future__ import annotations

import re

import pytest

from conformance.mock import build
from conformance.mock.server import MockServer
from conformance.suite import pacing
from conformance.suite.cli import main

ARGS = ["--mode", "full", "--max-rentals", "100000", "--quiet", "--examples", "40"]


def judged(output: str) -> tuple[str, ...]:
    """What the run judged apart from schemathesis' stateful phase, whose steps follow schemathesis' own
    adaptive scheduling (answer times), so a paced server gets a few steps more or fewer."""
    probes = re.search(r"Requests: \d+ sent \((\d+) fixed probes, \d+ follow-ups, \d+ generated\)", output)
    phases = re.search(r"Cases schemathesis generated, by phase \([^)]*\): (.*), stateful", output)
    business = re.search(r"answered by the business rules: (\d+)", output)
    assert probes, output
    assert phases, output
    assert business, output
    return probes.group(1), phases.group(1)


def stateful(output: str) -> int:
    found = re.search(r"stateful (\d+)$", output, re.MULTILINE)
    assert found, output
    return int(found.group(1))


@pytest.mark.usefixtures("credentials")
def test_a_rate_limited_server_is_judged_as_fully_as_an_unlimited_one(capsys: pytest.CaptureFixture[str]) -> None:
    with MockServer(build()) as free:
        assert main(["--base-url", free.origin + "/api/v1", *ARGS]) == 0
    unlimited = capsys.readouterr().out
    with MockServer(build(rate_limit=20)) as limited:
        assert main(["--base-url", limited.origin + "/api/v1", *ARGS]) == 0
    paced = capsys.readouterr().out
    assert judged(paced) == judged(unlimited)
    assert abs(stateful(paced) - stateful(unlimited)) <= stateful(unlimited) * 0.2
    found = re.search(r"Rate limits: (\d+) answers were 429; (\d+) requests were sent again .*; (\d+) left", paced)
    assert found, paced
    assert int(found.group(1)) > 0
    assert found.group(1) == found.group(2)
    assert found.group(3) == "0"
    assert "Rate limits" not in unlimited
    assert "still held 0" in paced  # every rental released, 429s or not


@pytest.mark.parametrize(
    ("headers", "body", "wait"),
    [
        ([("RateLimit", "limit=20, remaining=0, reset=3")], b"", 3.0),
        ([("ratelimit", "limit=20; remaining=0; reset=2")], b"", 2.0),
        ([("Retry-After", "4")], b"", 4.0),
        ([], b'{"error": {"rate_reset": 0.87}}', 0.87),
        ([("Retry-After", "1"), ("RateLimit", "limit=1, remaining=0, reset=5")], b"", 5.0),  # the longest
        ([("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")], b"", 0.0),  # in the past: no wait
        ([("Retry-After", "soon")], b"", None),
        ([("Retry-After", "nan")], b'{"error": {"rate_reset": "inf"}}', None),
        ([], b"not json", None),
    ],
)
def test_the_requested_wait_is_read_from_every_signal(headers, body, wait) -> None:
    assert pacing.requested_wait(headers, body) == wait
