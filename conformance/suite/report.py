"""The run's reports: the summary a person reads, JUnit XML for CI, a JSON record, and HAR.

Every file is valid for its format: the JUnit parses with a strict XML parser (control
characters from fuzzed bodies are escaped), the HAR has real start times, durations and
status texts (written with `harfile`), and every curl reproduction is complete and runnable
(bodies that cannot be typed are given as `$'...'`; long ones, and ones with a NUL byte that
no shell word can hold, as a file the report directory holds).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import shlex
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import harfile

from conformance.suite.exchange import CASE_HEADER

if TYPE_CHECKING:
    from pathlib import Path

    from conformance.suite.exchange import Exchange
    from conformance.suite.runner import Report

MAX_SHOWN_BODY = 300
MAX_CURL_BODY = 2_000  # longer bodies go to a file in the report directory
MAX_LISTED_RENTALS = 20
MAX_FIX_FIRST = 3
BODIES = "bodies"
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SKIPPED_HEADERS = (CASE_HEADER, "user-agent", "accept", "accept-encoding")


def xml_text(text: str) -> str:
    r"""Text that XML 1.0 can hold: characters it forbids are written as `\xNN`."""
    return _XML_ILLEGAL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def shell_quote(payload: bytes) -> str:
    """A shell word for these bytes: plain quoting for printable text, else `$'...'` with escapes."""
    text = payload.decode("utf-8", "replace")
    if text.encode() == payload and text.isprintable():
        return shlex.quote(text)
    escaped = "".join(
        chr(byte) if 32 <= byte < 127 and chr(byte) not in "\\'" else f"\\x{byte:02x}" for byte in payload
    )
    return f"$'{escaped}'"


def needs_file(body: bytes) -> bool:
    """A body no shell word can carry (a NUL byte) or too long to read is given as a file."""
    return len(body) > MAX_CURL_BODY or b"\x00" in body


def body_file(exchange: Exchange) -> str:
    """Where a long body is written, relative to the report directory."""
    return f"{BODIES}/exchange-{exchange.number}.body"


def curl(exchange: Exchange, origin: str) -> str:
    """The request as a complete curl command (credentials redacted; a long body from a file)."""
    parts = ["curl", "-X", exchange.method, shlex.quote(origin + exchange.path)]
    for name, value in exchange.headers:
        if name.lower() not in _SKIPPED_HEADERS:
            parts += ["-H", shell_quote(f"{name}: {value}".encode("utf-8", "replace"))]
    if exchange.body:
        if needs_file(exchange.body):
            parts += ["--data-binary", f"@{body_file(exchange)}"]
        else:
            parts += ["--data-binary", shell_quote(exchange.body)]
    return " ".join(parts)


def _response(exchange: Exchange, shown: dict[bytes, int], number: int) -> str:
    if exchange.error:
        return f"no response after {exchange.elapsed:.1f} s: {exchange.error}"
    first = shown.setdefault(exchange.response_body, number)
    content_type = exchange.header("content-type") or "no content type"
    if first != number:
        return f"{exchange.status} ({content_type}) the same body as violation {first}"
    body = exchange.response_body.decode("utf-8", "replace")
    if len(body) > MAX_SHOWN_BODY:
        body = body[:MAX_SHOWN_BODY] + f"... ({len(exchange.response_body)} bytes)"
    return f"{exchange.status} ({content_type}) {body}"


def _pacing_line(report: Report) -> str | None:
    tally = report.pacing
    if not tally.rate_limited:
        return None
    return (
        f"Rate limits: {tally.rate_limited} answers were 429; {tally.resent} requests were sent again after "
        f"waiting as the server asked; {tally.unjudged} left unjudged (still 429)"
    )


def _rental_lines(report: Report) -> list[str]:
    """The rentals, each id once, with how often it was answered."""
    rentals = report.rentals
    lines = [f"Rentals: {len(rentals)}"]
    if rentals and (not report.embedded or len(rentals) <= MAX_LISTED_RENTALS):
        ids = [exchange.rental_id() for exchange in rentals]
        for rental_id in dict.fromkeys(ids):
            repeats = ids.count(rental_id)
            lines.append(f"  rented {rental_id}" + (f" (answered {repeats} times)" if repeats > 1 else ""))
    return lines


def _violation_lines(report: Report, origin: str) -> list[str]:
    """Each violation with its reproduction; a body already shown is referred to, not repeated."""
    lines: list[str] = []
    shown: dict[bytes, int] = {}
    for number, violation in enumerate(report.violations, 1):
        lines += [
            "",
            f"Violation {number}: {violation.check}"
            + (f" ({violation.occurrences} cases)" if violation.occurrences > 1 else "")
            + (f" (likely caused by violation {violation.explained_by})" if violation.explained_by else ""),
        ]
        lines += [f"  {line}" for line in violation.message.strip().splitlines()[:8]]
        if violation.exchange is not None:
            lines += [
                f"  request:  {curl(violation.exchange, origin)}",
                f"  response: {_response(violation.exchange, shown, number)}",
            ]
    return lines


def _head(report: Report) -> list[str]:
    """The target, the options, and for a failed run the verdict with what to fix first."""
    options = report.options
    lines = [
        "",
        f"Conformance of {report.target}{' (embedded mock)' if report.embedded else ''}",
        f"contract {options.contract.version}, mode {options.mode}, auth {options.auth}, seed {options.seed}"
        + (f", at most {options.max_rentals} rentals" if options.max_rentals is not None else ""),
        "",
    ]
    if report.violations:
        lines.append(f"Result: NOT CONFORMANT: {len(report.violations)} violation(s). Fix first:")
        roots = [(n, v) for n, v in enumerate(report.violations, 1) if v.explained_by is None][:MAX_FIX_FIRST]
        lines += [f"  {n}. {v.check}: {v.message.strip().splitlines()[0][:110]}" for n, v in roots]
        lines.append("")
    return lines


def _traffic_lines(report: Report) -> list[str]:
    """What was sent (an active run) or seen (replay, proxy), and what reached the business rules."""
    if report.kind != "run":
        seen = "recorded" if report.kind == "replay" else "relayed"
        endpoint = len(report.exchanges) - report.other_endpoints
        lines = [
            (
                f"Exchanges: {len(report.exchanges)} {seen}; {endpoint} with the endpoint judged, "
                f"{report.other_endpoints} with other endpoints skipped"
            )
        ]
    else:
        held = sum(1 for e in report.exchanges if e.blocked)
        unsendable = [e for e in report.exchanges if e.failure == "unsendable"]
        answered = sum(1 for e in report.exchanges if e.sent)
        phases = ", ".join(f"{phase} {count}" for phase, count in report.engine.by_phase.items())
        failed = sum(e.server_failure for e in report.exchanges)
        example = f" (e.g. {(unsendable[0].error or '')[:80]})" if unsendable else ""
        lines = [
            (
                f"Requests: {answered} answered ({report.engine.cases} generated cases over {phases}), "
                f"{held} held back by the guard, {failed} without an answer, "
                f"{len(unsendable)} not sendable over HTTP{example}"
            )
        ]
    lines.append(f"Authenticated requests answered by the business rules: {report.business_reached()}")
    if (pacing := _pacing_line(report)) is not None:
        lines.append(pacing)
    lines += [f"Warning: {warning}" for warning in report.warnings]
    return lines


def summary(report: Report, origin: str) -> str:
    """The text a person reads at the end of a run: the verdict and what to fix first, then details."""
    lines = _head(report)
    lines.append(f"  {'check':<52}{'cases':>7}{'failures':>10}")
    lines += [f"  {name:<52}{cases:>7}{failed:>10}" for name, (cases, failed) in report.tallies.items()]
    lines += ["", *_traffic_lines(report)]
    lines += _rental_lines(report)
    if report.accounting is not None:
        audit = report.accounting
        lines.append(f"Mock accounting: {audit['rentals']} rentals held, consistent={audit['consistent']}")
    for status, count in sorted(report.observations.unknown_statuses.items()):
        lines.append(f"Drift warning: status {status!r} is not in the contract yet (seen {count} times)")
    if report.observations.voice_only_retries:
        lines.append(f"has-voice-only answers retried with with_sms=false: {report.observations.voice_only_retries}")
    if report.not_checked:
        lines.append("Not checked:")
        lines += [f"  - {item}" for item in report.not_checked]
    lines += [f"schemathesis error: {error}" for error in report.engine.errors]
    lines += _violation_lines(report, origin)
    verdict = "CONFORMANT" if not report.violations else f"NOT CONFORMANT: {len(report.violations)} violation(s)"
    lines += ["", f"Result: {verdict}"]
    return "\n".join(lines)


def junit(report: Report, origin: str) -> bytes:
    """JUnit XML: one test case per check, failures with complete reproductions."""
    suite = ET.Element("testsuite", name="close-conformance")
    failures = 0
    for name, (cases, failed) in report.tallies.items():
        case = ET.SubElement(suite, "testcase", classname="close-conformance", name=name)
        case.set("assertions", str(cases))
        mine = [violation for violation in report.violations if name.split(" (")[0] == violation.check]
        if failed and mine:
            failures += 1
            text = "\n\n".join(v.message + (f"\n{curl(v.exchange, origin)}" if v.exchange else "") for v in mine)
            failure = ET.SubElement(case, "failure", message=xml_text(mine[0].message.splitlines()[0][:200]))
            failure.text = xml_text(text)
    suite.set("tests", str(len(report.tallies)))
    suite.set("failures", str(failures))
    return bytes(ET.tostring(suite, encoding="utf-8", xml_declaration=True))


def junit_cannot_test(reason: str) -> bytes:
    """JUnit XML for a run that could not test: one test case in error, saying why."""
    suite = ET.Element("testsuite", name="close-conformance", tests="1", failures="0", errors="1")
    case = ET.SubElement(suite, "testcase", classname="close-conformance", name="could the server be tested")
    ET.SubElement(case, "error", message=xml_text(reason[:200])).text = xml_text(reason)
    return bytes(ET.tostring(suite, encoding="utf-8", xml_declaration=True))


def record(report: Report, origin: str) -> dict[str, Any]:
    """A JSON-ready record of the run (credentials already redacted by the guard)."""
    return {
        "result": "not conformant" if report.violations else "conformant",
        "target": report.target,
        "contract": report.options.contract.version,
        "mode": report.options.mode,
        "seed": report.options.seed,
        "conformant": not report.violations,
        "checks": {name: {"cases": cases, "failures": failed} for name, (cases, failed) in report.tallies.items()},
        "violations": [
            {
                "check": v.check,
                "message": v.message,
                "occurrences": v.occurrences,
                "explained_by": v.explained_by,
                "curl": curl(v.exchange, origin) if v.exchange else None,
            }
            for v in report.violations
        ],
        "rentals": [exchange.rental_id() for exchange in report.rentals],
        "unknown_statuses": report.observations.unknown_statuses,
        "not_checked": report.not_checked,
        "requests_sent": sum(1 for e in report.exchanges if e.sent),  # sent and answered
        "requests_held_back": sum(1 for e in report.exchanges if e.blocked),
        "requests_not_sendable": sum(1 for e in report.exchanges if e.failure == "unsendable"),
        "requests_without_answer": sum(1 for e in report.exchanges if e.error and e.failure != "unsendable"),
        "rate_limited": report.pacing.rate_limited,
        "resent_after_429": report.pacing.resent,
        "unjudged_429": report.pacing.unjudged,
        "business_reached": report.business_reached(),
        "accounting": report.accounting,
    }


def _text_or_base64(payload: bytes) -> tuple[str, str | None]:
    try:
        return payload.decode("utf-8"), None
    except UnicodeDecodeError:
        return base64.b64encode(payload).decode("ascii"), "base64"


def _har_entry(exchange: Exchange, origin: str) -> dict[str, Any]:
    request_text, request_encoding = _text_or_base64(exchange.body)
    response_text, response_encoding = _text_or_base64(exchange.response_body)
    status = exchange.status or 0
    try:
        status_text = HTTPStatus(status).phrase
    except ValueError:
        status_text = ""
    started = dt.datetime.fromtimestamp(exchange.started or 0, tz=dt.UTC)
    milliseconds = round(exchange.elapsed * 1000, 3)
    return {
        "startedDateTime": started,
        "time": milliseconds,
        "request": harfile.Request(
            method=exchange.method,
            url=origin + exchange.path,
            httpVersion="HTTP/1.1",
            headers=[harfile.Record(name=k, value=v) for k, v in exchange.headers],
            postData=harfile.PostData(
                mimeType=next((v for k, v in exchange.headers if k.lower() == "content-type"), ""),
                text=request_text,
                comment=request_encoding,
            )
            if exchange.body
            else None,
            bodySize=len(exchange.body),
        ),
        "response": harfile.Response(
            status=status,
            statusText=status_text,
            httpVersion="HTTP/1.1" if exchange.status else "",
            headers=[harfile.Record(name=k, value=v) for k, v in exchange.response_headers],
            content=harfile.Content(
                size=len(exchange.response_body),
                mimeType=exchange.header("content-type") or "",
                text=response_text,
                encoding=response_encoding,
            ),
            bodySize=len(exchange.response_body) if exchange.status else -1,
        ),
        "timings": harfile.Timings(send=0, wait=milliseconds, receive=0),
        "comment": exchange.blocked or exchange.error or None,
    }


def write_har(exchanges: list[Exchange], origin: str, path: Path) -> None:
    """Every exchange that has a time as HAR 1.2 (credentials already redacted by the guard)."""
    with harfile.open(str(path), creator=harfile.Creator(name="close-conformance", version="1")) as har:
        for exchange in exchanges:
            har.add_entry(**_har_entry(exchange, origin))


def write(report: Report, directory: Path, text: str) -> None:
    """Write summary.txt, report.json, junit.xml, exchanges.har and long bodies into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(report.target))
    write_har(report.exchanges, origin, directory / "exchanges.har")
    (directory / "summary.txt").write_text(text + "\n", encoding="utf-8")
    (directory / "report.json").write_text(json.dumps(record(report, origin), indent=2) + "\n", encoding="utf-8")
    (directory / "junit.xml").write_bytes(junit(report, origin))
    for violation in report.violations:
        if violation.exchange is not None and needs_file(violation.exchange.body):
            target = directory / body_file(violation.exchange)
            target.parent.mkdir(exist_ok=True)
            target.write_bytes(violation.exchange.body)


def write_cannot_test(reason: str, directory: Path | None, junit_path: Path | None) -> None:
    """The reports of a run that could not test (exit 2): why, in every format asked for."""
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "summary.txt").write_text(f"Result: CANNOT TEST: {reason}\n", encoding="utf-8")
        record = {"result": "cannot test", "reason": reason, "conformant": None}
        (directory / "report.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        (directory / "junit.xml").write_bytes(junit_cannot_test(reason))
    if junit_path is not None:
        junit_path.write_bytes(junit_cannot_test(reason))
