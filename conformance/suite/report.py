"""The run's reports: the summary a person reads, a JSON record, JUnit XML for CI, and HAR.

Writers only read the `Conclusion`; they decide nothing. Every file is valid for its format:
the JUnit parses with a strict XML parser (control characters from fuzzed bodies are
escaped), the HAR holds every exchange that was sent (never one that was not) with real start
times, durations and status texts (written with `harfile`), and every curl reproduction is
complete and runnable (bodies that cannot be typed are given as `$'...'`; long ones, and ones
with a NUL byte that no shell word can hold, as a file in the report directory).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import importlib.metadata
import json
import re
import shlex
import textwrap
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

import harfile

from conformance.suite.conclusion import CANNOT_TEST, CONFORMANT, NOT_CONFORMANT, SHORT_OF_COVERAGE
from conformance.suite.coverage import ROLES

if TYPE_CHECKING:
    from pathlib import Path

    from conformance.suite.conclusion import Conclusion
    from conformance.suite.exchange import Exchange
    from conformance.suite.findings import Violation

MAX_SHOWN_BODY = 300
MAX_RECORDED_BODY = 4_000  # of a violation's response, in report.json
MAX_CURL_BODY = 2_000  # longer bodies go to a file in the report directory
MAX_LISTED_RENTALS = 20
MAX_FIX_FIRST = 3
MAX_NEVER_SHOWN = 12  # coverage items listed as never exercised, per group
BODIES = "bodies"
PLACEHOLDER_ORIGIN = "http://recorded.invalid"  # a recording that kept paths only: an origin that is surely not real
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOISE_HEADERS = ("x-schemathesis-testcaseid", "user-agent", "accept", "accept-encoding")
RESULT_LINE = {
    CONFORMANT: "CONFORMANT",
    NOT_CONFORMANT: "NOT CONFORMANT",
    SHORT_OF_COVERAGE: "CONFORMANT, but short of the coverage required",
    CANNOT_TEST: "CANNOT TEST",
}


@functools.cache
def tool_version() -> str:
    """The version of close-phone-numbers-conformance that is running."""
    try:
        return importlib.metadata.version("close-phone-numbers-conformance")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


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


def origin_of(conclusion: Conclusion) -> str:
    """The origin reproductions are sent to."""
    return conclusion.source.origin or PLACEHOLDER_ORIGIN


def curl(exchange: Exchange, origin: str, *, files: bool = True) -> str:
    """The request as a complete curl command (credentials redacted).

    A body no shell word can hold comes from the report directory's file when `files` (a report
    directory is written), else it is described, not pointed at a file that does not exist.
    """
    parts = ["curl", "-X", exchange.method, shlex.quote(origin + exchange.path)]
    for name, value in exchange.headers:
        if name.lower() not in _NOISE_HEADERS:
            parts += ["-H", shell_quote(f"{name}: {value}".encode("utf-8", "replace"))]
    if exchange.body:
        if not needs_file(exchange.body):
            parts += ["--data-binary", shell_quote(exchange.body)]
        elif files:
            parts += ["--data-binary", f"@{body_file(exchange)}"]
        else:
            parts += [
                "--data-binary",
                f"@BODY  # the {len(exchange.body)}-byte body: rerun with --report-dir to get it",
            ]
    return " ".join(parts)


def _shown_body(payload: bytes, limit: int = MAX_SHOWN_BODY) -> str:
    text = payload.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + f"... ({len(payload)} bytes)"


def _response_line(exchange: Exchange, shown: dict[bytes, int], number: int) -> str:
    if exchange.error:
        return f"no response after {exchange.elapsed:.1f} s: {exchange.error}"
    first = shown.setdefault(exchange.response_body, number)
    content_type = exchange.header("content-type") or "no content type"
    if first != number:
        return f"{exchange.status} ({content_type}) the same body as violation {first}"
    return f"{exchange.status} ({content_type}) {_shown_body(exchange.response_body)}"


# -- the summary -----------------------------------------------------------------------------


def _when(conclusion: Conclusion) -> str:
    started = dt.datetime.fromtimestamp(conclusion.evidence.started, dt.UTC).isoformat(timespec="seconds")
    return f"{started.replace('+00:00', 'Z')}, {conclusion.evidence.duration:.1f} s"


def headline(conclusion: Conclusion) -> str:
    """The result in one line, as the summary ends."""
    if conclusion.verdict == CANNOT_TEST:
        return f"Result: CANNOT TEST: {conclusion.reason}"
    failing = conclusion.failing
    line = f"Result: {RESULT_LINE[conclusion.verdict]}"
    if failing:
        documented = sum(not v.basis.is_choice for v in failing)
        chosen = len(failing) - documented
        line += f": {len(failing)} violation(s)"
        parts = [f"{documented} of what Close documents"] if documented else []
        parts += [f"{chosen} of the contract's own choices"] if chosen else []
        line += f" ({', '.join(parts)})"
    unfailing = [v for v in conclusion.violations if not conclusion.fails(v)]
    if unfailing:
        known = sum(v.baseline == "known" for v in unfailing)
        warned = len(unfailing) - known
        notes = ([f"{known} known from the baseline"] if known else []) + (
            [f"{warned} against the contract's choices, warned (--assumptions warn)"] if warned else []
        )
        line += f"; {', '.join(notes)}"
    return line


def _head(conclusion: Conclusion) -> list[str]:
    source = conclusion.source
    what = {"run": f"run in {source.mode} mode", "replay": "recorded traffic", "proxy": "traffic through the proxy"}
    options = [what[source.kind]]
    if source.auth:
        options.append(f"auth {source.auth}")
    if source.seed is not None:
        options.append(f"seed {source.seed}")
    if source.max_rentals is not None:
        options.append(f"at most {source.max_rentals} rentals")
    lines = [
        "",
        f"Conformance of {source.target}{' (embedded mock)' if source.embedded else ''}",
        f"contract {source.contract.version} ({source.contract.path.name}); {', '.join(options)}; {_when(conclusion)}",
        "",
        headline(conclusion),
    ]
    roots = [(n, v) for n, v in enumerate(conclusion.violations, 1) if conclusion.fails(v) and not v.explained_by]
    if roots:
        lines.append("Fix first:")
        lines += [f"  {n}. {v.key}{_cases(v)}: {_clip(v.message, 110)}" for n, v in roots[:MAX_FIX_FIRST]]
    return [*lines, ""]


def _clip(message: str, width: int) -> str:
    """A message's first line, cut at a word (never mid-word) to `width` characters, with " ..." when cut."""
    line = message.strip().splitlines()[0] if message.strip() else ""
    return textwrap.shorten(line, width=width, placeholder=" ...")


