"""The mock server: a faithful, stateful stand-in for Close's request-internal-number endpoint."""

from conformance.errors import ScenarioError, StateError
from conformance.mock.app import MockApp, build
from conformance.mock.scenario import Scenario
from conformance.mock.server import MockServer
from conformance.mock.store import MemoryStore, SqliteStore, Store

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
