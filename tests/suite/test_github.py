"""GitHub Actions output: workflow commands escaped as the runner reads them, an annotation per violation,
and the job summary (what to fix first, what changed since the baseline, the checks, coverage)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from conformance.suite import github
from conformance.suite.baseline import Accepted, Baseline
from conformance.suite.conclusion import Conclusion, Evidence, Settings, conclude
from conformance.suite.findings import Finding
from conformance.suite.judge import Verdicts
from tests.suite.views import REFUSED, REPLAY, evidence, rental

TOO_LONG = {"country": "US", "prefix": "123456"}  # documented (seed)
EMPTY_ASSIGN_TO = {"country": "US", "assign_to": []}  # the contract's choice assign-to-empty


def concluded(*requests: dict, settings: Settings | None = None, **framing: Any) -> Conclusion:
    """A rental, and each request answered as if it were valid (a violation of its fault)."""
    exchanges = [rental(), *(rental(request, 404, REFUSED) for request in requests)]
    return conclude(evidence(*exchanges, **framing), settings)


def test_workflow_command_data_escapes_percent_cr_and_lf() -> None:
    assert github.escape("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert github._property("close-conformance: a, b") == "close-conformance%3A a%2C b"


def test_a_run_that_could_not_test_is_one_error() -> None:
    conclusion = conclude(Evidence(REPLAY, [], Verdicts()))
    reason = "no exchange with the endpoint (POST .../phone_number/request/internal/) in recordings x.har"
    assert github.workflow_commands(conclusion) == [f"::error title=close-conformance::Could not test: {reason}"]


def test_each_failing_violation_is_an_error_with_its_key_and_basis_in_the_title() -> None:
    (command,) = github.workflow_commands(concluded(TOO_LONG))
    assert command.startswith(
        "::error title=close-conformance%3A request_validation%3A prefix%3A maxLength [documented (seed)]::"
        "Violation 1: The request is invalid"
    )


def test_a_violation_that_does_not_fail_is_a_warning() -> None:
    warned = github.workflow_commands(concluded(EMPTY_ASSIGN_TO, settings=Settings(assumptions="warn")))
    assert [command.split(" ", 1)[0] for command in warned] == ["::warning"]
    assert "[chosen (assign-to-empty)]" in warned[0]
    accepted = Baseline("old.json", {"request_validation: prefix: maxLength": Accepted("x", "request_validation")})
    known = github.workflow_commands(concluded(TOO_LONG, settings=Settings(baseline=accepted)))
    assert [command.split(" ", 1)[0] for command in known] == ["::warning"]


def test_a_violation_explained_by_a_root_cause_says_so() -> None:
    same = rental().response_body
    rentals = [rental({"country": country}, 201, same) for country in ("US", "GB", "DE")]
    commands = github.workflow_commands(conclude(evidence(*rentals)))
    assert commands[0].startswith("::error title=close-conformance%3A static_rental_body%3A every rental the same body")
    assert any("(likely caused by static_rental_body: every rental the same body)" in c for c in commands[1:])


def test_a_message_on_several_lines_stays_one_command() -> None:
    conclusion = concluded(TOO_LONG)
    example = conclusion.violations[0].examples[0]
    problem = dataclasses.replace(example.problem, message="first line\nsecond: 100%")
    conclusion.violations[0].examples[0] = Finding(example.check, problem, example.exchange)
    (command,) = github.workflow_commands(conclusion)
    assert command.endswith("::Violation 1: first line%0Asecond: 100%25")


def test_warnings_and_drift_are_warnings() -> None:
    drifted = rental({"country": "GB"}, 400, {"status": "brand-new-refusal"})
    conclusion = conclude(evidence(rental(), drifted, warnings=["2 exchange(s) recorded without body"]))
    assert github.workflow_commands(conclusion) == [
        "::warning title=close-conformance::2 exchange(s) recorded without body",
        "::warning title=close-conformance::drift: status 'brand-new-refusal' is not in the contract",
    ]


def test_annotations_stop_at_the_runners_limit() -> None:
    conclusion = concluded(TOO_LONG)
    conclusion.violations = conclusion.violations * (github.MAX_ANNOTATIONS + 10)
    assert len(github.workflow_commands(conclusion)) == github.MAX_ANNOTATIONS


# -- the job summary --------------------------------------------------------------------------------


def test_the_summary_of_a_conformant_run_has_the_verdict_the_checks_and_coverage() -> None:
    markdown = github.summary_markdown(concluded())
    assert markdown.startswith("## close-conformance: ✅ CONFORMANT\n")
    assert "Target `recordings x.har`, contract 1.2.1, replay (recorded)." in markdown
    assert "| check | judged | failed | status |" in markdown
    assert "| rented_number_in_requested_country | 1 | 0 | passed |" in markdown
    assert "Coverage of the contract:" in markdown
    assert "Rentals: 1" in markdown
    assert "### Fix first" not in markdown
    assert "### Since the baseline" not in markdown


def test_the_summary_lists_what_to_fix_first_and_the_contracts_own_choices_apart() -> None:
    markdown = github.summary_markdown(concluded(TOO_LONG, EMPTY_ASSIGN_TO))
    assert markdown.startswith("## close-conformance: ❌ NOT CONFORMANT: 2 violation(s)")
    fix_first = markdown.split("### Fix first\n\n")[1].split("\n\n")[0].splitlines()
    assert fix_first[0].startswith("1. **request_validation: prefix: maxLength** [documented (seed)]: ")
    assert fix_first[1].startswith("2. **request_validation: assign_to: minItems** [chosen (assign-to-empty)]: ")
    chosen = markdown.split("### Against the contract's own choices (Close is silent)\n\n")[1].splitlines()[0]
    assert chosen == "- `request_validation: assign_to: minItems` (choice `assign-to-empty`)"


@pytest.mark.parametrize(
    ("requests", "accepted", "lines"),
    [
        ((TOO_LONG, EMPTY_ASSIGN_TO), ["request_validation: prefix: maxLength"],
         ["- new: `request_validation: assign_to: minItems`"]),
        (({"country": "US", "colour": "red"},),  # request_validation judged: the prefix finding is gone
         ["request_validation: prefix: maxLength", "request_validation: unknown field"],
         ["- fixed: `request_validation: prefix: maxLength`"]),
        ((), ["request_validation: prefix: maxLength"],
         ["- not judged this run (not known to be fixed): `request_validation: prefix: maxLength`"]),
        ((TOO_LONG,), ["request_validation: prefix: maxLength"], ["- nothing changed"]),
    ],
    ids=["new", "fixed", "not judged", "nothing changed"],
)  # fmt: skip
def test_the_summary_says_what_changed_since_the_baseline(requests, accepted: list[str], lines: list[str]) -> None:
    baseline = Baseline("old.json", {key: Accepted(key, key.split(":")[0]) for key in accepted})
    markdown = github.summary_markdown(concluded(*requests, settings=Settings(baseline=baseline)))
    section = markdown.split("### Since the baseline\n\n")[1].split("\n\n")[0].splitlines()
    assert section == lines


def test_the_summary_of_a_run_that_could_not_test_is_its_reason_only() -> None:
    markdown = github.summary_markdown(conclude(Evidence(REPLAY, [], Verdicts())))
    assert markdown.splitlines()[0].startswith("## close-conformance: ⚠️ CANNOT TEST: no exchange with the endpoint")
    assert "| check |" not in markdown


def test_the_summary_is_appended_to_the_file_the_runner_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "summary.md"
    target.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    github.write_summary("## close-conformance")
    assert target.read_text() == "earlier step\n## close-conformance\n"
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    github.write_summary("## ignored")  # outside GitHub Actions: nothing to write to
    assert target.read_text() == "earlier step\n## close-conformance\n"