def _cases(violation: Violation) -> str:
    return f" ({violation.cases} cases)" if violation.cases > 1 else ""


def _check_lines(conclusion: Conclusion) -> list[str]:
    lines = [f"  {'check':<48}{'judged':>8}{'failed':>8}  status"]
    for result in sorted(conclusion.checks.values(), key=lambda r: (r.status == "not exercised", r.name)):
        failed = str(result.failed) if result.judged else "-"
        lines.append(f"  {result.name:<48}{result.judged:>8}{failed:>8}  {result.status}")
    return lines


def _traffic_lines(conclusion: Conclusion) -> list[str]:
    evidence = conclusion.evidence
    verdicts = evidence.verdicts
    exchanges = evidence.exchanges
    without = sum(1 for e in exchanges if not e.answered)
    if conclusion.source.kind == "run":
        phases = ", ".join(f"{phase} {count}" for phase, count in evidence.phases.items())
        probes = sum(1 for e in exchanges if e.probe and not e.follow_up)
        follow_ups = sum(1 for e in exchanges if e.follow_up)
        held = [n for n in evidence.not_sent if "not writable" not in n.reason]
        unsendable = len(evidence.not_sent) - len(held)
        generated = len(exchanges) - probes - follow_ups
        lines = [
            (
                f"Requests: {len(exchanges)} sent ({probes} fixed probes, {follow_ups} follow-ups, {generated} "
                f"generated), {len(held)} held back by the guard, {unsendable} not writable as HTTP, {without} "
                "without an answer"
            ),
            f"Cases schemathesis generated, by phase (sent, or held back by the guard): {phases or 'none'}",
        ]
    else:
        seen = "recorded" if conclusion.source.kind == "replay" else "relayed"
        without += len(evidence.not_sent)  # recorded requests without an answer are no exchanges
        lines = [
            (
                f"Exchanges: {len(exchanges)} {seen}; {verdicts.answered} with the endpoint judged, "
                f"{verdicts.other} with other endpoints skipped, {without} without an answer"
            )
        ]
    lines.append(f"Authenticated requests answered by the business rules: {conclusion.business_reached()}")
    pacing = evidence.pacing
    if pacing.get("rate_limited"):
        lines.append(
            f"Rate limits: {pacing['rate_limited']} answers were 429; {pacing.get('resent', 0)} requests were sent "
            f"again after waiting as the server asked; {pacing.get('unjudged', 0)} left unjudged (still 429); every "
            "429 was judged too"
            + (
                f"; {pacing['hintless']} said nothing of when to retry (after a few such waits, the run stopped "
                "waiting on them)"
                if pacing.get("hintless")
                else ""
            )
        )
    elif verdicts.rate_limited:
        lines.append(f"Rate limits: {verdicts.rate_limited} answers were 429 (each judged)")
    return lines


