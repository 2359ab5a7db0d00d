"""The judge: one exchange in, findings out, however the exchange was produced.

`close-conformance replay` (recordings) and `close-conformance proxy` (live traffic) feed
it exchanges; it runs on each the same checks the active suite runs inside schemathesis'
engine: schemathesis' own response checks (documented status, content type, headers, body
schema, no server error) and the endpoint's semantic checks from `checks.py`, with the run's
memory for the invariants across exchanges. Checks that would send a request (a retry, an
authentication probe) are never run here: judging traffic sends nothing.

On top of the per-exchange checks it notes what only a stream of traffic shows: a request
answered 201 twice in a short window, which looks like a retry that paid twice. That is a
warning, not a violation: the server did what it was asked, and an app may mean to rent two.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis.checks import CheckContext, load_all_checks, run_checks, run_checks_for

from conformance import contract as contracts
from conformance import jsonbody
from conformance.suite import checks
from conformance.suite.guard import CREDENTIAL_HEADER

if TYPE_CHECKING:
    from conformance.suite.exchange import Exchange

RESPONSE_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
PAID_TWICE_WINDOW = 60.0  # seconds: the same request answered 201 twice within it is a retry that paid twice


@dataclass
class Tally:
    """Exchanges a check judged, and what it found."""

    judged: int = 0
    failures: list[tuple[Exchange, str]] = field(default_factory=list)


@dataclass
class Verdicts:
    """Everything the judge found over a stream of exchanges."""

    tallies: dict[str, Tally] = field(default_factory=dict)
    endpoint: int = 0  # exchanges with the endpoint
    other: int = 0  # exchanges with other endpoints: counted and skipped

    def tally(self, name: str) -> Tally:
        """The tally of one check (created on first use)."""
        return self.tallies.setdefault(name, Tally())


class Judge:
    """Judges exchanges one at a time; thread-safe, so a proxy can feed it from many threads."""

    def __init__(self, contract: contracts.Contract) -> None:
        self.contract = contract
        schema = schemathesis.openapi.from_path(str(contract.path))
        self.operation = schema[contracts.OPERATION_PATH][contracts.OPERATION_METHOD.upper()]
        load_all_checks()
        registered = {check.__name__: check for check in schemathesis.checks.CHECKS.get_all()}
        self.checks: list[Any] = [registered[name] for name in RESPONSE_CHECKS] + list(checks.SEMANTIC_CHECKS)
        config = schema.config.checks_config_for(operation=self.operation, phase=None)
        self.context = CheckContext(
            override=None, auth=None, headers=None, config=config, transport_kwargs=None, recorder=None,
            response_checks=run_checks_for(schema).for_responses(),
        )  # fmt: skip
        self.run = checks.ActiveRun(retry=None, contract=contract, recorded=True)
        self.verdicts = Verdicts()
        self.rentals: list[Exchange] = []
        self.paid_twice: list[tuple[Exchange, Exchange]] = []  # (first, repeat)
        self.previous: Exchange | None = None  # the last POST to the endpoint judged
        self.lock = threading.Lock()

    def is_endpoint(self, exchange: Exchange) -> bool:
        """Whether the exchange is with the endpoint (any base path ending in the operation's path)."""
        return urlsplit(exchange.path).path.endswith(contracts.OPERATION_PATH)

    def judge(self, exchange: Exchange) -> list[tuple[str, str]]:
        """Judge one exchange; return its findings as (check, message)."""
        with self.lock:
            if not self.is_endpoint(exchange):
                self.verdicts.other += 1
                return []
            self.verdicts.endpoint += 1
            if exchange.status is None:
                return []  # nothing to judge: the recording has no answer (a failure is reported by its producer)
            if exchange.body_missing:  # the recorder dropped the body: judging it would invent violations
                if exchange.rented:
                    self.rentals.append(exchange)
                return []
            if exchange.method != contracts.OPERATION_METHOD.upper():
                findings = self._other_method(exchange)
            else:
                findings = self._run_checks(exchange)
                self._note_paid_twice(exchange)
            for name, message in findings:
                self.verdicts.tally(name).failures.append((exchange, message))
            return findings

    def _case_and_response(self, exchange: Exchange) -> tuple[Any, Any]:
        content_type = next((v for k, v in exchange.headers if k.lower() == "content-type"), None)
        try:
            body: Any = jsonbody.read_strict(exchange.body) if exchange.body else None
        except jsonbody.NotJSON:
            body = exchange.body  # judged as the bytes it is: the contract forbids it
        case = self.operation.Case(
            body=body,
            headers={k: v for k, v in exchange.headers if k.lower() != "content-length"},
            media_type=content_type.split(";")[0].strip() if content_type else None,
        )
        # Built by hand: the checks read only the method, URL and body (prepare() costs a URL parse).
        request = requests.PreparedRequest()
        request.method = exchange.method
        request.url = "http://recorded" + exchange.path
        request.headers = CaseInsensitiveDict(dict(exchange.headers))
        request.body = exchange.body or None
        headers: dict[str, list[str]] = {}
        for name, value in exchange.response_headers:
            headers.setdefault(name.lower(), []).append(value)
        if exchange.credential is not None:  # which credential rented, for the invariants across rentals
            headers[CREDENTIAL_HEADER] = [exchange.credential]
        response = schemathesis.Response(
            status_code=exchange.status or 0,
            headers=headers,
            content=exchange.response_body,
            request=request,
            elapsed=exchange.elapsed,
            verify=True,
        )
        return case, response

    def _run_checks(self, exchange: Exchange) -> list[tuple[str, str]]:
        case, response = self._case_and_response(exchange)
        found: list[tuple[str, str]] = []
        ran: set[str] = set()

        def on_failure(name: str, _collected: set[Any], failure: Any) -> None:
            found.append((name, f"{failure.title}: {failure.message}".strip()))

        def on_success(name: str, _case: Any) -> None:
            ran.add(name)

        known = exchange.started > 0
        self.run.recorded_at = (exchange.started, exchange.started + exchange.elapsed) if known else None
        checks.activate(self.run)
        try:
            run_checks(
                case=case, response=response, ctx=self.context, checks=self.checks,
                on_failure=on_failure, on_success=on_success,
            )  # fmt: skip
        finally:
            checks.activate(None)
        for name in ran | {name for name, _ in found}:
            self.verdicts.tally(name).judged += 1
        if exchange.rented:
            self.rentals.append(exchange)
        return found

    def _other_method(self, exchange: Exchange) -> list[tuple[str, str]]:
        """A method the contract does not document: judged by HTTP (405 comes with Allow), not by the operation."""
        self.verdicts.tally("unsupported_method_answer").judged += 1
        if exchange.status == 405 and exchange.header("allow") is None:
            return [("unsupported_method_answer", f"405 to {exchange.method} without the Allow header HTTP requires.")]
        answered = exchange.status is not None and 200 <= exchange.status < 300
        if answered and exchange.method not in ("HEAD", "OPTIONS"):
            message = f"{exchange.method} is not documented, but was answered {exchange.status}."
            return [("unsupported_method_answer", message)]
        return []

    def _note_paid_twice(self, exchange: Exchange) -> None:
        """The same request answered 201 twice within a short window: note the pair.

        Without recorded times (a cassette with no Date headers) only back-to-back exchanges count.
        """
        previous, self.previous = self.previous, exchange
        if not exchange.rented:
            return
        for earlier in self.rentals[:-1]:
            if exchange.started and earlier.started:
                close_in_time = abs(exchange.started - earlier.started) <= PAID_TWICE_WINDOW
            else:
                close_in_time = earlier is previous
            if close_in_time and earlier.body == exchange.body and earlier.method == exchange.method:
                self.paid_twice.append((earlier, exchange))
                return

    def observed(self) -> checks.Observations:
        """What the semantic checks observed beyond pass/fail (unknown statuses)."""
        return self.run.observations
