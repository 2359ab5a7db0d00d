"""Accepted findings: a baseline a run is compared with, and the difference between two reports.

A team accepts today's state once (`--write-baseline PATH`, or any earlier `report.json`);
later runs with `--baseline PATH` fail only on findings that are new, and list the ones that
have gone as fixed. Findings match on their key (the check and what it is about: a field, a
rule, a status), never on message text, ids or timings, so the same server judged twice
matches itself exactly. `close-conformance diff OLD NEW` compares two reports the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance.errors import BaselineError

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "close-conformance baseline 1"


@dataclass(frozen=True)
class Accepted:
    """One accepted finding."""

    key: str
    check: str
    basis: str = ""
    message: str = ""


@dataclass
class Baseline:
    """The accepted findings (by key) and what the accepted run exercised."""

    source: str
    accepted: dict[str, Accepted] = field(default_factory=dict)
    judged: dict[str, int] = field(default_factory=dict)  # check -> exchanges judged in the accepted run
    coverage: dict[str, Any] | None = None


def _findings(record: dict[str, Any], source: str) -> list[dict[str, Any]]:
    if record.get("format") == FORMAT:
        found = record.get("accepted")
    elif isinstance(record.get("violations"), list):
        found = record["violations"]
    else:
        raise BaselineError(
            f"{source}: neither a baseline (--write-baseline) nor a close-conformance report.json with violations"
        )
    if not isinstance(found, list) or not all(isinstance(item, dict) and "key" in item for item in found):
        raise BaselineError(f"{source}: its findings have no `key` (a report of an older close-conformance?)")
    return found


def load(path: Path) -> Baseline:
    """Read a baseline file or an earlier run's report.json (BaselineError when it is neither)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BaselineError(f"cannot read {path}: {error.strerror}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise BaselineError(f"{path} is not JSON ({error})") from None
    if not isinstance(record, dict):
        raise BaselineError(f"{path}: not a baseline or report")
    if record.get("result") == "cannot test":
        raise BaselineError(f"{path} is the report of a run that could not test: it accepts nothing")
    accepted = {
        str(item["key"]): Accepted(
            str(item["key"]), str(item.get("check", "")), _basis(item), str(item.get("message", ""))
        )
        for item in _findings(record, str(path))
    }
    judged = {name: int(check.get("judged", 0)) for name, check in (record.get("checks") or {}).items()}
    return Baseline(str(path), accepted, judged, record.get("coverage"))


def _basis(item: dict[str, Any]) -> str:
    basis = item.get("basis")
    return str(basis.get("label", "")) if isinstance(basis, dict) else str(basis or "")


def record(
    violations: list[dict[str, Any]], judged: dict[str, int], coverage: dict[str, Any], contract: str
) -> dict[str, Any]:
    """A baseline file: the findings accepted from a report record, and what that run exercised."""
    return {
        "format": FORMAT,
        "contract": contract,
        "accepted": [
            {"key": item["key"], "check": item["check"], "basis": item.get("basis"), "message": item.get("message", "")}
            for item in violations
        ],
        "checks": {name: {"judged": count} for name, count in judged.items()},
        "coverage": coverage,
    }


@dataclass
class Difference:
    """What changed between two reports (or a report and a baseline)."""

    new: list[str]
    gone: list[str]
    unchanged: list[str]
    coverage: list[str]  # coverage items exercised in one and not the other, as "+item" / "-item"
    exercised: tuple[int, int] | None = None  # (before, after)


def _exercised_items(coverage: dict[str, Any] | None) -> dict[str, bool]:
    found: dict[str, bool] = {}
    for group in ((coverage or {}).get("groups") or {}).values():
        for item, data in (group.get("items") or {}).items():
            found[str(item)] = int(data.get("count", 0)) > 0
    return found


def diff(old: Baseline, new: Baseline) -> Difference:
    """Findings new, gone and unchanged (by key), and the coverage items gained or lost."""
    before, after = set(old.accepted), set(new.accepted)
    old_items, new_items = _exercised_items(old.coverage), _exercised_items(new.coverage)
    gained = [f"+{item}" for item, yes in sorted(new_items.items()) if yes and not old_items.get(item, False)]
    lost = [f"-{item}" for item, yes in sorted(old_items.items()) if yes and not new_items.get(item, False)]
    totals = None
    if old.coverage and new.coverage:
        totals = (int(old.coverage.get("exercised", 0)), int(new.coverage.get("exercised", 0)))
    return Difference(sorted(after - before), sorted(before - after), sorted(before & after), gained + lost, totals)


def diff_text(difference: Difference, old: Baseline, new: Baseline) -> str:
    """The difference for people (and a CI job summary)."""
    lines = [f"Old: {old.source}", f"New: {new.source}"]
    for title, keys, source in (("New findings", difference.new, new), ("Gone (fixed)", difference.gone, old)):
        lines.append(f"{title}: {len(keys)}")
        for key in keys:
            item = source.accepted[key]
            label = f" [{item.basis}]" if item.basis else ""
            lines.append(f"  - {key}{label}: {item.message.splitlines()[0][:140] if item.message else ''}".rstrip(": "))
    lines.append(f"Unchanged: {len(difference.unchanged)}")
    if difference.exercised is not None:
        before, after = difference.exercised
        lines.append(f"Coverage: {before} -> {after} items exercised")
    if difference.coverage:
        lines.append(
            "Coverage changes: "
            + ", ".join(difference.coverage[:40])
            + (" ..." if len(difference.coverage) > 40 else "")
        )
    return "\n".join(lines)
