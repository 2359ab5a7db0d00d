"""The HTML report: one self-contained page a person reads, rendered from the JSON record.

`render` takes the record `report.record` builds (the one written as report.json) and gives one
file that needs nothing else: inline CSS, inline SVG, a few lines of inline script for the copy
buttons, and a Content-Security-Policy that lets the page load nothing at all (no font, no image,
no request), so whatever a server put in a body it cannot reach out. Every value is escaped by
Jinja2's autoescape; the template (`report.html.jinja`, beside this module) only lays out what
the functions here prepared, and big runs stay small: two examples per violation, coverage as
cells, the timeline drawn per pixel column rather than per exchange.

The record is read defensively (`.get`): a record of an older version, or of a run that could not
test, lacks parts, and `timeline` is optional.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import jinja2

from conformance.suite.report import MAX_FIX_FIRST, RESULT_LINE

TEMPLATE = "report.html.jinja"
MAX_VIOLATIONS_OPEN = 8  # violation cards shown open; the rest start folded
MAX_VIOLATIONS = 100  # cards written at all; report.json has every one
MAX_PAGE_BODY = 2_000  # characters of a request or response body shown (report.json and the HAR hold more)
MAX_LISTED = 50  # rental ids, held numbers, not-checked lines shown before "more"
MAX_SCATTER = 2_000  # exchanges drawn one dot each; more are drawn as a band per pixel column
CHART_WIDTH = 1000  # SVG user units; the charts scale to the page's width
PLOT_LEFT, PLOT_RIGHT = 84, 990
HISTOGRAM_BUCKETS = 100
OUTCOMES = ("ok", "refused", "limited", "failed")  # how an exchange ended, the colours of the timeline
OUTCOME_TEXT = {
    "ok": "2xx",
    "refused": "refused (4xx)",
    "limited": "429 to the last attempt",
    "failed": "server failure (5xx, no answer)",
}
TONE = {"conformant": "pass", "not conformant": "fail", "short of coverage": "warn", "cannot test": "cannot"}
STATUS_ORDER = {"failed": 0, "known": 1, "warned": 1, "passed": 2, "not exercised": 3}


# -- the verdict and the violations ------------------------------------------------------------


def _first_line(text: str, limit: int = 160) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _pretty(body: str) -> str:
    """A JSON body indented for reading (anything else, or a cut body, as it is), cut to MAX_PAGE_BODY."""
    try:
        parsed = json.loads(body)
    except ValueError:
        shown = body
    else:
        shown = json.dumps(parsed, indent=2, ensure_ascii=False) if isinstance(parsed, dict | list) else body
    if len(shown) <= MAX_PAGE_BODY:
        return shown
    cut = shown.rfind("\n", 0, MAX_PAGE_BODY)
    cut = cut if cut > MAX_PAGE_BODY // 2 else MAX_PAGE_BODY
    return f"{shown[:cut]}\n… ({len(shown) - cut:,} more characters in report.json and exchanges.har)"


def _headers(pairs: list[list[str]]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in pairs)


def _example(example: dict[str, Any]) -> dict[str, Any]:
    request, response = example.get("request", {}), example.get("response", {})
    return {
        "exchange": example.get("exchange"),
        "probe": example.get("probe"),
        "method": request.get("method", ""),
        "url": request.get("url", ""),
        "request_headers": _headers(request.get("headers", [])),
        "request_body": _pretty(request.get("body", "")),
        "status": response.get("status"),
        "error": response.get("error"),
        "response_headers": _headers(response.get("headers", [])),
        "response_body": _pretty(response.get("body", "")),
        "curl": example.get("curl", ""),
    }


def _choice(basis: dict[str, Any], contract_file: str) -> dict[str, Any] | None:
    """What the contract chose where Close is silent, the other readings, and what to do about it."""
    if basis.get("kind") != "chosen":
        return None
    readings: dict[str, str] = basis.get("readings") or {}
    chosen = basis.get("contract_reading") or next(iter(readings), None)
    return {
        "id": basis.get("ref", ""),
        "summary": basis.get("text", ""),
        "reason": basis.get("reason"),
        "readings": [{"name": name, "text": text, "chosen": name == chosen} for name, text in readings.items()],
        "file": contract_file,
    }


def _violations(record: dict[str, Any]) -> list[dict[str, Any]]:
    keys = {v.get("key"): number for number, v in enumerate(record.get("violations", []), 1)}
    contract_file = record.get("contract", {}).get("file", "the contract")
    found = []
    for number, violation in enumerate(record.get("violations", []), 1):
        basis = violation.get("basis", {})
        explained_by = violation.get("explained_by")
        found.append(
            {
                "number": number,
                "key": violation.get("key", ""),
                "message": violation.get("message", ""),
                "headline": _first_line(violation.get("message", "")),
                "cases": violation.get("cases", 0),
                "fails": violation.get("fails", True),
                "baseline": violation.get("baseline"),
                "explained_by": explained_by,
                "explained_by_number": keys.get(explained_by),
                "probes": violation.get("probes", []),
                "basis": basis.get("label") or basis.get("kind", ""),
                "basis_text": basis.get("text", ""),
                "chosen": basis.get("kind") == "chosen",
                "choice": _choice(basis, contract_file),
                "examples": [_example(example) for example in violation.get("examples", [])],
                "open": number <= MAX_VIOLATIONS_OPEN,
            }
        )
    return found


def _verdict(record: dict[str, Any], violations: list[dict[str, Any]]) -> dict[str, Any]:
    result = record.get("result", "cannot test")
    failing = [v for v in violations if v["fails"]]
    roots = [v for v in failing if not v["explained_by"]]
    chosen = sum(v["chosen"] for v in failing)
    return {
        "result": result,
        "line": RESULT_LINE.get(result, str(result).upper()),
        "tone": TONE.get(result, "cannot"),
        "exit_code": record.get("exit_code"),
        "reason": record.get("reason"),
        "failing": len(failing),
        "parts": [
            text
            for count, text in (
                (len(failing) - chosen, f"{len(failing) - chosen} of what Close documents"),
                (chosen, f"{chosen} of the contract's own choices"),
            )
            if count
        ],
        "documented": len(failing) - chosen,
        "chosen": chosen,
        "known": sum(v["baseline"] == "known" for v in violations),
        "warned": sum(not v["fails"] and v["baseline"] != "known" for v in violations),
        "passed": sum(check.get("status") == "passed" for check in (record.get("checks") or {}).values()),
        "not_exercised": sorted(
            name for name, check in (record.get("checks") or {}).items() if check.get("status") == "not exercised"
        ),
        "fix_first": roots[:MAX_FIX_FIRST],
        "more_roots": max(len(roots) - MAX_FIX_FIRST, 0),
    }


# -- coverage and checks -----------------------------------------------------------------------


def _coverage(record: dict[str, Any]) -> dict[str, Any]:
    coverage = record.get("coverage") or {}
    groups = []
    for name, group in (coverage.get("groups") or {}).items():
        items = [
            {
                "id": item_id,
                "label": item_id.split(":", 1)[1] if ":" in item_id else item_id,
                "count": item.get("count", 0),
                "detail": item.get("detail", ""),
                "exercised": item.get("count", 0) > 0,
            }
            for item_id, item in (group.get("items") or {}).items()
        ]
        exercised = sum(item["exercised"] for item in items)
        groups.append(
            {
                "name": name,
                "title": group.get("title", name),
                "exercised": exercised,
                "total": len(items),
                "share": 100 * exercised / len(items) if items else 100.0,
                "cells": items,
            }
        )
    total = coverage.get("items", 0)
    return {
        "exercised": coverage.get("exercised", 0),
        "total": total,
        "percent": round(100 * coverage.get("fraction", 0)),
        "share": 100 * coverage.get("fraction", 0),
        "groups": groups,
        "gaps": record.get("coverage_gaps") or [],
    }


def _checks(record: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [
        {"name": name, **result, "tone": result.get("status", "").replace(" ", "-")}
        for name, result in (record.get("checks") or {}).items()
    ]
    return sorted(rows, key=lambda row: (STATUS_ORDER.get(row.get("status", ""), 9), row["name"]))


# -- the timeline --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One exchange on the timeline (a row of `record["timeline"]`)."""

    start: float | None  # seconds after the run started (None: the recording has no time)
    elapsed_ms: float
    status: int | None
    operation: str
    rate_limited: int = 0  # 429 answers waited out before the last attempt
    waited_ms: float = 0.0
    failure: str | None = None

    @property
    def outcome(self) -> str:
        """ok, refused, limited or failed: the colour it is drawn in."""
        if self.failure or self.status is None or self.status >= 500:
            return "failed"
        if self.status == 429:
            return "limited"
        return "ok" if self.status < 400 else "refused"


