"""Judging traffic users already have: recordings (`replay`); the proxy's evidence is built the same way.

Recorded exchanges become `Exchange`s through the one constructor (`wire.exchange`), the one
`Judge` judges each, and the evidence goes to the same conclusion as the active run's, so the
summary, JSON, JUnit and HAR are the same files. Replay opens no connection at all.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from conformance.errors import CannotTest, RecordingError
from conformance.suite import recordings, wire
from conformance.suite.conclusion import Evidence, Source
from conformance.suite.exchange import UNKNOWN, NotSent
from conformance.suite.findings import Finding, Problem
from conformance.suite.judge import PAID_TWICE_WINDOW, Judge

if TYPE_CHECKING:
    from pathlib import Path

    from conformance.contract import Contract
    from conformance.suite.exchange import Exchange
    from conformance.suite.recordings import Recorded


def from_recording(number: int, contract: Contract, recorded: Recorded) -> tuple[Exchange, bool]:
    """A recorded exchange as the suite's `Exchange`, and whether it carried a credential."""
    authorization = wire.header(recorded.request_headers, "authorization")
    exchange, secret = wire.exchange(
        number, contract, recorded.method, recorded.url, headers=recorded.request_headers,
        body=recorded.request_body, auth=None if authorization else UNKNOWN,
    )  # fmt: skip
    response_headers, _, response_secret = wire.redacted(wire.recorded(recorded.response_headers))
    exchange.status = recorded.status
    exchange.response_headers = response_headers
    exchange.response_body = recorded.response_body
    exchange.started = recorded.started
    exchange.elapsed = recorded.elapsed
    exchange.body_missing = recorded.body_missing
    return exchange, secret or response_secret


def lifecycle_of(judge: Judge) -> dict[str, object]:
    """Numbers rented in the traffic, those released in it, and those still billed."""
    memory = judge.memory
    with memory.lock:
        rented, released = set(memory.rented), set(memory.released)
    return {"rented": len(judge.verdicts.rentals), "released": len(released), "held": sorted(rented - released)}


def traffic_warnings(judge: Judge, exchanges: list[Exchange]) -> list[str]:
    """What only a stream of traffic shows: bodies not recorded, a request answered 201 twice."""
    warnings = []
    missing = [exchange for exchange in exchanges if exchange.body_missing and judge.is_endpoint(exchange)]
    if missing:
        numbers = ", ".join(str(exchange.number) for exchange in missing[:10])
        warnings.append(
            f"{len(missing)} exchange(s) with the endpoint were recorded without their response body (exchanges "
            f"{numbers}): not judged, rentals among them still listed; record with bodies (HAR: save with content)"
        )
    paid = judge.verdicts.paid_twice
    if paid:
        pairs = ", ".join(f"{first.number} and {repeat.number}" for first, repeat in paid[:5])
        warnings.append(
            f"{len(paid)} request(s) were answered 201 twice within {PAID_TWICE_WINDOW:g} s (exchanges "
            f"{pairs}{', ...' if len(paid) > 5 else ''}): a retry that rented, and paid for, two numbers?"
        )
    return warnings


def replay(paths: list[Path], contract: Contract, *, fail_on_credentials: bool = False) -> Evidence:
    """Judge every recorded exchange in the files and folders given; send nothing."""
    began = time.monotonic()
    try:
        recorded, skipped = recordings.read(paths)
    except RecordingError as error:
        raise CannotTest(str(error)) from None
    judge = Judge(contract)
    exchanges: list[Exchange] = []
    unanswered: list[NotSent] = []
    with_secrets: list[Exchange] = []
    for one in recorded:
        if one.status is None:  # recorded without an answer (never sent, or cancelled): not an exchange
            unanswered.append(NotSent(one.method, urlsplit(one.url).path, "recorded without an answer"))
            continue
        exchange, secret = from_recording(len(exchanges) + 1, contract, one)
        judge.judge(exchange)
        exchanges.append(exchange)
        if secret:
            with_secrets.append(exchange)
    origin = next(("{0.scheme}://{0.netloc}".format(urlsplit(r.url)) for r in recorded if "://" in r.url), "")
    source = Source("replay", "recordings " + ", ".join(map(str, paths)), origin, contract, "recorded")
    evidence = Evidence(source, exchanges, judge.verdicts, not_sent=unanswered, lifecycle=lifecycle_of(judge))
    evidence.warnings = traffic_warnings(judge, exchanges)
    if unanswered:
        evidence.warnings.append(f"{len(unanswered)} recorded request(s) have no answer (never sent?): not judged")
    if with_secrets:
        numbers = ", ".join(str(exchange.number) for exchange in with_secrets[:10])
        text = (
            f"{len(with_secrets)} exchange(s) carry a credential (exchanges {numbers}): it is redacted in "
            "every report; remove it from the recording (vcrpy: filter_headers=['authorization'])"
        )
        if fail_on_credentials:
            problem = Problem(
                "credentials kept", "The recording carries credentials: " + text, contract.documented("reference")
            )
            evidence.extra.append(Finding("credentials_in_recording", problem, with_secrets[0]))
            evidence.extra_judged["credentials_in_recording"] = len(exchanges)
        else:
            evidence.warnings.insert(0, text)
    evidence.unread = skipped
    if skipped:
        more = "; ..." if len(skipped) > 3 else ""
        evidence.warnings.append(
            f"{len(skipped)} file(s) skipped in part or whole while reading: {'; '.join(skipped[:3])}{more}"
        )
    evidence.duration = time.monotonic() - began
    return evidence