def _rental_lines(conclusion: Conclusion) -> list[str]:
    """The rentals, each id once, and for each whether it was released; what is still held, and how to release it."""
    rentals = conclusion.rentals
    lifecycle = conclusion.evidence.lifecycle or {}
    held = list(lifecycle.get("held", []))
    line = f"Rentals: {len(rentals)}"
    if "read_back" in lifecycle:
        line += f" (read back {lifecycle['read_back']}, released {lifecycle['released']}, still held {len(held)})"
        if lifecycle.get("ledger"):  # where to look after a crash: `close-conformance release --ledger` reads it
            line += f"; ledger {lifecycle['ledger']}"
    elif lifecycle:
        line += f" (released in this traffic {lifecycle.get('released', 0)}, not released {len(held)})"
    lines = [line]
    if rentals and (not conclusion.source.embedded or len(rentals) <= MAX_LISTED_RENTALS):
        ids = [exchange.rental_id() for exchange in rentals]
        for rental_id in list(dict.fromkeys(ids))[:MAX_LISTED_RENTALS]:
            repeats = ids.count(rental_id)
            state = " (still held: billed monthly until released)" if rental_id in held else ""
            lines.append(f"  rented {rental_id}" + (f" (answered {repeats} times)" if repeats > 1 else "") + state)
    if held and "read_back" in lifecycle:
        lines.append(f"  Still held after the run ({len(held)}; each bills its monthly price until released):")
        lines += [f"    {rental_id}" for rental_id in held[:MAX_LISTED_RENTALS]]
        if lifecycle.get("release_command"):
            lines.append(f"  Release them: {lifecycle['release_command']}")
    return lines


def coverage_lines(conclusion: Conclusion) -> list[str]:
    """The coverage section: totals, then per group what was never exercised."""
    coverage = conclusion.coverage
    lines = [f"Coverage of the contract: {coverage.exercised} of {len(coverage.items)} items ({coverage.fraction:.0%})"]
    for name, items in coverage.groups().items():
        exercised = sum(item.exercised for item in items)
        never = [item.id.split(":", 1)[1] for item in items if not item.exercised]
        from conformance.suite.coverage import GROUPS

        line = f"  {GROUPS.get(name, name)}: {exercised} of {len(items)}"
        if never:
            shown = ", ".join(never[:MAX_NEVER_SHOWN]) + (
                f", ... ({len(never) - MAX_NEVER_SHOWN} more)" if len(never) > MAX_NEVER_SHOWN else ""
            )
            line += f"; never: {shown}"
        lines.append(line)
    nulls = [
        item
        for item in coverage.items
        if item.group == "response-field" and item.detail and "null 0" not in item.detail
    ]
    if nulls:
        lines.append("  fields seen null: " + ", ".join(item.id.split(":", 1)[1] for item in nulls[:MAX_NEVER_SHOWN]))
    if conclusion.gaps:
        lines.append("Short of --require-coverage:")
        lines += [f"  - {gap}" for gap in conclusion.gaps]
    return lines


def _choice_note(conclusion: Conclusion, violation: Violation) -> list[str]:
    choice = conclusion.source.contract.choices.get(violation.basis.ref)
    if choice is None:
        return [f"  The contract chose this where Close is silent ({violation.basis.ref})."]
    others = [f"{name} ({text.rstrip('.')})" for name, text in list(choice.readings.items())[1:]]
    return [
        f"  The contract chose: {choice.summary.rstrip('.')} ({choice.reason.rstrip('.')}).",
        "  This server reads it otherwise" + (f"; other readings: {'; '.join(others)}" if others else "") + ".",
        (
            f"  If the server is right, change the contract: x-choices.{choice.id} in "
            f"{conclusion.source.contract.path.name}"
            + (" (or accept it: --assumptions warn, or --baseline)." if conclusion.fails(violation) else ".")
        ),
    ]