def _number(value: Any, default: float = 0.0) -> float:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else default


def points(rows: Any) -> list[Point]:
    """The timeline's rows as points; rows of another shape are skipped, never fatal.

    A row is `[start_s, elapsed_ms, status, operation, rate_limited, waited_ms, failure]`; the
    last three may be missing.
    """
    found = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, list | tuple) or len(row) < 4:
            continue
        start = row[0] if isinstance(row[0], int | float) and math.isfinite(row[0]) else None
        status = row[2] if isinstance(row[2], int) else None
        extra = [*row[4:7], None, None, None]
        found.append(
            Point(
                start,
                max(_number(row[1]), 0.0),
                status,
                str(row[3]),
                int(_number(extra[0])),
                max(_number(extra[1]), 0.0),
                str(extra[2]) if extra[2] else None,
            )
        )
    return found


def _nice_step(span: float, ticks: int = 8) -> float:
    raw = span / ticks if span > 0 else 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    return next(float(step * power) for step in (1, 2, 5, 10) if step * power >= raw)


def _label(seconds: float) -> str:
    return f"{seconds:g} s" if seconds < 120 else f"{seconds / 60:g} min"


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


HIST_TOP, HIST_BOTTOM = 26, 116  # requests over time
LAT_TOP, LAT_BOTTOM = 156, 300  # latency (log scale)
LANE_WAITS, LANE_FAILURES = 324, 348  # 429 waits, server failures
CHART_HEIGHT = 376


