"""schemathesis' engine as the suite's request maker: it generates requests, the judge judges them.

Every phase (examples, coverage, fuzzing; in full mode also the stateful phase over the
contract's links: rent, read, release, read again, release again) sends its requests through
the guard, which records them. schemathesis' own checks are switched off: every exchange is
judged afterwards by the one judge, as replay and proxy judge theirs, so nothing is judged
twice or by different rules.
"""

from __future__ import annotations

import threading
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

STATEFUL_STEPS = 6  # rent, read, release, read again, release again, and one more
STATEFUL_EXAMPLES = 12  # state machine runs, each renting at least once


@dataclass
class Generated:
    """What schemathesis sent (the guard holds the exchanges)."""

    cases: int = 0
    by_phase: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def settings() -> dict[str, Any]:
    """The suite's schemathesis.toml, as data (the one place its seed and budget are written)."""
    text = resources.files("conformance.suite").joinpath("schemathesis.toml").read_text("utf-8")
    return tomllib.loads(text)


def default_seed() -> int:
    """The seed runs use unless told otherwise."""
    return int(settings()["seed"])


def load_config(
    seed: int,
    max_examples: int | None,
    request_timeout: float = 600.0,
    *,
    phases: tuple[str, ...] = ("examples", "coverage", "fuzzing"),
) -> schemathesis.Config:
    """The suite's schemathesis.toml with the run's seed, budget and phases; schemathesis' checks off.

    The guard answers every request itself within its own bounds (timeout, 429 waits,
    deadline), so schemathesis' own timeout is the run's deadline: it never gives up first.
    """
    data = settings()
    data["seed"] = seed
    data["request-timeout"] = request_timeout
    data["checks"] = {"enabled": False}  # the judge judges every exchange afterwards
    generation = data.setdefault("generation", {})
    if max_examples is not None:
        generation["max-examples"] = max_examples
    every = ("examples", "coverage", "fuzzing", "stateful")
    configured = data.setdefault("phases", {})
    for phase in every:
        configured.setdefault(phase, {})["enabled"] = phase in phases
    configured["stateful"] |= {"max-steps": STATEFUL_STEPS, "generation": {"max-examples": STATEFUL_EXAMPLES}}
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


def _favour_real_countries(schema: Any, contract: Contract, assignees: tuple[tuple[str, ...], ...] = ()) -> None:
    """Make most valid bodies name a country with numbers, and a known assignee or none.

    Where the contract has `assign_to`, it is either left out or one of `assignees` (lists of
    user ids: the requester first, then one `--assignee`, so the number stays the requester's
    to release), so rentals really happen and ownership after `assign_to` is judged.
    """
    from hypothesis import strategies as st

    validator = contract.request_validator()
    countries = realistic_countries()
    can_assign = "assign_to" in contract.request_schema()["properties"]
    assign_to = st.sampled_from([None, *(list(users) for users in assignees)]) if can_assign else st.just(None)

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


def _aim_at_unrentable(schema: Any) -> None:
    """Safe mode: every generated body is aimed at the unrentable country just before it is sent.

    schemathesis re-checks whether the case is still positive or negative afterwards.
    """

    @schema.hook("map_case")  # type: ignore[untyped-decorator]
    def aim(_ctx: Any, case: Any) -> Any:
        if isinstance(case.body, dict):
            case.body = safety.aim_at_unrentable(case.body)
        return case


def run(
    base_url: str,
    contract: Contract,
    *,
    seed: int,
    max_examples: int | None,
    safe: bool,
    progress: Callable[[str], None],
    request_timeout: float = 600.0,
    assignees: tuple[tuple[str, ...], ...] = (),
    stop: threading.Event | None = None,
) -> Generated:
    """Run schemathesis' phases against `base_url` (the guard).

    Valid and invalid rental requests are generated in both modes; in safe mode every body is
    aimed at the unrentable country first, so the guard lets it through. In full mode, where
    the contract links the rental to reading and releasing the number, the stateful phase
    follows those links too.
    """
    result = Generated()
    started = time.monotonic()
    stop = stop or threading.Event()
    config = load_config(seed, max_examples, request_timeout)
    rental = contract.rental
    schema = schemathesis.openapi.from_path(str(contract.path), config=config).include(
        path=rental.path, method=rental.method
    )
    _prepare(schema, base_url, contract, safe=safe, assignees=assignees)
    _execute(schema, result, progress, stop)
    lifecycle = {contracts.READ, contracts.RELEASE} <= set(contract.operations)
    if not safe and lifecycle and not stop.is_set():
        config = load_config(seed, max_examples, request_timeout, phases=("stateful",))
        schema = schemathesis.openapi.from_path(str(contract.path), config=config)
        _prepare(schema, base_url, contract, safe=safe, assignees=assignees)
        _execute(schema, result, progress, stop)
    result.seconds = time.monotonic() - started
    return result


def _prepare(
    schema: Any, base_url: str, contract: Contract, *, safe: bool, assignees: tuple[tuple[str, ...], ...]
) -> None:
    schema.config.update(base_url=base_url, basic_auth=(PLACEHOLDER_ANY, ""))
    if safe:
        _aim_at_unrentable(schema)
    else:
        _favour_real_countries(schema, contract, assignees)


def _execute(schema: Any, result: Generated, progress: Callable[[str], None], stop: threading.Event) -> None:
    started = time.monotonic()
    for event in schemathesis.engine.from_schema(schema).execute():
        if stop.is_set():  # SIGINT or SIGTERM: nothing more is generated (the guard already sends nothing)
            break
        if isinstance(event, events.ScenarioFinished):
            phase, cases = event.phase.value, len(event.recorder.cases)
            result.by_phase[phase] = result.by_phase.get(phase, 0) + cases
            result.cases += cases
            if phase != "stateful":  # the stateful phase ends a scenario per state machine run: said once below
                progress(f"  {phase}: {cases} cases ({event.elapsed_time:.1f} s)")
        elif isinstance(event, events.NonFatalError):
            result.errors.append(f"{event.label}: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            result.errors.append(f"schemathesis stopped: {event.exception}")
    if "stateful" in result.by_phase:
        progress(f"  stateful: {result.by_phase['stateful']} cases ({time.monotonic() - started:.1f} s)")
