"""The mock as an ASGI application: routing, the pipelines (rental, a number's GET and DELETE) and the test controls."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance import contract
from conformance.contract import GENERATIONS
from conformance.errors import ScenarioError, ScriptError
from conformance.mock import scenario as scenarios
from conformance.mock.pipeline import Pipeline
from conformance.mock.replies import Reply, refusal
from conformance.mock.routes import today_route
from conformance.mock.script import Script, odd_answer
from conformance.mock.store import MemoryStore, SqliteStore, Store
from conformance.serving import receive_all

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from conformance.mock.scenario import Scenario

ENDPOINT = contract.API_PREFIX + contract.OPERATION_PATH
CONTROLS = "/__mock__/"
CONTROL_ROUTES = (("GET", "rentals"), ("GET", "accounts"), ("POST", "reset"), ("POST", "script"))
CONTROL_BODY_BYTES = 1 << 20  # of a control request's body, at most this much is kept
log = logging.getLogger("close_mock")

Scope = dict[str, Any]


class MockApp:
    """ASGI app: the endpoint under /api/v1 and, unless switched off, controls under /__mock__/."""

    def __init__(self, scenario: Scenario, store: Store, *, controls: bool = True) -> None:
        self.scenario = scenario
        self.store = store
        self.controls = controls
        self.pipeline = Pipeline(scenario, store)
        self.script = Script()

    def reset(self) -> None:
        """Start afresh: no rentals (budgets and inventory whole again), no queued odd answers, full rate limits."""
        self.store.reset()
        self.script.clear()
        if self.pipeline.rate_limiter is not None:
            self.pipeline.rate_limiter.reset()

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        """Serve one ASGI connection scope."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        odd = self.script.next() if scope["path"] == ENDPOINT and scope["method"] == "POST" else None
        if odd is not None and odd.kind == "drop":
            await receive_all(receive)
            # The start of an answer, then nothing: the client sees the connection close mid-answer.
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
            return
        if odd is not None and odd.kind == "slow":
            await asyncio.sleep(odd.option("delay", 2.0))
            odd = None
        scripted = odd.reply(self.pipeline.choices) if odd is not None else None
        if scripted is not None:
            await receive_all(receive)
        reply = scripted or await self.dispatch(scope, receive)
        body = reply.encode()
        if reply.status == 204:  # No Content: no body, so neither a type nor a length
            body, headers = b"", []
        else:
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in reply.headers]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(
        self,
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def dispatch(self, scope: Scope, receive: Callable[[], Awaitable[dict[str, Any]]]) -> Reply:
        """Route a request to the rental, a number's GET or DELETE, a control, or a 404/405."""
        path, method = scope["path"], scope["method"]
        if path == ENDPOINT:
            if method != "POST":
                return refusal(405, f"{method} is not allowed here; use POST.", headers=(("allow", "POST"),)).reply
            return await self.pipeline.handle(scope["headers"], receive)
        route = self.pipeline.number_route
        number_id = route.number_id(path)
        if number_id is not None:
            if method not in route.methods:
                allowed = ", ".join(route.methods)
                return refusal(
                    405, f"{method[:20]} is not allowed here; use {allowed}.", headers=(("allow", allowed),)
                ).reply
            return await self.pipeline.number(method, number_id, scope["headers"], receive)
        if self.controls and path.startswith(CONTROLS):
            body = await receive_all(receive, CONTROL_BODY_BYTES) if method == "POST" else b""
            return self.control(method, path[len(CONTROLS) :], body)
        return refusal(404, f"No endpoint at {path[:200]}; the mock serves {describe_endpoints()}.").reply

    def control(self, method: str, name: str, body: bytes = b"") -> Reply:
        """Test controls, outside the contract: rentals, accounts (audit), reset and scripted answers."""
        if (method, name) not in CONTROL_ROUTES:
            allowed = sorted(m for m, n in CONTROL_ROUTES if n == name)
            if allowed:
                return refusal(405, f"Use {' or '.join(allowed)}.", headers=(("allow", ", ".join(allowed)),)).reply
            return refusal(404, f"Controls: {describe_controls()}.").reply
        if name == "rentals":
            rentals = [rental.as_json() for rental in self.store.rentals()]
            released = sum(1 for rental in rentals if rental["released_at"] is not None)
            # count: every number rented (released ones included); held + released = count.
            return Reply(200, {"count": len(rentals), "held": len(rentals) - released, "released": released,
                               "rentals": rentals})  # fmt: skip
        if name == "accounts":
            return Reply(200, self.store.audit(self.scenario))
        if name == "script":
            return self._script(body)
        self.reset()
        return Reply(200, {"reset": True})

    def _script(self, body: bytes) -> Reply:
        """`POST /__mock__/script` with `{"answers": [{"kind": "rate-limited"}, ...]}`."""
        try:
            answers = json.loads(body or b"{}").get("answers", [])
            queued = [odd_answer(**answer) for answer in answers]
        except (ValueError, TypeError, AttributeError, ScriptError) as error:
            return refusal(400, f'Send {{"answers": [{{"kind": ...}}]}}: {error}'[:1000]).reply
        self.script.push(*queued)
        return Reply(200, {"pending": self.script.pending()})


def describe_endpoints() -> str:
    """The operations the mock serves, e.g. for its start-up line and its 404s."""
    route = today_route()
    number = f"{' and '.join(route.methods)} {route.prefix}{{{route.parameter}}}{route.suffix}"
    return f"POST {ENDPOINT}; {number}"


def describe_controls() -> str:
    """The test controls, e.g. `GET /__mock__/rentals, ...`."""
    return ", ".join(f"{method} {CONTROLS}{name}" for method, name in CONTROL_ROUTES)


def build_app(
    scenario: Scenario,
    state_path: Path | None = None,
    *,
    controls: bool = True,
    rate_limit: int | None = None,
    choices: dict[str, str] | None = None,
) -> MockApp:
    """Build the app from a loaded scenario; `rate_limit` replaces the scenario's own limit.

    `choices` (`{choice id: reading id}`) picks readings of the contract's choices over the
    scenario's (ScenarioError naming the allowed ones if the contract lists no such reading).
    """
    if rate_limit is not None:
        scenario = dataclasses.replace(scenario, rate_limit=scenarios.RateLimit(rate_limit, 1.0))
    if choices:
        scenario = scenario.with_choices(choices)
    store: Store = SqliteStore(state_path) if state_path else MemoryStore()
    return MockApp(scenario, store, controls=controls)


def build(
    scenario_path: str | os.PathLike[str] | None = None,
    state_path: str | os.PathLike[str] | None = None,
    *,
    controls: bool = True,
    rate_limit: int | None = None,
    generation: str | None = None,
    choices: dict[str, str] | None = None,
) -> MockApp:
    """Build the app from a scenario file (default: the packaged one) and an optional state file.

    `rate_limit` (requests per second and credential) replaces the scenario's own limit;
    `generation` ("today" or "seed") the endpoint generation it emulates; `choices` the readings
    of the contract's choices it follows (`{"delete-success-body": "no-content"}`).
    """
    scenario = scenarios.load(Path(scenario_path) if scenario_path is not None else None)
    if generation is not None:
        if generation not in GENERATIONS:
            raise ScenarioError(f"generation must be one of {', '.join(GENERATIONS)}, not {generation!r}")
        scenario = dataclasses.replace(scenario, generation=generation)
    return build_app(
        scenario,
        Path(state_path) if state_path is not None else None,
        controls=controls,
        rate_limit=rate_limit,
        choices=choices,
    )


def from_environment() -> MockApp:
    """App factory for uvicorn worker processes, configured by the CLOSE_MOCK_* variables `serve` sets."""
    scenario = os.environ.get("CLOSE_MOCK_SCENARIO")
    state = os.environ.get("CLOSE_MOCK_STATE")
    return build(
        scenario or None,
        state or None,
        controls=os.environ.get("CLOSE_MOCK_CONTROLS", "1") == "1",
        rate_limit=int(os.environ["CLOSE_MOCK_RATE_LIMIT"]) if os.environ.get("CLOSE_MOCK_RATE_LIMIT") else None,
        generation=os.environ.get("CLOSE_MOCK_GENERATION") or None,
        choices=json.loads(os.environ.get("CLOSE_MOCK_CHOICES") or "{}"),
    )