@dataclass
class Chart:
    """The timeline's geometry in SVG user units: everything the template draws, already placed."""

    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = PLOT_LEFT
    right: int = PLOT_RIGHT
    hist_top: int = HIST_TOP
    hist_bottom: int = HIST_BOTTOM
    lat_top: int = LAT_TOP
    lat_bottom: int = LAT_BOTTOM
    lane_waits: int = LANE_WAITS
    lane_failures: int = LANE_FAILURES
    span: float = 0.0  # seconds (or exchanges, when the recording has no times)
    by_order: bool = False  # x is the exchange's order, not its time
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    bars: list[tuple[float, float, float, str]] = field(default_factory=list)  # x, y, height, outcome
    bar_width: float = 0.0
    count_ticks: list[tuple[float, str]] = field(default_factory=list)
    dots: list[tuple[float, float, str]] = field(default_factory=list)  # x, y, outcome
    bands: list[tuple[float, float, float, float]] = field(default_factory=list)  # x, y top, y bottom, y p50
    latency_ticks: list[tuple[float, str]] = field(default_factory=list)
    waits: list[tuple[float, float]] = field(default_factory=list)  # x, width
    failures: list[float] = field(default_factory=list)  # x
    banded: bool = False


def _x(value: float, span: float) -> float:
    return round(PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * (value / span if span else 0.0), 1)


def _latency_scale(highest: float) -> tuple[float, float]:
    low = 0.1
    high = 10 ** math.ceil(math.log10(max(highest, 1.0) * 1.05))
    return low, high


def _y_latency(ms: float, low: float, high: float) -> float:
    share = (math.log10(max(ms, low)) - math.log10(low)) / (math.log10(high) - math.log10(low))
    return round(LAT_BOTTOM - (LAT_BOTTOM - LAT_TOP) * share, 1)


