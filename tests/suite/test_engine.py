"""The engine: schemathesis' configuration for a run, and the hooks that shape what it generates."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import contract as contracts
from conformance import numbers
from conformance.suite import engine, safety
from tests.suite.views import CONTRACT

PHASES = ("examples", "coverage", "fuzzing", "stateful")


class Hooks:
    """Stands in for a schemathesis schema: records the hooks registered on it, by name."""

    def __init__(self) -> None:
        self.found: dict[str, Callable[..., Any]] = {}

    def hook(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            self.found[name] = function
            return function

        return register


# -- the configuration ----------------------------------------------------------------------------


def test_the_judge_judges_so_every_check_of_schemathesis_is_off() -> None:
    checks = engine.load_config(1, None).projects.default.checks
    names = [name for name in dir(checks) if not name.startswith("_") and hasattr(getattr(checks, name), "enabled")]
    assert names  # the config lists its checks ...
    assert [name for name in names if getattr(checks, name).enabled] == []  # ... and none is on


def test_the_run_sets_seed_budget_and_request_timeout() -> None:
    project = engine.load_config(7, 12, 30.0).projects.default
    assert (project.seed, project.generation.max_examples, project.request_timeout) == (7, 12, 30.0)


def test_without_a_budget_the_suites_own_is_kept_and_so_is_its_seed() -> None:
    written = engine.settings()
    project = engine.load_config(engine.default_seed(), None).projects.default
    assert project.generation.max_examples == written["generation"]["max-examples"]
    assert engine.default_seed() == written["seed"]


@pytest.mark.parametrize(
    "phases", [("examples", "coverage", "fuzzing"), ("stateful",), ("examples",)], ids=["default", "stateful", "one"]
)
def test_only_the_phases_asked_for_are_enabled(phases: tuple[str, ...]) -> None:
    configured = engine.load_config(1, None, phases=phases).projects.default.phases
    assert {phase: getattr(configured, phase).enabled for phase in PHASES} == {
        phase: phase in phases for phase in PHASES
    }


def test_the_stateful_phase_is_bounded() -> None:
    stateful = engine.load_config(1, None, phases=("stateful",)).projects.default.phases.stateful
    assert stateful.max_steps == engine.STATEFUL_STEPS
    assert stateful.generation.max_examples == engine.STATEFUL_EXAMPLES


def test_loading_the_configuration_twice_gives_the_same_and_leaves_the_file_as_written() -> None:
    before = engine.settings()
    engine.load_config(3, 5, phases=("stateful",))
    assert engine.settings() == before


# -- safe mode: every body aimed at the unrentable country --------------------------------------


@pytest.mark.parametrize(
    ("body", "aimed"),
    [
        ({"country": "US", "prefix": "650"}, {"country": "AQ", "prefix": "650"}),
        ({"country": "us"}, {"country": "aq"}),  # invalid stays invalid, in the same way
        ({"prefix": "650"}, {"prefix": "650"}),
        ([{"country": "US"}], [{"country": "US"}]),
        (None, None),
    ],
)
def test_in_safe_mode_every_generated_body_is_aimed_at_the_unrentable_country(body: Any, aimed: Any) -> None:
    schema = Hooks()
    engine._aim_at_unrentable(schema)
    case = SimpleNamespace(body=body)
    assert schema.found["map_case"](None, case) is case
    assert case.body == aimed
    if isinstance(aimed, dict) and "country" in aimed:
        assert not safety.could_rent(json.dumps(aimed).encode())


# -- full mode: valid bodies that reach the business rules -----------------------------------------


def test_the_realistic_countries_have_numbers() -> None:
    countries = engine.realistic_countries()
    assert "US" in countries
    assert safety.UNRENTABLE_COUNTRY not in countries
    assert all(numbers.national_length(country, "local") is not None for country in countries)


def _draws(contract: contracts.Contract, body: Any, assignees: tuple[tuple[str, ...], ...] = ()) -> list[Any]:
    schema = Hooks()
    engine._favour_real_countries(schema, contract, assignees)
    strategy = schema.found["flatmap_body"](None, body)
    drawn: list[Any] = []

    @settings(max_examples=80, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        drawn.append(data.draw(strategy))

    draw()
    return drawn


def test_an_invalid_body_is_sent_exactly_as_generated() -> None:
    bodies: list[Any] = [{"country": "us"}, {"country": "US", "colour": "red"}, [], "text"]
    for body in bodies:
        assert {repr(drawn) for drawn in _draws(CONTRACT, body)} == {repr(body)}


def test_a_valid_body_mostly_names_a_country_with_numbers_and_a_known_assignee_or_none() -> None:
    body = {"country": "ZW", "prefix": "4", "assign_to": ["user_unknown1"]}
    assignees = (("user_requester1", "user_member2"),)
    drawn = _draws(CONTRACT, body, assignees)
    validator = CONTRACT.request_validator()
    assert all(validator.is_valid(made) for made in drawn)  # still valid
    as_generated = [made for made in drawn if made == body]
    realistic = [made for made in drawn if made != body]
    assert len(realistic) > len(as_generated)  # two realistic branches to one as generated
    assert {made["country"] for made in realistic} <= set(engine.realistic_countries())
    assert {made.get("prefix") for made in realistic} == {"4", ""}  # kept, or left empty
    assert {tuple(made.get("assign_to", ())) for made in realistic} == {(), ("user_requester1", "user_member2")}


def test_where_the_contract_has_no_assign_to_none_is_added() -> None:
    drawn = _draws(contracts.seed(), {"country": "ZW", "sharing": "personal"}, (("user_requester1",),))
    assert not any("assign_to" in made for made in drawn)
