"""Servers that misbehave at the transport level: they hang, hang up, dawdle or die mid-run.

Each is the faithful mock with one misbehaviour, so the suite's verdict must name exactly
that, within its deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from conformance.mock import build
from tests.suite.faulty import read_body

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _malformed(raw: bytes) -> bool:
    import json

    try:
        json.loads(raw)
    except ValueError:
        return bool(raw)
    return False


class Misbehaving:
    """ASGI app: the mock, except for requests `applies` picks, which get `misbehave`."""

    def __init__(self) -> None:
        self.mock = build()
        self.requests = 0

    def applies(self, raw: bytes) -> bool:
        """Whether this request gets the misbehaviour."""
        return _malformed(raw)

    async def misbehave(self, receive: Receive, send: Send) -> None:
        """What happens instead of an answer."""
        raise NotImplementedError

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.requests += 1
        raw = await read_body(receive)
        if self.applies(raw):
            await self.misbehave(receive, send)
            return

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.mock(scope, replay, send)


class NeverAnswersMalformedJSON(Misbehaving):
    """Like Prism: a body that is not JSON is never answered (until the client hangs up)."""

    async def misbehave(self, receive: Receive, send: Send) -> None:
        await receive()  # returns http.disconnect once the client gives up


class HangsUpOnMalformedJSON(Misbehaving):
    """Starts an answer to a body that is not JSON, then drops the connection."""

    async def misbehave(self, receive: Receive, send: Send) -> None:
        # Returning after the start of an answer makes the server close the connection mid-answer.
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})


class Slow(Misbehaving):
    """Answers every request faithfully, after a pause."""

    pause = 0.2

    def applies(self, raw: bytes) -> bool:
        return False

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await asyncio.sleep(self.pause)
        await super().__call__(scope, receive, send)


class CrashesMidRun(Misbehaving):
    """Serves `after` requests faithfully, then the process is gone (the listener is shut)."""

    after = 60
    stop: Callable[[], None] = staticmethod(lambda: None)

    def applies(self, raw: bytes) -> bool:
        return self.requests > self.after

    async def misbehave(self, receive: Receive, send: Send) -> None:
        self.stop()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
