"""Judging traffic users already have: recordings (`replay`) and live traffic (`proxy`).

Both turn what they see into `Exchange`s, hand each to the one `Judge`, and build the same
`Report` the active suite builds, so the summary, JSON, JUnit and HAR are the same files.
Neither sends a request of its own: `replay` opens no connection at all, and `proxy`
forwards exactly what its clients send.
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from conformance import jsonbody
from conformance.suite import checks, findings, recordings, safety
from conformance.suite.credentials import Secrets
from conformance.suite.exchange import Exchange
from conformance.suite.findings import CannotTest, Options, Report
from conformance.suite.judge import PAID_TWICE_WINDOW, Judge

if TYPE_CHECKING:
    from pathlib import Path

    from conformance.contract import Contract
    from conformance.suite.recordings import Recorded

REDACTED = "[REDACTED]"
SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
_ALREADY_HIDDEN = re.compile(r"\[(REDACTED|Filtered)\]|\*{3,}", re.IGNORECASE)
# Query parameters that carry credentials (`?api_key=...`, `?access_token=...`).
_SECRET_PARAMETER = re.compile(r"(?:^|_|-)(?:key|apikey|token|secret|password|auth|signature)$", re.IGNORECASE)


def redacted(headers: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], str | None, bool]:
    """Headers with every credential hidden, the credential's scheme, and whether a real one was there."""
    kept: list[tuple[str, str]] = []
    scheme: str | None = None
    secret = False
    for name, value in headers:
        if name.lower() not in SECRET_HEADERS:
            kept.append((name, value))
            continue
        word, _, rest = value.partition(" ")
        if name.lower() == "authorization" and word.lower() in ("basic", "bearer"):
            scheme = word.lower()
            secret = secret or (bool(rest.strip()) and not _ALREADY_HIDDEN.search(rest))
            kept.append((name, f"{word} {REDACTED}"))
        else:
            secret = secret or not _ALREADY_HIDDEN.search(value)
            kept.append((name, REDACTED))
    return kept, scheme, secret