def _violation_lines(
    conclusion: Conclusion, violations: list[Violation], *, files: bool, shown: dict[bytes, int]
) -> list[str]:
    origin = origin_of(conclusion)
    lines: list[str] = []
    for violation in violations:
        number = conclusion.violations.index(violation) + 1
        tags = [violation.basis.label()]
        if violation.baseline:
            tags.append(f"{violation.baseline} since the baseline")
        if not conclusion.fails(violation):
            tags.append("does not fail the run")
        lines += [
            "",
            f"Violation {number}: {violation.key}{_cases(violation)} [{'; '.join(tags)}]"
            + (f" (likely caused by {violation.explained_by})" if violation.explained_by else ""),
        ]
        lines += [f"  {line}" for line in violation.message.strip().splitlines()[:8]]
        if violation.probes:
            lines.append(f"  fixed probes that show it: {'; '.join(violation.probes[:6])}")
        if violation.basis.is_choice:
            lines += _choice_note(conclusion, violation)
        for index, example in enumerate(violation.examples):
            exchange = example.exchange
            if exchange is None:
                continue
            if index:
                lines.append(f"  another case: {_clip(example.problem.message, 160)}")
            lines += [
                f"  request:  {curl(exchange, origin, files=files)}",
                f"  response: {_response_line(exchange, shown, number)}",
            ]
    return lines


def summary(conclusion: Conclusion, *, files: bool = False) -> str:
    """The text a person reads at the end of a run: the verdict and what to fix first, then the details."""
    evidence = conclusion.evidence
    lines = _head(conclusion)
    if conclusion.verdict == CANNOT_TEST and not evidence.exchanges:
        lines += ["Nothing was judged: fix the cause above and run again.", *_traffic_lines(conclusion)]
        return "\n".join(lines)
    lines += _check_lines(conclusion)
    lines += ["", *_traffic_lines(conclusion), *_rental_lines(conclusion)]
    if evidence.accounting is not None:
        lines.append(
            f"Mock accounting: {evidence.accounting['rentals']} rentals, "
            f"{evidence.accounting.get('held', evidence.accounting['rentals'])} still held, "
            f"consistent={evidence.accounting['consistent']}"
        )
    lines += [
        f"Drift warning: status {status!r} is not in the contract yet (seen {count} times)"
        for status, count in sorted(drift(conclusion).items())
    ]
    lines += coverage_lines(conclusion)
    if evidence.not_checked:
        lines.append("Not checked:")
        lines += [f"  - {item}" for item in evidence.not_checked]
    lines += [f"Warning: {warning}" for warning in evidence.warnings]
    lines += [f"schemathesis error: {error}" for error in evidence.engine_errors]
    shown: dict[bytes, int] = {}
    documented, chosen = conclusion.documented, conclusion.chosen
    if documented:
        lines += ["", "Violations of what Close documents:"]
        lines += _violation_lines(conclusion, documented, files=files, shown=shown)
    if chosen:
        lines += ["", "Findings against the contract's own choices (Close is silent there; the contract guessed):"]
        lines += _violation_lines(conclusion, chosen, files=files, shown=shown)
    baseline = conclusion.settings.baseline
    if baseline is not None:
        known = sum(v.baseline == "known" for v in conclusion.violations)
        new = sum(v.baseline == "new" for v in conclusion.violations)
        lines += ["", f"Baseline {baseline.source}: {known} known, {new} new, {len(conclusion.fixed)} fixed"]
        lines += [f"  fixed: {item.key}" for item in conclusion.fixed]
        lines += [f"  not judged this run (not known to be fixed): {item.key}" for item in conclusion.unjudged_baseline]
    lines += ["", headline(conclusion)]
    return "\n".join(lines)


def drift(conclusion: Conclusion) -> dict[str, int]:
    """Refusal statuses the contract does not know yet, with how often each was seen."""
    return conclusion.evidence.verdicts.observed.refusals_unknown(conclusion.source.contract)


# -- JSON ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _HarIndex:
    by_number: dict[int, int]  # exchange number -> HAR entry index


def _har_index(conclusion: Conclusion) -> _HarIndex:
    return _HarIndex({exchange.number: index for index, exchange in enumerate(conclusion.evidence.exchanges)})


