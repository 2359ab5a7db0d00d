"""The project's exceptions, under one root, as a user of the mock or the suite meets them.

::

    ConformanceError               anything this package raises on purpose; the message is for people
     ├── UsageError                a mistake on a command line or in options (exit 2)
     ├── CannotTest                the run could not test the server: nothing to judge (exit 2)
     ├── ContractError             a contract file that cannot be read or is not this endpoint's
     ├── RecordingError            a recording that cannot be read (replay)
     ├── BaselineError             a baseline or earlier report that cannot be read (--baseline, diff)
     ├── LedgerError               a rental ledger that cannot be read or written (--ledger, release)
     ├── ScenarioError             a mock scenario file that cannot be served
     ├── StateError                a mock --state file that cannot be used
     └── ScriptError               an odd answer that does not exist, or a bad option of one

Every front-end (`close-conformance`, `close-mock`, the pytest plugin) catches `ConformanceError`
in one place and prints its message in one line: never a traceback for a user's mistake.
Control flow inside the mock (`Refused`, `NotJSON`) is not an error and stays outside the tree.
"""

from __future__ import annotations


class ConformanceError(Exception):
    """The root: a failure this package explains in its message."""


class UsageError(ConformanceError):
    """A mistake on the command line or in the options; the message says what to change."""


class CannotTest(ConformanceError):  # noqa: N818 - reads as a sentence: CannotTest("server unreachable")
    """The run could not test the server (exit 2); the message says why and what to do, in one line.

    `evidence`: what was sent before it stopped (a suite Evidence), so the reports show it.
    """

    def __init__(self, message: str, evidence: object = None) -> None:
        super().__init__(message)
        self.evidence = evidence


class ContractError(ConformanceError, ValueError):
    """A contract file that cannot be read or does not describe the endpoint."""


class RecordingError(ConformanceError, ValueError):
    """A file that is not a recording this tool reads; the message says which and why."""


class BaselineError(ConformanceError, ValueError):
    """A baseline (or an earlier report) that cannot be read."""


class LedgerError(ConformanceError, ValueError):
    """A rental ledger that cannot be read or written."""


class ScenarioError(ConformanceError, ValueError):
    """A scenario file that cannot be served; the message says where and why."""


class StateError(ConformanceError, ValueError):
    """A --state file that cannot be used; the message says why."""


class ScriptError(ConformanceError, ValueError):
    """An odd answer that does not exist or has a bad option; the message lists the kinds."""
