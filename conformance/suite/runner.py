"""One active conformance run: the target, the guard, the requests made, and the evidence.

The run only produces exchanges: the fixed probes, schemathesis' phases, and the follow-ups
they call for (the retry a `has-voice-only` asks for; in full mode, reading back and releasing
every number rented). The judge judges them all afterwards, and `conclusion.conclude` turns
them into the verdict, exactly as for replay and proxy.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from conformance import contract as contracts
from conformance.errors import CannotTest
from conformance.suite import checks, conclusion, engine, lifecycle, probes
from conformance.suite.conclusion import Evidence, Source
from conformance.suite.credentials import PLACEHOLDER_ANY, Secrets, basic
from conformance.suite.exchange import Exchange, NotSent
from conformance.suite.findings import Finding, Problem
from conformance.suite.guard import Guard, Policy
from conformance.suite.judge import Judge

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from conformance.contract import Contract


@dataclass(frozen=True)
class Options:
    """What the user asked for."""

    base_url: str | None  # None: the embedded mock
    auth: str
    mode: str
    max_rentals: int | None
    examples: int | None
    seed: int
    secrets: Secrets
    contract: Contract = field(default_factory=contracts.today)
    timeout: float = 10.0  # seconds per request
    deadline: float = 600.0  # seconds for the whole run
    rate: float | None = None  # at most this many requests a second
    assignees: tuple[str, ...] = ()  # user ids `assign_to` may name (the embedded mock: the scenario's member)
    ledger: Path | None = None  # where full mode records every rental before it is sent (None: nowhere)


@contextlib.contextmanager
def target(options: Options) -> Iterator[tuple[str, Secrets, tuple[str, ...]]]:
    """Yield the API base URL, the credentials and the users `assign_to` may name.

    For the user's server, what the options say; for the embedded mock, its scenario's `member`.
    """
    if options.base_url is not None:
        yield options.base_url, options.secrets, options.assignees
        return
    from conformance.mock.app import build
    from conformance.mock.scenario import default_credentials
    from conformance.serving import Server

    generation = "seed" if options.contract.path.resolve() == contracts.baseline_path().resolve() else "today"
    app = build(generation=generation)
    member = app.scenario.roles.get("member")
    with Server(app) as mock:
        key, token = default_credentials()
        assignees = options.assignees or ((member,) if member else ())
        yield mock.origin + contracts.API_PREFIX, Secrets(key, token, options.auth), assignees


def source_of(options: Options, base_url: str) -> Source:
    """What the run tests, stated once for every report."""
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    return Source(
        kind="run", target=base_url, origin=f"{parts.scheme}://{parts.netloc}", contract=options.contract,
        mode=options.mode, embedded=options.base_url is None, seed=options.seed, auth=options.auth,
        max_rentals=options.max_rentals, timeout=options.timeout,
    )  # fmt: skip


def execute(options: Options, progress: Callable[[str], None], stop: threading.Event | None = None) -> Evidence:
    """Make every request, judge every exchange, and hand over the evidence; CannotTest if nothing could run.

    `stop` (set by SIGINT or SIGTERM) ends the sending early; whatever ends the run, a full run
    reads back and releases what it rented before it returns.
    """
    began, started = time.monotonic(), time.time()
    stop = stop or threading.Event()
    with target(options) as (base_url, secrets, assignees):
        deadline = time.monotonic() + options.deadline
        policy = Policy(options.mode, options.max_rentals, options.timeout, deadline, options.rate, stop)
        with Guard(base_url, secrets, policy, options.contract) as guard:
            full = options.mode == "full" and options.ledger is not None
            book = lifecycle.Book.open(options.ledger, base_url) if full else None
            if book is not None:
                guard.before_rental, guard.on_rented, guard.on_released = book.renting, book.rented, book.released
                guard.on_answered, guard.on_unreleased = book.answered, book.unreleased
            guard.on_exchange = _ticker(guard, progress)
            not_checked: list[str] = []
            result = engine.Generated()
            try:
                _preflight(guard)
            except CannotTest as stopped:  # the reports still show the answer that stopped it
                evidence = _evidence(source_of(options, base_url), guard, result, not_checked, None)
                evidence.started, evidence.duration = started, time.monotonic() - began
                raise CannotTest(str(stopped), evidence) from None
            try:
                not_checked += _make_requests(
                    guard, options, secrets=secrets, assignees=assignees, progress=progress, result=result
                )
            finally:
                held = lifecycle.release_all(guard, book, progress) if options.mode == "full" else None
            source = source_of(options, base_url)
            evidence = _evidence(source, guard, result, not_checked, held)
            if options.base_url is None:
                _accounting(guard.upstream_origin, evidence)
    evidence.started, evidence.duration = started, time.monotonic() - began
    return evidence


def _make_requests(
    guard: Guard,
    options: Options,
    *,
    secrets: Secrets,
    assignees: tuple[str, ...],
    progress: Callable[[str], None],
    result: engine.Generated,
) -> list[str]:
    """The probes, schemathesis' phases and the voice-only retries; what could not be probed, and why."""
    # The fixed probes go first: with a small --max-rentals they still prove that both schemes reach
    # the business logic before generated requests use up the cap.
    progress("probes: authentication, request validation, business logic")
    have = {"key"} if secrets.api_key else set()
    have |= {"token"} if secrets.bearer_token else set()
    skipped = probes.run(guard, options.contract, have=have, rentals_allowed=options.mode == "full", progress=progress)
    skipped += lifecycle.probe(guard, options.contract)
    if _credentials_refused(guard) or guard.policy.stop.is_set():
        return skipped  # refused everywhere: the conclusion's first step says so, on what was sent (exit 2)
    progress(f"schemathesis: examples, coverage and fuzzing phases (seed {options.seed})")
    generated = engine.run(
        guard.base_url, options.contract, seed=options.seed, max_examples=options.examples,
        safe=options.mode == "safe", progress=progress, request_timeout=options.deadline,
        assignees=_assign_lists(guard, assignees), stop=guard.policy.stop,
    )  # fmt: skip
    result.cases, result.by_phase, result.errors = generated.cases, generated.by_phase, generated.errors
    _retry_voice_only(guard, options.contract)
    return skipped