def _timeline(conclusion: Conclusion) -> list[list[Any]]:
    """Per exchange: [start s, elapsed ms, status, operation, 429s waited out, ms waited, failure kind].

    Start counts from the run's start, or from the first recorded exchange when the recording is
    older than the replay (None: the recording has no time).
    """
    evidence, contract = conclusion.evidence, conclusion.source.contract
    origin = min([evidence.started, *(e.started for e in evidence.exchanges if e.started)])
    rows: list[list[Any]] = []
    for exchange in evidence.exchanges:
        match = contract.match(exchange.method, exchange.path)
        operation = match.operation if match is not None else None
        rows.append([
            round(exchange.started - origin, 3) if exchange.started else None,
            round(exchange.elapsed * 1000, 2),
            exchange.status if exchange.answered else None,
            ROLES.get(operation.id, operation.id) if operation is not None else exchange.method,
            len(exchange.rate_limited),
            round(exchange.waited * 1000, 1),
            exchange.failure,
        ])  # fmt: skip
    return rows


def _example(exchange: Exchange, origin: str, index: _HarIndex, *, files: bool, problem: str) -> dict[str, Any]:
    return {
        "problem": problem,
        "exchange": exchange.number,
        "har_entry": index.by_number.get(exchange.number),
        "probe": exchange.probe,
        "request": {
            "method": exchange.method,
            "url": origin + exchange.path,
            "headers": [[k, v] for k, v in exchange.headers],
            "body": _shown_body(exchange.body, MAX_RECORDED_BODY),
        },
        "response": {
            "status": exchange.status,
            "headers": [[k, v] for k, v in exchange.response_headers],
            "body": _shown_body(exchange.response_body, MAX_RECORDED_BODY),
            "error": exchange.error,
        },
        "curl": curl(exchange, origin, files=files),
    }


def _basis_record(conclusion: Conclusion, violation: Violation) -> dict[str, Any]:
    basis = violation.basis
    found: dict[str, Any] = {"kind": basis.kind, "ref": basis.ref, "text": basis.text, "label": basis.label()}
    choice = conclusion.source.contract.choices.get(basis.ref) if basis.is_choice else None
    if choice is not None:
        found |= {"reason": choice.reason, "readings": choice.readings, "contract_reading": choice.contract_reading}
    return found


