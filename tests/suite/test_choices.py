"""The suite on servers that differ from the contract only in its choices, or in what Close changes in place.

Where Close is silent the contract chooses (`x-choices`), and a server that reads Close
otherwise is not wrong about Close: every finding on such a server must be labelled as that
choice, fail the run by default and only warn with `--assumptions warn`. A server Close might
become without breaking a client (a new field, compression, another key order) must pass with
no finding at all. A baseline accepted from a run makes the same run pass, and a new fault fail
naming only itself.

Every non-contract reading of every choice is tested, read from the contract, so a choice the
contract gains is tested here without a line of this file changing; the mock serves each reading
(`build(choices=...)`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from conformance import contract
from conformance.mock import MockServer, build
from conformance.mock.script import odd_answer
from conformance.suite.cli import main
from tests.suite.changes import CHANGES, NEW_STATUS, Change, ChangedServer
from tests.suite.faulty import FAULTS, FaultyServer

if TYPE_CHECKING:
    from conformance.mock.app import MockApp

pytestmark = pytest.mark.usefixtures("credentials")  # the mock's published admin key and OAuth token

# Full mode against the mock as any server (a base URL), fast: few generated examples per phase.
ARGS = ["--mode", "full", "--max-rentals", "100000", "--quiet", "--examples", "20", "--assignee", "user_mockMember"]
CHOICES = contract.today().choices
READINGS = [(choice.id, reading) for choice in CHOICES.values() for reading in list(choice.readings)[1:]]


@dataclass(frozen=True)
class Unexercised:
    """Why a run with the mock's admin credentials cannot tell a reading from the contract's."""

    why: str
    item: str | None = None  # the coverage item that shows it: never exercised (None: no item does)


# A reading not listed here must be caught; one listed must not be (else it belongs elsewhere).
UNEXERCISED = {
    ("refusal-codes", "payment-required"): Unexercised(
        "the admin's organization never runs out of budget, so no billing-error is answered", "refusal:billing-error"
    ),
    ("permission-code", "bad-request"): Unexercised(
        "only a user without the permission is refused; the run rents as the admin", "status:rent:403"
    ),
    ("user-id-first-assignee", "requester"): Unexercised(
        "the run puts the requester first in every assign_to (so that it may release what it rents), where both "
        "readings name the requester"
    ),
    **{
        ("forbidden-delete-code", reading): Unexercised(
            "the run releases only numbers it rented itself, which it may release", "status:release:403"
        )
        for reading in list(CHOICES["forbidden-delete-code"].readings)[1:]
    },
}


def _rate_limit_the_first_request(app: MockApp) -> None:
    app.script.push(odd_answer("rate-limited", reset=0))  # waited out and sent again: the 429 is judged


# What makes the run meet a reading it would not meet by itself (the mock has no rate limit).
SETUP = {("retry-after", "absent"): _rate_limit_the_first_request}


@dataclass(frozen=True)
class Run:
    """What close-conformance said about one server."""

    code: int
    report: dict[str, Any]
    summary: str

    @property
    def violations(self) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", self.report["violations"])

    def coverage(self, item: str) -> int:
        for group in self.report["coverage"]["groups"].values():
            if item in group["items"]:
                return int(group["items"][item]["count"])
        raise KeyError(item)

    def shown(self) -> str:
        return f"exit {self.code}\n{self.summary}"


def run(app: Any, directory: Path, *options: str) -> Run:
    """close-conformance against `app` served on a free port, as against any server; its report read back."""
    with MockServer(app) as server:
        code = main(["--base-url", server.origin + "/api/v1", *ARGS, "--report-dir", str(directory), *options])
    report = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    return Run(code, report, (directory / "summary.txt").read_text(encoding="utf-8"))


def served(choices: dict[str, str]) -> MockApp:
    app = build(choices=choices)
    for key, setup in SETUP.items():
        if choices.get(key[0]) == key[1]:
            setup(app)
    return app


@pytest.mark.parametrize(("choice", "reading"), READINGS, ids=[f"{c}={r}" for c, r in READINGS])
def test_a_server_reading_a_choice_otherwise_is_found_against_that_choice_alone(
    choice: str, reading: str, tmp_path: Path
) -> None:
    failed = run(served({choice: reading}), tmp_path / "fail")
    unexercised = UNEXERCISED.get((choice, reading))
    if unexercised is not None:  # nothing found, so nothing to warn about either
        assert (failed.code, failed.violations) == (0, []), f"now caught: drop it from UNEXERCISED\n{failed.shown()}"
        if unexercised.item is not None:
            assert failed.coverage(unexercised.item) == 0, f"{unexercised.item} was exercised: {unexercised.why}"
        return
    assert failed.code == 1, f"{choice}={reading} was not caught\n{failed.shown()}"
    assert failed.violations
    for violation in failed.violations:
        assert (violation["basis"]["kind"], violation["basis"]["ref"]) == ("chosen", choice), (
            f"{violation['key']} is labelled {violation['basis']['label']}, not chosen ({choice})\n{failed.shown()}"
        )
        assert violation["fails"] is True
        assert violation["basis"]["readings"] == CHOICES[choice].readings
        assert f"{violation['key']}" in failed.summary
    assert "Violations of what Close documents:" not in failed.summary
    assert "Findings against the contract's own choices" in failed.summary
    labelled = [line for line in failed.summary.splitlines() if line.startswith("Violation ")]
    assert len(labelled) == len(failed.violations)
    assert all(f"[chosen ({choice})" in line for line in labelled), labelled
    assert f"x-choices.{choice}" in failed.summary  # where to change the contract if the server is right
    warned = run(served({choice: reading}), tmp_path / "warn", "--assumptions", "warn")
    assert warned.code == 0, warned.shown()
    assert warned.violations, f"found nothing the second time\n{warned.shown()}"
    for violation in warned.violations:  # generated requests may differ a little from run to run
        assert (violation["basis"]["ref"], violation["fails"]) == (choice, False), violation["key"]
    assert "warned (--assumptions warn)" in warned.summary


@pytest.mark.parametrize("change", CHANGES, ids=[change.name for change in CHANGES])
def test_a_change_close_makes_in_place_is_no_finding(change: Change, tmp_path: Path) -> None:
    server = ChangedServer(change)
    result = run(server, tmp_path)
    assert server.changed, f"no answer was changed by {change.name!r}: the test tests nothing"
    assert (result.code, result.violations) == (0, []), result.shown()
    assert "Result: CONFORMANT" in result.summary
    if change.rate_limited_first:
        assert result.report["requests"]["rate_limited"] >= 1, "the 429 was never met"
    if change.name == "a new refusal status":
        assert set(result.report["drift"]["unknown_statuses"]) == {NEW_STATUS}
        assert f"Drift warning: status {NEW_STATUS!r} is not in the contract yet" in result.summary


def _fault(name: str) -> Any:
    return next(fault for fault in FAULTS if fault.name == name)


def test_a_baseline_accepts_what_a_run_found_and_a_new_fault_fails_naming_only_itself(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    known, new = _fault("type is not internal"), _fault("number_formatted is another number")
    first = run(FaultyServer(known), tmp_path / "first", "--write-baseline", str(baseline))
    assert first.code == 1, first.shown()
    accepted = {v["key"] for v in first.violations}
    assert any(key.startswith(known.expect) for key in accepted), first.shown()

    again = run(FaultyServer(known), tmp_path / "again", "--baseline", str(baseline))
    assert again.code == 0, again.shown()
    assert {v["key"] for v in again.violations} == accepted
    assert all(v["baseline"] == "known" and not v["fails"] for v in again.violations)

    both = FaultyServer(new, mock=cast("MockApp", FaultyServer(known)))  # the known fault, and one more
    later = run(both, tmp_path / "later", "--baseline", str(baseline))
    assert later.code == 1, later.shown()
    fresh = [v for v in later.violations if v["baseline"] == "new"]
    assert [v["key"] for v in fresh] == [f"{new.expect}: number_formatted"], later.shown()
    assert [v["key"] for v in later.violations if v["fails"]] == [fresh[0]["key"]]
    assert {v["key"] for v in later.violations if v["baseline"] == "known"} == accepted
    assert "new since the baseline" in later.summary
