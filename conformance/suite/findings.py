"""Findings and violations: what a check found, and one violation per cause.

A check reports a `Problem` (what it is about, a sentence, the rule's basis); the judge turns
it into a `Finding` on the exchange that showed it. The conclusion groups findings by their
cause, the check and its subject (`Finding.key`), never by message text (which carries the
value at fault): one `Violation` per cause, its cases counted, the smallest examples kept.
`root_causes` names one cause that explains many others (a static rental body).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.contract import Basis
    from conformance.suite.exchange import Exchange

MAX_EXAMPLES = 2


@dataclass(frozen=True)
class Problem:
    """What a check found wrong with one exchange: its subject (the rule, the field), why, on whose authority."""

    subject: str
    message: str
    basis: Basis


@dataclass(frozen=True)
class Finding:
    """A problem on the exchange that showed it."""

    check: str
    problem: Problem
    exchange: Exchange | None

    @property
    def key(self) -> str:
        """The cause: the check and what it is about. Stable from run to run (no values, ids or times)."""
        return f"{self.check}: {self.problem.subject}"


@dataclass
class Violation:
    """One cause: the findings of one check about one subject, with the smallest examples."""

    check: str
    subject: str
    basis: Basis
    examples: list[Finding] = field(default_factory=list)  # the smallest requests first, at most MAX_EXAMPLES
    cases: int = 0
    explained_by: str | None = None  # the key of the violation that likely causes this one
    baseline: str | None = None  # with --baseline: "new" or "known"
    probes: list[str] = field(default_factory=list)  # the fixed probes among its cases, by name

    @property
    def key(self) -> str:
        """See `Finding.key`."""
        return f"{self.check}: {self.subject}"

    @property
    def message(self) -> str:
        """What the first example says."""
        return self.examples[0].problem.message if self.examples else self.subject

    @property
    def exchange(self) -> Exchange | None:
        """The smallest request that shows it."""
        return self.examples[0].exchange if self.examples else None


def _size(finding: Finding) -> tuple[int, int]:
    exchange = finding.exchange
    return (len(exchange.body), exchange.number) if exchange is not None else (0, 0)


def group(findings: list[Finding]) -> list[Violation]:
    """One violation per cause, in the order causes were first seen; the smallest requests as examples."""
    by_key: dict[str, Violation] = {}
    for finding in findings:
        violation = by_key.get(finding.key)
        if violation is None:
            violation = by_key[finding.key] = Violation(finding.check, finding.problem.subject, finding.problem.basis)
        violation.cases += 1
        probe = finding.exchange.probe if finding.exchange is not None else None
        if probe and probe not in violation.probes:
            violation.probes.append(probe)
        examples = violation.examples
        if len(examples) < MAX_EXAMPLES or _size(finding) < _size(examples[-1]):
            examples.append(finding)
            examples.sort(key=_size)
            del examples[MAX_EXAMPLES:]
    return list(by_key.values())


# Checks of what a rental says: a server that answers every rental with one body fails them all.
RENTAL_CHECK_PREFIXES = ("rented_number_", "rentals_are_", "read_back_")


def static_rental_body(rentals: list[Exchange]) -> Exchange | None:
    """The first of at least three rentals that were all answered with the very same body, else None."""
    answered = [exchange for exchange in rentals if not exchange.body_missing]
    if len(answered) < 3 or len({exchange.response_body for exchange in answered}) != 1:
        return None
    return answered[0]


def explain(violations: list[Violation], root: Violation) -> None:
    """Mark the violations the root cause likely explains (the checks of what a rental says)."""
    for violation in violations:
        if violation is not root and violation.check.startswith(RENTAL_CHECK_PREFIXES):
            violation.explained_by = root.key
