"""GitHub Actions output: annotations on the log and a Markdown job summary.

With `--format github` (or in the reusable action) every violation becomes an `::error`
annotation and every warning a `::warning` one, in the workflow-command syntax the runner
documents (data escaped: `%`, CR and LF), and a Markdown summary is appended to the file
`$GITHUB_STEP_SUMMARY` names.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.suite.findings import Report

MAX_ANNOTATIONS = 50


def escape(text: str) -> str:
    """Workflow-command data: `%`, CR and LF escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return escape(text).replace(":", "%3A").replace(",", "%2C")


def workflow_commands(report: Report) -> list[str]:
    """Workflow commands: an error per violation, a warning per warning (at most MAX_ANNOTATIONS)."""
    lines = []
    for number, violation in enumerate(report.violations[:MAX_ANNOTATIONS], 1):
        title = _property(f"close-conformance: {violation.check}")
        cause = f" (likely caused by violation {violation.explained_by})" if violation.explained_by else ""
        lines.append(f"::error title={title}::{escape(f'Violation {number}{cause}: ' + violation.message.strip())}")
    drift = [f"drift: status {status!r} is not in the contract" for status in report.observations.unknown_statuses]
    lines += [f"::warning title=close-conformance::{escape(warning)}" for warning in [*report.warnings, *drift]]
    return lines


def summary_markdown(report: Report) -> str:
    """The job summary: the verdict, what to fix first, the checks table."""
    verdict = "✅ conformant" if not report.violations else f"❌ not conformant: {len(report.violations)} violation(s)"
    lines = [
        f"## close-conformance: {verdict}",
        "",
        f"Target `{report.target}`, contract {report.options.contract.version}, mode {report.options.mode}.",
        "",
    ]
    if report.violations:
        lines += ["### Fix first", ""]
        lines += [
            f"{n}. **{v.check}**: {v.message.strip().splitlines()[0][:200]}"
            for n, v in enumerate(report.violations, 1)
            if v.explained_by is None
        ][:5]
        lines.append("")
    lines += ["| check | cases | failures |", "|---|---:|---:|"]
    lines += [f"| {name} | {cases} | {failed} |" for name, (cases, failed) in report.tallies.items()]
    lines += ["", f"Rentals: {len(report.rentals)}"]
    lines += [f"> ⚠️ {warning}" for warning in report.warnings]
    return "\n".join(lines) + "\n"


def cannot_test_markdown(reason: str) -> str:
    """The job summary of a run that could not test."""
    return f"## close-conformance: ⚠️ could not test\n\n{reason}\n"


def write_summary(markdown: str) -> None:
    """Append to `$GITHUB_STEP_SUMMARY` when the runner set it."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(markdown + "\n")