def _histogram(chart: Chart, placed: list[tuple[float, Point]]) -> None:
    buckets = [Counter[str]() for _ in range(HISTOGRAM_BUCKETS)]
    for at, point in placed:
        index = min(int(at / chart.span * HISTOGRAM_BUCKETS) if chart.span else 0, HISTOGRAM_BUCKETS - 1)
        buckets[index][point.outcome] += 1
    tallest = max((sum(bucket.values()) for bucket in buckets), default=0) or 1
    step = _nice_step(tallest, 3)
    chart.count_ticks = [
        (round(HIST_BOTTOM - (HIST_BOTTOM - HIST_TOP) * value / tallest, 1), f"{value:g}")
        for value in [step * n for n in range(1, 4)]
        if value <= tallest
    ]
    chart.bar_width = round((PLOT_RIGHT - PLOT_LEFT) / HISTOGRAM_BUCKETS - 1, 2)
    for index, bucket in enumerate(buckets):
        x = round(PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * index / HISTOGRAM_BUCKETS + 0.5, 1)
        bottom = float(HIST_BOTTOM)
        for outcome in OUTCOMES:
            if bucket[outcome]:
                height = (HIST_BOTTOM - HIST_TOP) * bucket[outcome] / tallest
                bottom -= height
                chart.bars.append((x, round(bottom, 2), round(height, 2), outcome))


