"""429 is waited for and retried within bounds; nothing the server may have acted on is retried."""

from __future__ import annotations

import httpx
import pytest
from close_phone_numbers_client import RetryPolicy

from conformance import contract
from tests.client.odd import call, client_for

MODES = ["sync", "async"]
RENTED = contract.load()["components"]["examples"]["RentedPhoneNumber"]["value"]


def limited_then_ok(headers: dict[str, str], body: dict | None = None, times: int = 1):
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) <= times:
            return httpx.Response(429, headers=headers, json=body or {"error": {"message": "slow", "rate_reset": 0}})
        return httpx.Response(201, json=RENTED)

    return handler, calls


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"ratelimit": "limit=160, remaining=0, reset=8"}, None, 8.0),
        ({"ratelimit": "limit=160; remaining=0; reset=3"}, None, 3.0),
        ({"retry-after": "5"}, None, 5.0),
        ({}, {"error": {"message": "slow", "rate_reset": 0.87}}, 0.87),
        ({"retry-after": "2", "ratelimit": "limit=1, remaining=0, reset=4"}, None, 4.0),
        ({}, {"error": "no details"}, 1.0),
    ],
    ids=["ratelimit-commas", "ratelimit-semicolons", "retry-after", "rate_reset", "longest-wins", "default"],
)
def test_429_waits_as_asked_then_retries(
    mode: str, headers: dict, body: dict | None, expected: float, slept: list[float]
) -> None:
    handler, calls = limited_then_ok(headers, body)
    response = call(client_for(handler), mode)
    assert response.status_code == 201
    assert response.attempts == 2
    assert len(calls) == 2
    assert slept == [pytest.approx(expected)]


@pytest.mark.parametrize("mode", MODES)
def test_retries_are_bounded(mode: str, slept: list[float]) -> None:
    handler, calls = limited_then_ok({"retry-after": "1"}, times=100)
    response = call(client_for(handler, retry=RetryPolicy(max_retries=2)), mode)
    assert response.status_code == 429
    assert len(calls) == 3
    assert len(slept) == 2


@pytest.mark.parametrize("mode", MODES)
def test_a_wait_longer_than_max_wait_is_not_waited_for(mode: str, slept: list[float]) -> None:
    handler, calls = limited_then_ok({"retry-after": "3600"})
    response = call(client_for(handler), mode)
    assert response.status_code == 429
    assert len(calls) == 1
    assert slept == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_never_retried(mode: str, status: int, slept: list[float]) -> None:
    calls: list[httpx.Request] = []

    def failing(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status, headers={"retry-after": "1"})

    response = call(client_for(failing), mode)
    assert response.status_code == status
    assert len(calls) == 1
    assert slept == []
