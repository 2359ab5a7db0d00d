"""Run schemathesis' engine (examples, coverage, fuzzing) against the guard and collect results."""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

import schemathesis
from schemathesis.engine import events

from conformance import contract as contracts
from conformance import numbers
from conformance.suite import safety
from conformance.suite.credentials import PLACEHOLDER_ANY

if TYPE_CHECKING:
    from collections.abc import Callable

    from conformance.contract import Contract

# Safe mode: every generated body is aimed at the unrentable country just before it is sent
# (schemathesis re-checks whether the case is still positive or negative afterwards).
_aiming = False


@schemathesis.hook("before_call")
def _aim_at_unrentable(_ctx: Any, case: Any, **_kwargs: Any) -> None:
    if _aiming and isinstance(case.body, dict):
        case.body = safety.aim_at_unrentable(case.body)


@dataclass
class CheckTally:
    """Cases a check ran on, and the failures it found (case ids)."""

    passed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (case id, message)


@dataclass
class EngineResult:
    """What the schemathesis part of the run found."""

    cases: int = 0
    by_phase: dict[str, int] = field(default_factory=dict)
    checks: dict[str, CheckTally] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    case_bodies: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def settings() -> dict[str, Any]:
    """The suite's schemathesis.toml, as data (the one place its seed and budget are written)."""
    text = resources.files("conformance.suite").joinpath("schemathesis.toml").read_text("utf-8")
    return tomllib.loads(text)


def default_seed() -> int:
    """The seed runs use unless told otherwise."""
    return int(settings()["seed"])


def expected_statuses(contract: Contract) -> dict[str, list[str]]:
    """What schemathesis' acceptance checks may see, from the statuses the contract documents.

    A valid body with valid credentials may still be refused for business reasons (400 with a
    business status, 403, 404) or rate-limited; an invalid request must be refused before any
    rental, with a validation, authentication, size, content-type or rate-limit answer.
    """
    documented = contract.documented_statuses()
    positive = sorted(code for code in documented if code not in (401, 413, 415))
    negative = sorted(code for code in documented if code >= 400 and code not in (403, 404))
    return {"positive": [str(code) for code in positive], "negative": [str(code) for code in negative]}


def load_config(
    seed: int, max_examples: int | None, request_timeout: float = 600.0, contract: Contract | None = None
) -> schemathesis.Config:
    """The suite's schemathesis.toml (valid and invalid requests) with the run's seed and budget.

    The guard answers every request itself within its own bounds (timeout, 429 waits,
    deadline), so schemathesis' own timeout is the run's deadline: it never gives up first.
    """
    data = settings()
    data["seed"] = seed
    data["request-timeout"] = request_timeout
    statuses = expected_statuses(contract or contracts.today())
    checks = data.setdefault("checks", {})
    checks["positive_data_acceptance"] = {"expected-statuses": statuses["positive"]}
    checks["negative_data_rejection"] = {"expected-statuses": statuses["negative"]}
    generation = data.setdefault("generation", {})
    if max_examples is not None:
        generation["max-examples"] = max_examples
    return schemathesis.Config.from_dict(data)


def realistic_countries() -> list[str]:
    """Countries with telephone numbering plans, for valid bodies that reach business logic."""
    preferred = [
        "US",
        "CA",
        "GB",
        "AU",
        "DE",
        "FR",
        "BE",
        "DK",
        "IL",
        "PR",
        "ZA",
        "NL",
        "SE",
        "MX",
        "BR",
        "NZ",
    ]
    return [code for code in preferred if numbers.national_length(code, "local") is not None]


def _favour_real_countries(schema: Any, contract: Contract, assignees: tuple[str, ...] = ()) -> None:
    """Make most valid bodies name a country with numbers, and a known assignee or none.

    Where the contract has `assign_to`, it is either left out or names one of `assignees`
    (`--assignee`), so rentals really happen and ownership after `assign_to` is judged.
    """
    from hypothesis import strategies as st

    validator = contract.request_validator()
    countries = realistic_countries()
    can_assign = "assign_to" in contract.request_schema()["properties"]
    assign_to = st.sampled_from([None, *([user] for user in assignees)]) if can_assign else st.just(None)

    def realistic_body(body: dict[str, Any], country: str, keep_prefix: bool, assignee: list[str] | None) -> Any:
        made = {**body, "country": country, **({} if keep_prefix else {"prefix": ""})}
        made.pop("assign_to", None)
        return made | ({"assign_to": assignee} if assignee else {})

    @schema.hook("flatmap_body")  # type: ignore[untyped-decorator]
    def flatmap_body(_ctx: Any, body: Any) -> Any:
        if not isinstance(body, dict) or not validator.is_valid(body):
            return st.just(body)  # invalid bodies stay exactly as generated
        realistic = st.builds(
            lambda country, keep_prefix, assignee: realistic_body(body, country, keep_prefix, assignee),
            st.sampled_from(countries),
            st.booleans(),
            assign_to,
        )
        # Two realistic branches to one as-generated: most valid bodies reach business rules.
        return st.one_of(st.just(body), realistic, realistic)


def run(
    base_url: str,
    contract: Contract,
    *,
    seed: int,
    max_examples: int | None,
    safe: bool,
    progress: Callable[[str], None],
    request_timeout: float = 600.0,
    assignees: tuple[str, ...] = (),
) -> EngineResult:
    """Run every schemathesis phase against `base_url` (the guard) and tally each check.

    Valid and invalid requests are generated in both modes; in safe mode every body is
    aimed at the unrentable country first, so the guard lets it through.
    """
    global _aiming  # noqa: PLW0603 - schemathesis hooks are module-level functions
    config = load_config(seed, max_examples, request_timeout, contract)
    # Only the rental: the contract's other operations (GET/DELETE of a number) are never sent unplanned.
    schema = schemathesis.openapi.from_path(str(contract.path), config=config).include(
        path=contracts.OPERATION_PATH, method=contracts.OPERATION_METHOD.upper()
    )
    schema.config.update(base_url=base_url, basic_auth=(PLACEHOLDER_ANY, ""))
    if not safe:
        _favour_real_countries(schema, contract, assignees)
    result = EngineResult()
    started = time.monotonic()
    _aiming = safe
    try:
        for event in schemathesis.engine.from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                _tally(result, event)
                progress(f"  {event.phase.value}: {len(event.recorder.cases)} cases ({event.elapsed_time:.1f} s)")
            elif isinstance(event, events.NonFatalError):
                result.errors.append(f"{event.label}: {event.info.title}: {event.info.message}")
            elif isinstance(event, events.FatalError):
                result.errors.append(f"schemathesis stopped: {event.exception}")
    finally:
        _aiming = False
    result.seconds = time.monotonic() - started
    return result


def _tally(result: EngineResult, event: events.ScenarioFinished) -> None:
    recorder = event.recorder
    phase = event.phase.value
    result.by_phase[phase] = result.by_phase.get(phase, 0) + len(recorder.cases)
    result.cases += len(recorder.cases)
    for case_id, node in recorder.cases.items():
        result.case_bodies[case_id] = node.value.body
    for case_id, checks in recorder.checks.items():
        for check in checks:
            tally = result.checks.setdefault(check.name, CheckTally())
            if check.failure_info is None:
                tally.passed += 1
            else:
                failure = check.failure_info.failure
                tally.failed.append((case_id, f"{failure.title}: {failure.message}".strip()))
