"""GitHub Actions output: annotations on the log and a Markdown job summary.

With `--format github` (or in the reusable action) every violation that fails the run becomes
an `::error` annotation, every other finding and every warning a `::warning`, in the
workflow-command syntax the runner documents (data escaped: `%`, CR and LF), and a Markdown
summary is appended to the file `$GITHUB_STEP_SUMMARY` names.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from conformance.suite.conclusion import CANNOT_TEST
from conformance.suite.report import coverage_lines, drift, headline

if TYPE_CHECKING:
    from conformance.suite.conclusion import Conclusion

MAX_ANNOTATIONS = 50


def escape(text: str) -> str:
    """Workflow-command data: `%`, CR and LF escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return escape(text).replace(":", "%3A").replace(",", "%2C")


def workflow_commands(conclusion: Conclusion) -> list[str]:
    """Workflow commands: an error per failing violation, a warning per other finding and warning."""
    if conclusion.verdict == CANNOT_TEST:
        return [f"::error title=close-conformance::{escape('Could not test: ' + (conclusion.reason or ''))}"]
    lines = []
    for number, violation in enumerate(conclusion.violations[:MAX_ANNOTATIONS], 1):
        level = "error" if conclusion.fails(violation) else "warning"
        title = _property(f"close-conformance: {violation.key} [{violation.basis.label()}]")
        cause = f" (likely caused by {violation.explained_by})" if violation.explained_by else ""
        lines.append(f"::{level} title={title}::{escape(f'Violation {number}{cause}: ' + violation.message.strip())}")
    notes = [*conclusion.evidence.warnings, *(f"drift: status {s!r} is not in the contract" for s in drift(conclusion))]
    lines += [f"::warning title=close-conformance::{escape(note)}" for note in notes]
    return lines


def summary_markdown(conclusion: Conclusion) -> str:
    """The job summary: the verdict, what to fix first, what changed since the baseline, the checks, coverage."""
    source = conclusion.source
    icon = {"conformant": "✅", "not conformant": "❌", "short of coverage": "⚠️", CANNOT_TEST: "⚠️"}[conclusion.verdict]
    lines = [
        f"## close-conformance: {icon} {headline(conclusion).removeprefix('Result: ')}",
        "",
        f"Target `{source.target}`, contract {source.contract.version}, {source.kind} ({source.mode}).",
        "",
    ]
    if conclusion.verdict == CANNOT_TEST:
        return "\n".join(lines) + "\n"
    failing = [v for v in conclusion.violations if conclusion.fails(v) and not v.explained_by]
    if failing:
        lines += ["### Fix first", ""]
        lines += [f"{n}. **{v.key}** [{v.basis.label()}]: {v.message.strip().splitlines()[0][:200]}"
                  for n, v in enumerate(failing[:5], 1)]  # fmt: skip
        lines.append("")
    if conclusion.settings.baseline is not None:
        new = [v.key for v in conclusion.violations if v.baseline == "new"]
        lines += ["### Since the baseline", ""]
        unjudged = [item.key for item in conclusion.unjudged_baseline]
        lines += [f"- new: `{key}`" for key in new] + [f"- fixed: `{item.key}`" for item in conclusion.fixed]
        lines += [f"- not judged this run (not known to be fixed): `{key}`" for key in unjudged]
        lines += ["- nothing changed"] if not new and not conclusion.fixed and not unjudged else []
        lines.append("")
    chosen = conclusion.chosen
    if chosen:
        lines += ["### Against the contract's own choices (Close is silent)", ""]
        lines += [f"- `{v.key}` (choice `{v.basis.ref}`)" for v in chosen]
        lines.append("")
    lines += ["| check | judged | failed | status |", "|---|---:|---:|---|"]
    lines += [f"| {r.name} | {r.judged} | {r.failed} | {r.status} |" for r in conclusion.checks.values()]
    lines += ["", "```", *coverage_lines(conclusion), "```", "", f"Rentals: {len(conclusion.rentals)}"]
    lines += [f"> ⚠️ {warning}" for warning in conclusion.evidence.warnings]
    return "\n".join(lines) + "\n"


def write_summary(markdown: str) -> None:
    """Append to `$GITHUB_STEP_SUMMARY` when the runner set it."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(markdown + "\n")
