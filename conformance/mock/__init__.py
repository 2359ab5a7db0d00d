"""The mock server: a faithful, stateful stand-in for Close's request-internal-number endpoint."""

from conformance.mock.app import MockApp, build
from conformance.mock.scenario import Scenario, ScenarioError
from conformance.mock.server import MockServer
from conformance.mock.store import MemoryStore, SqliteStore, StateError, Store

__all__ = [
    "MemoryStore",
    "MockApp",
    "MockServer",
    "Scenario",
    "ScenarioError",
    "SqliteStore",
    "StateError",
    "Store",
    "build",
]