def _credentials_refused(guard: Guard) -> bool:
    """After the probes: whether the server refused every credential (then nothing more can test anything)."""
    judge = Judge(guard.contract)
    for exchange in guard.exchanges:
        judge.judge(exchange)
    return conclusion.credentials_refused("run", judge.verdicts) is not None


def _assign_lists(guard: Guard, assignees: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """What generated rentals may put in assign_to: the requester first, then one assignee each.

    Close lets a user delete only their own personal numbers, and a number's owner is its first
    assignee: with the requester first, every number the run rents stays its to release. The
    requester is who the probes' own rentals belong to (unknown: the assignee alone).
    """
    owners = [e.json().get("user_id") for e in guard.exchanges if e.rented and isinstance(e.json(), dict)]
    requester = next((owner for owner in owners if isinstance(owner, str) and owner), None)
    return tuple((requester, user) if requester and user != requester else (user,) for user in assignees)


def _retry_voice_only(guard: Guard, contract: Contract) -> None:
    """Send, once each, the retry every `has-voice-only` answer to a valid request asks for."""
    sent: set[str] = set()  # each retry once, however the keys of the requests that asked for it were ordered
    for exchange in guard.exchanges:
        # has-voice-only is a 400 by the contract; another reading of refusal-codes gives it with 422
        answer = exchange.json() if exchange.status in (400, 422) and exchange.allowed_body else None
        if not isinstance(answer, dict) or answer.get("status") != "has-voice-only" or exchange.auth != "real":
            continue
        request = json.loads(exchange.body)
        if not isinstance(request, dict) or request.get("with_sms") is False:
            continue
        retry = checks.voice_only_retry(request)
        key = json.dumps(retry, sort_keys=True)
        if key in sent:
            continue
        sent.add(key)
        headers = [("content-type", "application/json"), ("authorization", basic(PLACEHOLDER_ANY))]
        guard.forward(
            "POST",
            guard.upstream_prefix + contract.rental.path,
            headers,
            json.dumps(retry).encode(),
            probe="retry after has-voice-only",
            follow_up=True,
        )


def _evidence(
    source: Source, guard: Guard, result: engine.Generated, not_checked: list[str], held: dict[str, Any] | None
) -> Evidence:
    """Judge every exchange the guard recorded, and frame it."""
    judge = Judge(source.contract)
    exchanges = guard.exchanges
    for exchange in exchanges:
        judge.judge(exchange)
    evidence = Evidence(source, exchanges, judge.verdicts, phases=result.by_phase, engine_errors=result.errors)
    evidence.not_sent = list(guard.ledger.not_sent)
    evidence.pacing = guard.pacing.record()
    evidence.unreachable = guard.unreachable
    evidence.lifecycle = held
    deadline_hit = any("deadline" in held_back.reason for held_back in evidence.not_sent)
    interrupted = guard.policy.stop.is_set()
    evidence.stopped = guard.unreachable or (
        "interrupted (SIGINT or SIGTERM)" if interrupted else "the run's deadline was reached" if deadline_hit else None
    )
    if evidence.stopped:
        not_checked.insert(0, f"the run stopped early: {evidence.stopped}")
    not_checked += [f"{n.probe}: held back by the guard ({n.reason})" for n in evidence.not_sent if n.probe]
    cap = source.max_rentals
    if source.mode == "full" and cap is not None and guard.rentals >= cap:
        not_checked.append(f"authenticated requests stopped at the rental cap (--max-rentals {cap})")
    evidence.not_checked = not_checked
    return evidence


def _ticker(guard: Guard, progress: Callable[[str], None], every: float = 2.0) -> Callable[[Exchange], None]:
    """A progress line at most every `every` seconds while requests flow: counts and rentals."""
    last = [time.monotonic()]

    def tick(_exchange: Exchange) -> None:
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            progress(f"    ... {len(guard.ledger.exchanges)} requests so far, {guard.rentals} rentals")

    return tick


def _preflight(guard: Guard) -> None:
    """Fail fast (exit 2) when the server cannot be reached at all, or the endpoint is not at the base path."""
    # No credentials and a body no server can rent on, nor answer from its business rules (a 404
    # there would read as a missing endpoint): it is refused with 401 or 400, or the path is wrong.
    path = guard.upstream_prefix + guard.contract.rental.path
    outcome = guard.forward("POST", path, [("content-type", "application/json")], b"[]", probe="preflight")
    if isinstance(outcome, NotSent):
        raise CannotTest(f"cannot reach {guard.upstream_origin}: {outcome.reason}")
    if outcome.error is not None:
        raise CannotTest(f"cannot reach {guard.upstream_origin}: {outcome.error}")
    if outcome.status in (404, 405):  # no route, or one that does not take a POST: not the endpoint
        twice = doubled(guard.upstream_prefix)
        said = f"; {twice} appears twice in it" if twice else ""
        raise CannotTest(
            f"{guard.upstream_origin}{outcome.path} answered {outcome.status}: the endpoint is not there. Is the base "
            f"URL right? It should end in the API's base path, like https://api.close.com/api/v1 "
            f"(given: {guard.upstream_prefix or '/'}{said})"
        )


def doubled(prefix: str) -> str | None:
    """The part of a base path given twice in a row at its end (/api/v1/api/v1 -> /api/v1), else None."""
    parts = [part for part in prefix.split("/") if part]
    for size in range(len(parts) // 2, 0, -1):
        if parts[-size:] == parts[-2 * size : -size]:
            return "/" + "/".join(parts[-size:])
    return None


def _accounting(origin: str, evidence: Evidence) -> None:
    """Against the embedded mock: rentals and budgets add up, and refusals rented nothing."""
    audit: dict[str, Any] = httpx.get(origin + "/__mock__/accounts", timeout=10).json()
    audit["rentals_acknowledged"] = len(evidence.verdicts.rentals)
    evidence.accounting = audit
    problems = []
    if not audit["consistent"]:
        problems.append(("books", "the mock's running totals disagree with its rentals (budget or inventory)"))
    if audit["rentals"] != audit["rentals_acknowledged"]:
        held, answered = audit["rentals"], audit["rentals_acknowledged"]
        text = f"the mock holds {held} rentals but answered {answered} requests with a rental: a refusal rented"
        problems.append(("rentals", text + " (or a rental was lost)"))
    basis = evidence.source.contract.documented("seed")
    evidence.extra += [Finding("mock_accounting", Problem(subject, text, basis), None) for subject, text in problems]
    evidence.extra_judged["mock_accounting"] = 1


__all__ = ["CannotTest", "Options", "execute", "target"]
