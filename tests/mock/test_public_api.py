"""The mock's public API is what `conformance.mock.__all__` lists, and it works as documented."""

from __future__ import annotations

import httpx

import conformance.mock
from conformance.mock import MockServer, build


def test_all_lists_exactly_the_public_names() -> None:
    modules = {
        "app",
        "choices",
        "cli",
        "inventory",
        "model",
        "pipeline",
        "replies",
        "routes",
        "rules",
        "scenario",
        "scenarios",
        "script",
        "server",
        "store",
        "validation",
    }
    public = {name for name in dir(conformance.mock) if not name.startswith("_")} - modules
    assert public == set(conformance.mock.__all__)


def test_the_mock_server_is_the_shared_one_and_its_errors_are_the_projects() -> None:
    from conformance import errors, serving
    from conformance.mock import script

    assert MockServer is serving.Server
    assert conformance.mock.ScenarioError is errors.ScenarioError
    assert conformance.mock.StateError is errors.StateError
    assert script.ScriptError is errors.ScriptError  # where the plugin and users import it from
    for name in ("ScenarioError", "StateError", "ScriptError"):
        assert issubclass(getattr(errors, name), errors.ConformanceError)


def test_the_documented_in_process_server_serves_the_api() -> None:
    with MockServer(build()) as mock:
        base_url = mock.origin + "/api/v1"
        answer = httpx.post(
            base_url + "/phone_number/request/internal/",
            json={"country": "US", "sharing": "personal"},
            auth=("mock_admin_key", ""),
        )
    assert answer.status_code == 201
