"""Helpers: a client whose transport is an httpx.MockTransport, in both sync and async flavours."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from close_phone_numbers_client import AuthenticatedClient, RetryPolicy
from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number as endpoint
from close_phone_numbers_client.models import PhoneNumberRequest

BASE = "https://close.test/api/v1"
BODY = PhoneNumberRequest(country="US")


def client_for(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> AuthenticatedClient:
    client = AuthenticatedClient.from_api_key(BASE, "canary_key_123", **kwargs)
    transport = httpx.MockTransport(handler)
    client.set_httpx_client(httpx.Client(base_url=BASE, transport=transport, headers={"Authorization": "Basic x"}))
    client.set_async_httpx_client(httpx.AsyncClient(base_url=BASE, transport=transport))
    return client


async def _async_call(client: AuthenticatedClient, detailed: bool) -> Any:
    if detailed:
        return await endpoint.asyncio_detailed(client=client, body=BODY)
    return await endpoint.asyncio(client=client, body=BODY)


def call(client: AuthenticatedClient, mode: str, *, detailed: bool = True) -> Any:
    """Call the endpoint the sync or the async way."""
    import asyncio

    if mode == "sync":
        return endpoint.sync_detailed(client=client, body=BODY) if detailed else endpoint.sync(client=client, body=BODY)
    return asyncio.run(_async_call(client, detailed))


NO_WAIT = RetryPolicy(max_retries=3, max_wait=5.0, default_wait=0.0)


NUMBER_ID = "phon_4XrFk2P0e8bV1cQz9mWyTn"


async def _async_number_call(operation: Any, client: AuthenticatedClient, how: str, number_id: str) -> Any:
    if how == "detailed":
        return await operation.asyncio_detailed(number_id, client=client)
    if how == "or_raise":
        return await operation.asyncio_or_raise(number_id, client=client)
    return await operation.asyncio(number_id, client=client)


def call_number(
    operation: Any, client: AuthenticatedClient, mode: str, how: str = "detailed", number_id: str = NUMBER_ID
) -> Any:
    """Call `get_phone_number` or `delete_phone_number` the sync or the async way (`how`: detailed, plain, or_raise)."""
    import asyncio

    if mode == "sync":
        if how == "detailed":
            return operation.sync_detailed(number_id, client=client)
        if how == "or_raise":
            return operation.sync_or_raise(number_id, client=client)
        return operation.sync(number_id, client=client)
    return asyncio.run(_async_number_call(operation, client, how, number_id))
