"""Building clients from Close credentials: the right header, a default timeout, no secret in sight."""

from __future__ import annotations

import base64
import logging

import close_phone_numbers_client
import httpx
import pytest
from close_phone_numbers_client import DEFAULT_TIMEOUT, AuthenticatedClient, Client
from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number
from close_phone_numbers_client.models import PhoneNumber, PhoneNumberRequest, Sharing

from conformance.mock.server import MockServer

KEY = "canary_key_5e6f7a8b"


def test_from_api_key_sends_basic_with_the_key_and_an_empty_password(served: MockServer) -> None:
    seen: list[str] = []
    hooks = {"request": [lambda request: seen.append(request.headers["authorization"])]}
    with AuthenticatedClient.from_api_key(
        served.origin + "/api/v1", "mock_admin_key", httpx_args={"event_hooks": hooks}
    ) as client:
        answer = request_internal_phone_number.sync(client=client, body=PhoneNumberRequest(country="US"))
    assert isinstance(answer, PhoneNumber)
    assert seen == ["Basic " + base64.b64encode(b"mock_admin_key:").decode()]


@pytest.mark.anyio
async def test_from_oauth_token_sends_bearer_async(served: MockServer) -> None:
    with pytest.warns(DeprecationWarning, match="sharing"):
        group = PhoneNumberRequest(country="US", sharing=Sharing.GROUP)
    async with AuthenticatedClient.from_oauth_token(served.origin + "/api/v1", "mock_oauth_token") as client:
        answer = await request_internal_phone_number.asyncio(client=client, body=group)
    assert isinstance(answer, PhoneNumber)
    assert answer.is_group_number


def test_clients_have_a_default_timeout_that_can_be_changed() -> None:
    client = AuthenticatedClient.from_api_key("https://close.test/api/v1", KEY)
    assert client.get_httpx_client().timeout == DEFAULT_TIMEOUT
    assert DEFAULT_TIMEOUT.read is not None
    shorter = client.with_timeout(httpx.Timeout(2.0))
    assert shorter.get_httpx_client().timeout == httpx.Timeout(2.0)
    assert Client(base_url="https://close.test").get_httpx_client().timeout == DEFAULT_TIMEOUT


def test_the_key_never_shows_in_a_repr_or_log(served: MockServer, caplog: pytest.LogCaptureFixture) -> None:
    encoded = base64.b64encode(f"{KEY}:".encode()).decode()
    client = AuthenticatedClient.from_api_key(served.origin + "/api/v1", KEY, headers={"X-Trace": "1"})
    with caplog.at_level(logging.DEBUG), client:
        request_internal_phone_number.sync_detailed(client=client, body=PhoneNumberRequest(country="US"))
        text = repr(client) + str(client) + caplog.text
    assert KEY not in text
    assert encoded not in text


def test_the_public_api_is_what_all_lists() -> None:
    exported = {name for name in dir(close_phone_numbers_client) if not name.startswith("_")}
    modules = {"api", "client", "errors", "models", "types"}
    assert exported - modules == set(close_phone_numbers_client.__all__)