def record(conclusion: Conclusion, *, files: bool = True) -> dict[str, Any]:
    """A JSON-ready record of the conclusion (credentials already redacted)."""
    source, evidence = conclusion.source, conclusion.evidence
    origin, index = origin_of(conclusion), _har_index(conclusion)
    exchanges = evidence.exchanges
    violations = [
        {
            "key": v.key,
            "check": v.check,
            "subject": v.subject,
            "basis": _basis_record(conclusion, v),
            "message": v.message,
            "cases": v.cases,
            "fails": conclusion.fails(v),
            "baseline": v.baseline,
            "explained_by": v.explained_by,
            "probes": v.probes,
            "examples": [
                _example(f.exchange, origin, index, files=files, problem=f.problem.message)
                for f in v.examples
                if f.exchange is not None
            ],
        }
        for v in conclusion.violations
    ]
    started = (
        dt.datetime.fromtimestamp(evidence.started, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
    baseline = conclusion.settings.baseline
    return {
        "tool": {"name": "close-conformance", "version": tool_version()},
        "result": conclusion.verdict,
        "conformant": conclusion.verdict == CONFORMANT if conclusion.verdict != CANNOT_TEST else None,
        "exit_code": conclusion.exit_code,
        "reason": conclusion.reason,
        "kind": source.kind,
        "target": source.target,
        "origin": source.origin,
        "mode": source.mode,
        "seed": source.seed,
        "auth": source.auth,
        "contract": {"version": source.contract.version, "file": source.contract.path.name},
        "started": started,
        "duration": round(evidence.duration, 3),
        "assumptions": conclusion.settings.assumptions,
        "checks": {
            r.name: {"about": r.about, "judged": r.judged, "failed": r.failed, "status": r.status}
            for r in conclusion.checks.values()
        },
        "violations": violations,
        "baseline": None
        if baseline is None
        else {
            "path": baseline.source,
            "known": sum(v.baseline == "known" for v in conclusion.violations),
            "new": sum(v.baseline == "new" for v in conclusion.violations),
            "fixed": [item.key for item in conclusion.fixed],
            "not_judged": [item.key for item in conclusion.unjudged_baseline],
        },
        "coverage": conclusion.coverage.record(),
        "coverage_gaps": conclusion.gaps,
        "drift": {"unknown_statuses": drift(conclusion)},
        "not_checked": evidence.not_checked,
        "not_sent": [
            {"method": n.method, "path": n.path, "reason": n.reason, "probe": n.probe} for n in evidence.not_sent
        ],
        "warnings": evidence.warnings,
        "requests": {
            "exchanges": len(exchanges),
            "probes": sum(1 for e in exchanges if e.probe and not e.follow_up),
            "follow_ups": sum(1 for e in exchanges if e.follow_up),
            "answered": sum(1 for e in exchanges if e.answered),
            "without_answer": sum(1 for e in exchanges if not e.answered),
            "held_back": sum(1 for n in evidence.not_sent if "not writable" not in n.reason),
            "not_writable": sum(1 for n in evidence.not_sent if "not writable" in n.reason),
            "with_the_endpoint": evidence.verdicts.endpoint,
            "other_endpoints": evidence.verdicts.other,
            "business_reached": conclusion.business_reached(),
            "rate_limited": evidence.pacing.get("rate_limited", evidence.verdicts.rate_limited),
            "resent_after_429": evidence.pacing.get("resent", 0),
            "unjudged_429": evidence.pacing.get("unjudged", 0),
        },
        "phases": evidence.phases,
        "rentals": [exchange.rental_id() for exchange in conclusion.rentals],
        "lifecycle": evidence.lifecycle,
        "accounting": evidence.accounting,
        "stopped": evidence.stopped,
        "timeline": _timeline(conclusion),
    }


# -- JUnit -----------------------------------------------------------------------------------


def _junit_properties(suite: ET.Element, conclusion: Conclusion) -> None:
    source, coverage = conclusion.source, conclusion.coverage
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("tool.version", tool_version()), ("contract.version", source.contract.version), ("kind", source.kind),
        ("mode", source.mode), ("result", conclusion.verdict), ("coverage.exercised", str(coverage.exercised)),
        ("coverage.items", str(len(coverage.items))), ("coverage.fraction", f"{coverage.fraction:.4f}"),
    ):  # fmt: skip
        ET.SubElement(properties, "property", name=name, value=xml_text(value))
    for group, items in coverage.groups().items():
        never = [item.id for item in items if not item.exercised]
        ET.SubElement(properties, "property", name=f"coverage.{group}", value=f"{len(items) - len(never)}/{len(items)}")
        if never:
            ET.SubElement(properties, "property", name=f"coverage.{group}.never", value=xml_text(", ".join(never)))


def _junit_check(suite: ET.Element, conclusion: Conclusion, name: str, *, files: bool) -> str | None:
    """One check's test case; returns "failure" or "skipped" when it is one."""
    result = conclusion.checks[name]
    case = ET.SubElement(suite, "testcase", classname="close-conformance", name=name, assertions=str(result.judged))
    mine = [v for v in conclusion.violations if v.check == name]
    if mine:
        listed = ET.SubElement(case, "properties")
        for violation in mine:
            ET.SubElement(
                listed, "property", name=f"basis: {xml_text(violation.subject)}", value=violation.basis.label()
            )
    failing = [v for v in mine if conclusion.fails(v)]
    if failing:
        origin = origin_of(conclusion)
        text = "\n\n".join(
            f"{v.key} ({v.cases} cases) [{v.basis.label()}]\n{v.message}"
            + (f"\n{curl(v.exchange, origin, files=files)}" if v.exchange else "")
            for v in failing
        )
        first = f"{failing[0].key}: {failing[0].message.splitlines()[0]}"
        ET.SubElement(case, "failure", message=xml_text(first[:200])).text = xml_text(text)
        return "failure"
    if result.judged == 0:
        ET.SubElement(case, "skipped", message="not exercised: nothing in this run for the check to judge")
        return "skipped"
    if mine:
        notes = [f"{v.key}: {'known from the baseline' if v.baseline == 'known' else 'warned'}" for v in mine]
        ET.SubElement(case, "system-out").text = xml_text("\n".join(notes))
    return None


def junit(conclusion: Conclusion, *, files: bool = True) -> bytes:
    """JUnit XML: a test case per check (judged: its count; not exercised: skipped), failures with reproductions."""
    evidence = conclusion.evidence
    started = dt.datetime.fromtimestamp(evidence.started, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "")
    suite = ET.Element("testsuite", name="close-conformance", timestamp=started, time=f"{evidence.duration:.3f}")
    _junit_properties(suite, conclusion)
    counts = {"tests": 0, "failures": 0, "skipped": 0, "errors": 0}
    if conclusion.verdict == CANNOT_TEST:
        case = ET.SubElement(suite, "testcase", classname="close-conformance", name="could the server be tested")
        reason = conclusion.reason or ""
        ET.SubElement(case, "error", message=xml_text(reason[:200])).text = xml_text(reason)
        counts |= {"tests": 1, "errors": 1}
    else:
        for name in conclusion.checks:
            counts["tests"] += 1
            outcome = _junit_check(suite, conclusion, name, files=files)
            if outcome is not None:
                counts["failures" if outcome == "failure" else "skipped"] += 1
        for item in evidence.not_checked:
            case = ET.SubElement(
                suite, "testcase", classname="close-conformance.not-checked", name=xml_text(item[:120])
            )
            ET.SubElement(case, "skipped", message=xml_text(f"not checked: {item}"[:200]))
            counts["tests"] += 1
            counts["skipped"] += 1
    for name, value in counts.items():
        suite.set(name, str(value))
    return bytes(ET.tostring(suite, encoding="utf-8", xml_declaration=True))


# -- HAR -------------------------------------------------------------------------------------


def _text_or_base64(payload: bytes) -> tuple[str, str | None]:
    try:
        return payload.decode("utf-8"), None
    except UnicodeDecodeError:
        return base64.b64encode(payload).decode("ascii"), "base64"


def _har_entry(exchange: Exchange, origin: str, comment: str | None) -> dict[str, Any]:
    request_text, request_encoding = _text_or_base64(exchange.body)
    response_text, response_encoding = _text_or_base64(exchange.response_body)
    status = exchange.status or 0
    try:
        status_text = HTTPStatus(status).phrase
    except ValueError:
        status_text = ""
    started = dt.datetime.fromtimestamp(exchange.started or 0, tz=dt.UTC)
    milliseconds = round(exchange.elapsed * 1000, 3)
    notes = [note for note in (exchange.probe and f"probe: {exchange.probe}", exchange.error, comment) if note]
    return {
        "startedDateTime": started,
        "time": milliseconds,
        "request": harfile.Request(
            method=exchange.method,
            url=origin + exchange.path,
            httpVersion="HTTP/1.1",
            headers=[harfile.Record(name=k, value=v) for k, v in exchange.headers],
            postData=harfile.PostData(
                mimeType=exchange.request_header("content-type") or "", text=request_text, comment=request_encoding
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
        "comment": "; ".join(notes) or None,
    }


def write_har(conclusion: Conclusion, path: Path) -> None:
    """Every exchange that was sent, as HAR 1.2; a violation's examples say so in their comment."""
    origin = origin_of(conclusion)
    notes: dict[int, list[str]] = {}
    for number, violation in enumerate(conclusion.violations, 1):
        for example in violation.examples:
            if example.exchange is not None:
                notes.setdefault(example.exchange.number, []).append(f"violation {number}: {violation.key}")
    with harfile.open(str(path), creator=harfile.Creator(name="close-conformance", version=tool_version())) as har:
        for exchange in conclusion.evidence.exchanges:
            har.add_entry(**_har_entry(exchange, origin, "; ".join(notes.get(exchange.number, [])) or None))


def html(conclusion: Conclusion) -> str:
    """The HTML report: one self-contained page."""
    from conformance.suite import html as pages

    return pages.render(record(conclusion))


def write(conclusion: Conclusion, directory: Path, text: str) -> None:
    """Write summary.txt, report.json, junit.xml, exchanges.har, report.html and long bodies into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    write_har(conclusion, directory / "exchanges.har")
    (directory / "summary.txt").write_text(text + "\n", encoding="utf-8")
    (directory / "report.json").write_text(json.dumps(record(conclusion), indent=2) + "\n", encoding="utf-8")
    (directory / "junit.xml").write_bytes(junit(conclusion))
    (directory / "report.html").write_text(html(conclusion), encoding="utf-8")
    for violation in conclusion.violations:
        for example in violation.examples:
            if example.exchange is not None and needs_file(example.exchange.body):
                target = directory / body_file(example.exchange)
                target.parent.mkdir(exist_ok=True)
                target.write_bytes(example.exchange.body)