def fingerprint(authorization: str) -> str:
    """Which credential an Authorization header carries, as a label safe to print: scheme and 8 hex digits of a hash."""
    scheme, _, secret = authorization.strip().partition(" ")
    digest = hashlib.sha256(authorization.strip().encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{scheme.lower() if secret else 'credential'} #{digest}"


def _redacted_query(query: str) -> tuple[str, bool]:
    """A query string with credential parameters hidden, and whether a real one was there."""
    if not query:
        return query, False
    secret = False
    pairs = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        if equals and value and _SECRET_PARAMETER.search(urllib.parse.unquote_plus(name)):
            secret = secret or not _ALREADY_HIDDEN.search(urllib.parse.unquote_plus(value))
            value = REDACTED
        pairs.append(name + equals + value)
    return "&".join(pairs), secret


def exchange_of(
    number: int,
    contract: Contract,
    method: str,
    url: str,
    *,
    request_headers: list[tuple[str, str]],
    request_body: bytes,
) -> tuple[Exchange, bool]:
    """An exchange for a request (credentials hidden), and whether it carried a real credential."""
    parts = urlsplit(url)
    query, query_secret = _redacted_query(parts.query)
    path = parts.path + (f"?{query}" if query else "")
    headers, scheme, secret = redacted(request_headers)
    secret = secret or query_secret or bool(parts.password or parts.username)
    authorization = next((v for k, v in request_headers if k.lower() == "authorization"), None)
    try:
        allowed = bool(contract.request_validator().is_valid(jsonbody.read_strict(request_body)))
    except (ValueError, OverflowError, TypeError):
        allowed = False
    exchange = Exchange(
        number=number,
        case_id=None,
        method=method.upper(),
        path=path,
        headers=headers,
        body=request_body,
        scheme=scheme,
        allowed_body=allowed and bool(request_body),
        could_rent=method.upper() == "POST" and safety.could_rent(request_body),
        credential=fingerprint(authorization) if authorization and not _ALREADY_HIDDEN.search(authorization) else None,
    )
    return exchange, secret


def from_recording(number: int, contract: Contract, recorded: Recorded) -> tuple[Exchange, bool]:
    """A recorded exchange as the suite's `Exchange`."""
    exchange, secret = exchange_of(
        number, contract, recorded.method, recorded.url,
        request_headers=recorded.request_headers, request_body=recorded.request_body,
    )  # fmt: skip
    exchange.status = recorded.status
    response_headers, _, response_secret = redacted(recorded.response_headers)
    exchange.response_headers = response_headers
    exchange.response_body = recorded.response_body
    exchange.started = recorded.started
    exchange.elapsed = recorded.elapsed
    exchange.body_missing = recorded.body_missing
    return exchange, secret or response_secret


def traffic_report(
    kind: str,
    target: str,
    contract: Contract,
    judge: Judge,
    exchanges: list[Exchange],
    *,
    with_secrets: list[Exchange],
    origin: str,
) -> Report:
    """The report of judged traffic: tallies, violations grouped by cause, credentials found."""
    options = Options(None, "as recorded", kind, None, None, 0, Secrets(), contract)
    report = Report(target, embedded=False, options=options, exchanges=exchanges, observations=judge.observed())
    report.kind = kind
    report.other_endpoints = judge.verdicts.other
    report.origin = origin
    applicable = judge.observed().applicable
    for name, tally in sorted(judge.verdicts.tallies.items()):
        judged = applicable.get(name, 0) if name in checks.SEMANTIC_NAMES else tally.judged
        report.tallies[name] = (judged, len(tally.failures))
        findings.collect(report, name, [(exchange, message) for exchange, message in tally.failures])
    if with_secrets:
        numbers = ", ".join(str(exchange.number) for exchange in with_secrets[:10])
        report.warnings.append(
            f"{len(with_secrets)} exchange(s) carry a credential (exchanges {numbers}): it is redacted in every "
            "report; remove it from the recording (vcrpy: filter_headers=['authorization'])"
        )
    missing = [exchange for exchange in exchanges if exchange.body_missing and judge.is_endpoint(exchange)]
    if missing:
        numbers = ", ".join(str(exchange.number) for exchange in missing[:10])
        report.warnings.append(
            f"{len(missing)} exchange(s) with the endpoint were recorded without their response body (exchanges "
            f"{numbers}): not judged, rentals among them still listed; record with bodies (HAR: save with content)"
        )
    if judge.paid_twice:
        pairs = ", ".join(f"{first.number} and {repeat.number}" for first, repeat in judge.paid_twice[:5])
        report.warnings.append(
            f"{len(judge.paid_twice)} request(s) were answered 201 twice within {PAID_TWICE_WINDOW:g} s (exchanges "
            f"{pairs}{', ...' if len(judge.paid_twice) > 5 else ''}): a retry that rented, and paid for, two numbers?"
        )
    findings.static_rentals(report)
    if judge.verdicts.endpoint == 0:
        raise CannotTest(
            "no exchange with the endpoint (POST .../phone_number/request/internal/) "
            f"in {target} ({judge.verdicts.other} exchanges with other endpoints were skipped)"
        )
    return report


def credentials_violation(report: Report, with_secrets: list[Exchange]) -> None:
    """With --fail-on-credentials: credentials in a recording are a violation, not a warning."""
    if with_secrets:
        message = "The recording carries credentials (redacted here): " + report.warnings.pop(0)
        report.violations.insert(0, findings.Violation("credentials_in_recording", message, with_secrets[0]))


def replay(paths: list[Path], contract: Contract, *, fail_on_credentials: bool = False) -> Report:
    """Judge every recorded exchange in the files and folders given; send nothing."""
    try:
        recorded, skipped = recordings.read(paths)
    except recordings.RecordingError as error:
        raise CannotTest(str(error)) from None
    judge = Judge(contract)
    exchanges: list[Exchange] = []
    with_secrets: list[Exchange] = []
    for number, one in enumerate(recorded, 1):
        exchange, secret = from_recording(number, contract, one)
        judge.judge(exchange)
        exchanges.append(exchange)
        if secret:
            with_secrets.append(exchange)
    origin = next(("{0.scheme}://{0.netloc}".format(urlsplit(r.url)) for r in recorded if "://" in r.url), "")
    target = "recordings " + ", ".join(map(str, paths))
    report = traffic_report("replay", target, contract, judge, exchanges, with_secrets=with_secrets, origin=origin)
    if fail_on_credentials:
        credentials_violation(report, with_secrets)
    if skipped:
        report.warnings.append(
            f"{len(skipped)} file(s) skipped in part or whole while reading: "
            + "; ".join(skipped[:3])
            + ("; ..." if len(skipped) > 3 else "")
        )
    return report
