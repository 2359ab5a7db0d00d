"""The ceiling of the Python stack: a bare ASGI app under uvicorn answering a fixed body."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from conformance import contract

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

BODY = json.dumps(contract.load()["components"]["examples"]["RentedPhoneNumber"]["value"]).encode()
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    """Read the request, answer 201 with the contract's example Phone Number."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 201, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
