"""A recording server that accepts everything: every POST rents (201), every request is kept."""

from __future__ import annotations

import copy
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from conformance import contract
from tests.suite.faulty import read_body, request_headers


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    authorization: str | None
    body: bytes


@dataclass
class RecordingServer:
    """ASGI app; `requests` holds what arrived, in order."""

    requests: list[Recorded] = field(default_factory=list)

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = request_headers(scope)
        self.requests.append(Recorded(scope["method"], scope["path"], headers.get("authorization"), body))
        example = copy.deepcopy(contract.load()["components"]["examples"]["RentedPhoneNumber"]["value"])
        example["id"] = f"phon_recorded{len(self.requests)}"
        payload = json.dumps(example).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})
