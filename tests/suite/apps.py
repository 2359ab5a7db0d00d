"""What an app does with the endpoint, for recordings and the proxy: one place, shared by the tests."""

from __future__ import annotations

import gzip
from typing import Any

from close_phone_numbers_client import AuthenticatedClient
from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number
from close_phone_numbers_client.models import PhoneNumberRequest


def traffic(base_url: str, key: str = "mock_admin_key") -> None:
    """What an app does: rent a few numbers, meet a refusal, send one bad request."""
    with AuthenticatedClient.from_api_key(base_url, key) as client:
        for request in (
            PhoneNumberRequest(country="US", prefix="650"),
            PhoneNumberRequest(country="CA"),
            PhoneNumberRequest(country="DE"),  # needs-more-info
            PhoneNumberRequest(country="US", prefix="99999"),  # nothing there: 404
        ):
            request_internal_phone_number.sync_detailed(client=client, body=request)
        client.get_httpx_client().post("/phone_number/request/internal/", content=b'{"country": "US", "x": 1}',
                                       headers={"content-type": "application/json"})  # fmt: skip
        client.get_httpx_client().get("/me/")  # another endpoint: counted and skipped


class Gzipped:
    """An ASGI wrapper that gzips every answer, as Close's servers and most CDNs do."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def compress(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                body = gzip.compress(b"".join(chunks))
                headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                headers += [(b"content-encoding", b"gzip"), (b"content-length", str(len(body)).encode())]
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, compress)