def _latency(chart: Chart, placed: list[tuple[float, Point]]) -> None:
    low, high = _latency_scale(max((point.elapsed_ms for _, point in placed), default=1.0))
    exponent = math.log10(low)
    while 10**exponent <= high * 1.0001:
        value = 10**exponent
        text = f"{value:g} ms" if value < 1000 else f"{value / 1000:g} s"
        chart.latency_ticks.append((_y_latency(value, low, high), text))
        exponent += 1
    if len(placed) <= MAX_SCATTER:
        # Failures and 429s drawn last, over the 2xx and refusals around them.
        ordered = sorted(placed, key=lambda pair: OUTCOMES.index(pair[1].outcome))
        chart.dots = [(_x(at, chart.span), _y_latency(p.elapsed_ms, low, high), p.outcome) for at, p in ordered]
        return
    chart.banded = True
    columns: dict[int, list[float]] = {}
    for at, point in placed:
        columns.setdefault(int(_x(at, chart.span) // 2), []).append(point.elapsed_ms)
    for column, values in sorted(columns.items()):
        values.sort()
        chart.bands.append(
            (
                column * 2 + 1.0,
                _y_latency(values[-1], low, high),
                _y_latency(values[0], low, high),
                _y_latency(_percentile(values, 0.5), low, high),
            )
        )


def _lanes(chart: Chart, placed: list[tuple[float, Point]]) -> None:
    """429 waits as segments and server failures as marks, merged per pixel so a big run stays small."""
    pixel = chart.span / (PLOT_RIGHT - PLOT_LEFT) if chart.span else 1.0
    spans = sorted(
        (at, at + point.waited_ms / 1000) for at, point in placed if point.waited_ms > 0 or point.rate_limited
    )
    merged: list[list[float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1] + pixel:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    chart.waits = [(_x(start, chart.span), max(round(_x(end, chart.span) - _x(start, chart.span), 1), 2.0))
                   for start, end in merged]  # fmt: skip
    chart.failures = sorted({_x(at, chart.span) for at, point in placed if point.outcome == "failed"})


def _timeline(record: dict[str, Any]) -> dict[str, Any] | None:
    """The run over time: requests per interval, latency, 429 waits, server failures (None: no timeline)."""
    found = points(record.get("timeline"))
    if not found:
        return None
    timed = [point for point in found if point.start is not None]
    chart = Chart(by_order=not timed)
    if timed:
        placed = [(max(point.start or 0.0, 0.0), point) for point in timed]
        chart.span = max(*(at + p.elapsed_ms / 1000 for at, p in placed), 0.001)
    else:
        placed = [(float(index), point) for index, point in enumerate(found)]
        chart.span = float(max(len(found) - 1, 1))
    step = _nice_step(chart.span)
    chart.x_ticks = [
        (_x(step * n, chart.span), f"{step * n:g}" if chart.by_order else _label(round(step * n, 6)))
        for n in range(int(chart.span / step) + 1)
    ]
    _histogram(chart, placed)
    _latency(chart, placed)
    _lanes(chart, placed)
    latencies = sorted(point.elapsed_ms for point in found)
    outcomes = Counter(point.outcome for point in found)
    return {
        "chart": chart,
        "exchanges": len(found),
        "untimed": len(found) - len(timed) if timed else 0,
        "p50": _percentile(latencies, 0.5),
        "p95": _percentile(latencies, 0.95),
        "slowest": latencies[-1],
        "rate_limited": sum(point.rate_limited for point in found) + outcomes["limited"],
        "waits": sum(point.rate_limited for point in found),
        "waited_s": sum(point.waited_ms for point in found) / 1000,
        "origin": "the first recorded exchange" if record.get("kind") == "replay" else "the start of the run",
        "failed": outcomes["failed"],
        "outcomes": [(outcome, OUTCOME_TEXT[outcome], outcomes[outcome]) for outcome in OUTCOMES],
        "operations": Counter(point.operation for point in found).most_common(),
    }


# -- rentals, baseline, notes, facts -------------------------------------------------------------


def _rentals(record: dict[str, Any]) -> dict[str, Any]:
    rented: list[str] = record.get("rentals") or []
    lifecycle: dict[str, Any] = record.get("lifecycle") or {}
    held: list[str] = list(lifecycle.get("held") or [])
    unique = list(dict.fromkeys(rented))
    repeats = Counter(rented)
    return {
        "rented": len(rented),
        "unique": len(unique),
        "read_back": lifecycle.get("read_back"),
        "released": lifecycle.get("released"),
        "held": held[:MAX_LISTED],
        "held_count": len(held),
        "listed": [(rental_id, repeats[rental_id], rental_id in held) for rental_id in unique[:MAX_LISTED]],
        "ledger": lifecycle.get("ledger"),
        "release_command": lifecycle.get("release_command"),
        "has_lifecycle": bool(lifecycle),
        "active": "read_back" in lifecycle,
        "accounting": record.get("accounting"),
    }


def _baseline(record: dict[str, Any], violations: list[dict[str, Any]]) -> dict[str, Any] | None:
    baseline = record.get("baseline")
    if not baseline:
        return None
    return {
        "path": baseline.get("path", ""),
        "new": [v for v in violations if v["baseline"] == "new"],
        "known": [v for v in violations if v["baseline"] == "known"],
        "fixed": baseline.get("fixed") or [],
        "not_judged": baseline.get("not_judged") or [],
    }


def _notes(record: dict[str, Any]) -> dict[str, Any]:
    not_sent = record.get("not_sent") or []
    reasons = Counter(item.get("reason", "") for item in not_sent)
    drift = (record.get("drift") or {}).get("unknown_statuses") or {}
    return {
        "warnings": record.get("warnings") or [],
        "not_checked": record.get("not_checked") or [],
        "not_sent": reasons.most_common(),
        "not_sent_count": len(not_sent),
        "drift": sorted(drift.items()),
        "stopped": record.get("stopped"),
    }


def _facts(record: dict[str, Any]) -> list[tuple[str, str]]:
    tool = record.get("tool") or {}
    contract = record.get("contract") or {}
    requests = record.get("requests") or {}
    kind = {"run": "active run", "replay": "replay of recorded traffic", "proxy": "traffic through the proxy"}
    phases = ", ".join(f"{name} {count}" for name, count in (record.get("phases") or {}).items())
    facts = [
        ("tool", f"{tool.get('name', 'close-conformance')} {tool.get('version', '')}".strip()),
        ("contract", f"{contract.get('version', '?')} ({contract.get('file', '?')})"),
        ("target", str(record.get("target", ""))),
        ("front-end", kind.get(record.get("kind", ""), str(record.get("kind", "")))),
        ("mode", str(record.get("mode", ""))),
        ("started", str(record.get("started", ""))),
        ("duration", f"{_number(record.get('duration')):.1f} s"),
        ("assumptions", str(record.get("assumptions", "fail"))),
        ("exit code", str(record.get("exit_code", ""))),
    ]
    facts += [(name, str(record[name])) for name in ("seed", "auth") if record.get(name) is not None]
    if requests:
        facts.append(
            (
                "requests",
                (
                    f"{requests.get('exchanges', 0)} exchanges, {requests.get('answered', 0)} answered, "
                    f"{requests.get('without_answer', 0)} without an answer, {requests.get('held_back', 0)} held "
                    f"back, {requests.get('business_reached', 0)} answered by the business rules"
                ),
            )
        )
    if phases:
        facts.append(("generated", phases))
    return facts


def _summary(record: dict[str, Any]) -> str:
    """The run in one line, under the target: contract, what was judged, when, how long, by which version."""
    what = {"run": f"{record.get('mode', '')} mode", "replay": "recorded traffic", "proxy": "traffic through the proxy"}
    started = str(record.get("started", "")).replace("T", " ").split(".")[0]
    parts = [
        f"contract {(record.get('contract') or {}).get('version', '?')}",
        what.get(record.get("kind", ""), str(record.get("kind", ""))),
        f"{started} UTC" if started else "",
        f"{_number(record.get('duration')):.1f} s",
        f"close-conformance {(record.get('tool') or {}).get('version', '')}".strip(),
    ]
    return " · ".join(part for part in parts if part)


def _tile(value: str, label: str, tone: str = "") -> dict[str, str]:
    return {"value": value, "label": label, "tone": tone}


def _tiles(record: dict[str, Any], verdict: dict[str, Any], coverage: dict[str, Any]) -> list[dict[str, str]]:
    """The figures under the verdict: violations, coverage, exchanges, rentals, what is still held, duration."""
    requests = record.get("requests") or {}
    rentals = _rentals(record)
    held = rentals["held_count"]
    failing = verdict["failing"]
    judged = verdict["result"] != "cannot test"
    tiles = [
        _tile(str(failing), "violations failing the run", "fail" if failing else "pass")
        if judged
        else _tile("none", "violations: nothing was judged"),
        _tile(f"{coverage['percent']}%", f"coverage ({coverage['exercised']} of {coverage['total']} items)"),
        _tile(f"{requests.get('exchanges', 0):,}", "exchanges judged"),
        _tile(f"{rentals['unique']:,}", "numbers rented"),
        _tile(f"{held:,}", "still held (billed)", "fail" if held else ""),
        _tile(f"{_number(record.get('duration')):.1f} s", "duration"),
    ]
    if verdict["known"] or verdict["warned"]:
        tiles.insert(1, _tile(str(verdict["known"] + verdict["warned"]), "known or warned", "warn"))
    return tiles


def page(record: dict[str, Any]) -> dict[str, Any]:
    """Everything the template lays out, prepared from the record."""
    violations = _violations(record)
    verdict = _verdict(record, violations)
    coverage = _coverage(record)
    shown = violations[:MAX_VIOLATIONS]
    return {
        "verdict": verdict,
        "tiles": _tiles(record, verdict, coverage),
        "documented": [v for v in shown if not v["chosen"]],
        "chosen": [v for v in shown if v["chosen"]],
        "violations_cut": len(violations) - len(shown),
        "coverage": coverage,
        "checks": _checks(record),
        "timeline": _timeline(record),
        "rentals": _rentals(record),
        "baseline": _baseline(record, violations),
        "notes": _notes(record),
        "facts": _facts(record),
        "target": record.get("target", ""),
        "summary": _summary(record),
        "outcomes": OUTCOME_TEXT,
    }


# -- rendering -----------------------------------------------------------------------------------


def csp_hash(text: str) -> str:
    """The CSP source of an inline block: its sha256, base64."""
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


@functools.cache
def _template() -> jinja2.Template:
    source = resources.files("conformance.suite").joinpath(TEMPLATE).read_text(encoding="utf-8")
    environment = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["csp_hash"] = lambda block: csp_hash(str(block))
    environment.filters["plural"] = lambda count, word: f"{count:,} {word}{'' if count == 1 else 's'}"
    return environment.from_string(source)


def render(record: dict[str, Any]) -> str:
    """The page for one report record (see `report.record`)."""
    return _template().render(page=page(record))
