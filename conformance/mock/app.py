"""The mock as an ASGI application: routing, the endpoint pipeline and the test controls."""

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
from conformance.mock import scenario as scenarios
from conformance.mock.pipeline import Pipeline, receive_all
from conformance.mock.replies import Reply, refusal
from conformance.mock.script import Script, ScriptError, odd_answer
from conformance.mock.store import MemoryStore, SqliteStore, Store

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from conformance.mock.scenario import Scenario

ENDPOINT = contract.API_PREFIX + contract.OPERATION_PATH
CONTROLS = "/__mock__/"
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
        scripted = odd.reply() if odd is not None else None
        if scripted is not None:
            await receive_all(receive)
        reply = scripted or await self.dispatch(scope, receive)
        body = reply.encode()
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
        """Route a request to the endpoint, a control, or a 404/405."""
        path, method = scope["path"], scope["method"]
        if path == ENDPOINT:
            if method != "POST":
                return refusal(405, f"{method} is not allowed here; use POST.", headers=(("allow", "POST"),)).reply
            return await self.pipeline.handle(scope["headers"], receive)
        if self.controls and path.startswith(CONTROLS):
            body = await receive_all(receive, CONTROL_BODY_BYTES) if method == "POST" else b""
            return self.control(method, path[len(CONTROLS) :], body)
        return refusal(404, f"No endpoint at {path[:200]}; the mock serves POST {ENDPOINT}.").reply

    def control(self, method: str, name: str, body: bytes = b"") -> Reply:
        """Test controls, outside the contract: rentals, accounts (audit) and reset."""
        routes = {("GET", "rentals"), ("GET", "accounts"), ("POST", "reset"), ("POST", "script")}
        if (method, name) not in routes:
            allowed = sorted(m for m, n in routes if n == name)
            if allowed:
                return refusal(405, f"Use {' or '.join(allowed)}.", headers=(("allow", ", ".join(allowed)),)).reply
            return refusal(
                404,
                "Controls: GET /__mock__/rentals, GET /__mock__/accounts, POST /__mock__/reset, POST /__mock__/script.",
            ).reply
        if name == "rentals":
            rentals = [rental.as_json() for rental in self.store.rentals()]
            return Reply(200, {"count": len(rentals), "rentals": rentals})
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


def build_app(
    scenario: Scenario, state_path: Path | None = None, *, controls: bool = True, rate_limit: int | None = None
) -> MockApp:
    """Build the app from a loaded scenario; `rate_limit` replaces the scenario's own limit."""
    if rate_limit is not None:
        scenario = dataclasses.replace(scenario, rate_limit=scenarios.RateLimit(rate_limit, 1.0))
    store: Store = SqliteStore(state_path) if state_path else MemoryStore()
    return MockApp(scenario, store, controls=controls)


def build(
    scenario_path: str | os.PathLike[str] | None = None,
    state_path: str | os.PathLike[str] | None = None,
    *,
    controls: bool = True,
    rate_limit: int | None = None,
    generation: str | None = None,
) -> MockApp:
    """Build the app from a scenario file (default: the packaged one) and an optional state file.

    `rate_limit` (requests per second and credential) replaces the scenario's own limit;
    `generation` ("today" or "seed") the endpoint generation it emulates.
    """
    scenario = scenarios.load(Path(scenario_path) if scenario_path is not None else None)
    if generation is not None:
        if generation not in GENERATIONS:
            raise scenarios.ScenarioError(f"generation must be one of {', '.join(GENERATIONS)}, not {generation!r}")
        scenario = dataclasses.replace(scenario, generation=generation)
    return build_app(
        scenario, Path(state_path) if state_path is not None else None, controls=controls, rate_limit=rate_limit
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
    )
