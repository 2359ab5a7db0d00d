"""The run's reports: the summary a person reads, JUnit XML for CI, and a JSON record."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from conformance.suite.guard import CASE_HEADER

if TYPE_CHECKING:
    from pathlib import Path

    from conformance.suite.guard import Exchange
    from conformance.suite.runner import Report

MAX_SHOWN_BODY = 600
MAX_LISTED_RENTALS = 20
MAX_HAR_BODY = 65_536


def curl(exchange: Exchange, origin: str) -> str:
    """The request as a curl command, credentials redacted."""
    parts = ["curl", "-X", exchange.method, shlex.quote(origin + exchange.path)]
    for name, value in exchange.headers:
        if name.lower() not in (CASE_HEADER, "user-agent", "accept", "accept-encoding"):
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if exchange.body:
        text = exchange.body.decode("utf-8", "replace")
        if len(text) > MAX_SHOWN_BODY:
            text = text[:MAX_SHOWN_BODY] + f"...({len(exchange.body)} bytes in all)"
        parts += ["--data-binary", shlex.quote(text)]
    return " ".join(parts)


def _response(exchange: Exchange) -> str:
    if exchange.error:
        return f"no response: {exchange.error}"
    body = exchange.response_body.decode("utf-8", "replace")
    if len(body) > MAX_SHOWN_BODY:
        body = body[:MAX_SHOWN_BODY] + "..."
    content_type = next((v for k, v in exchange.response_headers if k.lower() == "content-type"), "no content type")
    return f"{exchange.status} ({content_type}) {body}"


def summary(report: Report, origin: str) -> str:
    """The text a person reads at the end of a run."""
    options = report.options
    lines = [
        "",
        f"Conformance of {report.target}{' (embedded mock)' if report.embedded else ''}",
        f"mode {options.mode}, auth {options.auth}, seed {options.seed}"
        + (f", at most {options.max_rentals} rentals" if options.max_rentals is not None else ""),
        "",
        f"  {'check':<52}{'cases':>7}{'failures':>10}",
    ]
    lines += [f"  {name:<52}{cases:>7}{failed:>10}" for name, (cases, failed) in report.tallies.items()]
    sent = [e for e in report.exchanges if e.sent]
    held = [e for e in report.exchanges if e.blocked]
    unsendable = [e for e in report.exchanges if e.error]
    lines += [
        "",
        f"Requests: {len(sent)} sent ({report.engine.cases} generated cases over "
        + ", ".join(f"{phase} {count}" for phase, count in report.engine.by_phase.items())
        + f"), {len(held)} held back by the guard, {len(unsendable)} not sendable over HTTP"
        + (f" (e.g. {(unsendable[0].error or '')[:80]})" if unsendable else ""),
        f"Authenticated requests answered by the business rules: {report.business_reached()}",
    ]
    rentals = report.rentals
    lines.append(f"Rentals: {len(rentals)}")
    if rentals and (not report.embedded or len(rentals) <= MAX_LISTED_RENTALS):
        lines += [f"  rented {exchange.rental_id()}" for exchange in rentals]
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
    for error in report.engine.errors:
        lines.append(f"schemathesis error: {error}")
    for number, violation in enumerate(report.violations, 1):
        lines += [
            "",
            f"Violation {number}: {violation.check}"
            + (f" ({violation.occurrences} cases)" if violation.occurrences > 1 else ""),
        ]
        lines += [f"  {line}" for line in violation.message.strip().splitlines()[:8]]
        if violation.exchange is not None:
            lines += [
                f"  request:  {curl(violation.exchange, origin)}",
                f"  response: {_response(violation.exchange)}",
            ]
    verdict = "CONFORMANT" if not report.violations else f"NOT CONFORMANT: {len(report.violations)} violation(s)"
    lines += ["", f"Result: {verdict}"]
    return "\n".join(lines)


def junit(report: Report) -> bytes:
    """JUnit XML: one test case per check, failures with the reproduction."""
    suite = ET.Element("testsuite", name="close-conformance")
    failures = 0
    for name, (cases, failed) in report.tallies.items():
        case = ET.SubElement(suite, "testcase", classname="close-conformance", name=name)
        case.set("assertions", str(cases))
        mine = [violation for violation in report.violations if name.startswith(violation.check)]
        if failed and mine:
            failures += 1
            text = "\n\n".join(v.message + (f"\n{curl(v.exchange, '')}" if v.exchange else "") for v in mine)
            ET.SubElement(case, "failure", message=mine[0].message.splitlines()[0][:200]).text = text
    suite.set("tests", str(len(report.tallies)))
    suite.set("failures", str(failures))
    return bytes(ET.tostring(suite, encoding="utf-8", xml_declaration=True))


def record(report: Report) -> dict[str, Any]:
    """A JSON-ready record of the run (credentials already redacted by the guard)."""
    return {
        "target": report.target,
        "mode": report.options.mode,
        "seed": report.options.seed,
        "conformant": not report.violations,
        "checks": {name: {"cases": cases, "failures": failed} for name, (cases, failed) in report.tallies.items()},
        "violations": [
            {
                "check": v.check,
                "message": v.message,
                "occurrences": v.occurrences,
                "curl": curl(v.exchange, "") if v.exchange else None,
            }
            for v in report.violations
        ],
        "rentals": [exchange.rental_id() for exchange in report.rentals],
        "unknown_statuses": report.observations.unknown_statuses,
        "not_checked": report.not_checked,
        "requests_sent": sum(1 for e in report.exchanges if e.sent),
        "requests_held_back": sum(1 for e in report.exchanges if e.blocked),
        "requests_not_sendable": sum(1 for e in report.exchanges if e.error),
        "business_reached": report.business_reached(),
        "accounting": report.accounting,
    }


def har(report: Report, origin: str) -> dict[str, Any]:
    """Every exchange of the run as HAR 1.2 (credentials already redacted by the guard)."""

    def text(payload: bytes) -> str:
        return payload[:MAX_HAR_BODY].decode("utf-8", "replace")

    entries = [
        {
            "startedDateTime": "1970-01-01T00:00:00Z",
            "time": 0,
            "comment": exchange.blocked or exchange.error or "",
            "request": {
                "method": exchange.method,
                "url": origin + exchange.path,
                "httpVersion": "HTTP/1.1",
                "headers": [{"name": k, "value": v} for k, v in exchange.headers],
                "queryString": [],
                "cookies": [],
                "headersSize": -1,
                "bodySize": len(exchange.body),
                "postData": {"mimeType": _header(exchange.headers, "content-type"), "text": text(exchange.body)},
            },
            "response": {
                "status": exchange.status or 0,
                "statusText": "",
                "httpVersion": "HTTP/1.1",
                "headers": [{"name": k, "value": v} for k, v in exchange.response_headers],
                "cookies": [],
                "content": {
                    "size": len(exchange.response_body),
                    "mimeType": _header(exchange.response_headers, "content-type"),
                    "text": text(exchange.response_body),
                },
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": len(exchange.response_body),
            },
            "cache": {},
            "timings": {"send": 0, "wait": 0, "receive": 0},
        }
        for exchange in report.exchanges
    ]
    return {"log": {"version": "1.2", "creator": {"name": "close-conformance", "version": "1"}, "entries": entries}}


def _header(headers: list[tuple[str, str]], name: str) -> str:
    return next((value for key, value in headers if key.lower() == name), "")


def write(report: Report, directory: Path, text: str) -> None:
    """Write summary.txt, report.json, junit.xml and exchanges.har into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(report.target))
    (directory / "exchanges.har").write_text(json.dumps(har(report, origin)) + "\n", encoding="utf-8")
    (directory / "summary.txt").write_text(text + "\n", encoding="utf-8")
    (directory / "report.json").write_text(json.dumps(record(report), indent=2) + "\n", encoding="utf-8")
    (directory / "junit.xml").write_bytes(junit(report))
