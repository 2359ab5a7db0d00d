"""The generated client against the official `closeio` client and raw httpx."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import TYPE_CHECKING, Any

import httpx

from bench.harness import ADMIN_KEY, AUTH, Settings, bare_app_command, free_port, server

if TYPE_CHECKING:
    from collections.abc import Callable


def _compare(
    by_hand: Callable[[], None], generated: Callable[[], None], calls: int, repetitions: int
) -> dict[str, Any]:
    timings: dict[str, list[float]] = {"httpx": [], "client": []}
    for round_number in range(repetitions + 1):  # the first round warms up
        for label, call in (("httpx", by_hand), ("client", generated)):
            started = time.perf_counter()
            for _ in range(calls):
                call()
            if round_number:
                timings[label].append((time.perf_counter() - started) / calls)
    return _ratio(timings)


def _ratio(timings: dict[str, list[float]]) -> dict[str, Any]:
    hand, client = statistics.median(timings["httpx"]), statistics.median(timings["client"])
    return {
        "httpx_us_per_call": hand * 1e6,
        "client_us_per_call": client * 1e6,
        "ratio": client / hand,
        "spread_ratio": [
            min(timings["client"]) / max(timings["httpx"]),
            max(timings["client"]) / min(timings["httpx"]),
        ],
    }


def bench_client(settings: Settings, progress: Callable[[str], None]) -> dict[str, Any]:
    """Per-call time of the generated client vs hand-written httpx + JSON decoding, same server."""
    from close_phone_numbers_client import AuthenticatedClient
    from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number as endpoint
    from close_phone_numbers_client.models import PhoneNumberRequest

    calls = 50 if settings.smoke else 2000
    body = PhoneNumberRequest(country="US", prefix="650")
    raw = body.to_dict()
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    results: dict[str, Any] = {}
    with server(bare_app_command(port), port):
        with (
            AuthenticatedClient.from_api_key(base, ADMIN_KEY) as client,
            httpx.Client(base_url=base, headers={"authorization": AUTH}) as hand,
        ):

            def by_hand() -> None:
                hand.post("/phone_number/request/internal/", json=raw).json()

            def generated() -> None:
                endpoint.sync_detailed(client=client, body=body)

            results["sync"] = _compare(by_hand, generated, calls, settings.repetitions)

        async def async_pair() -> dict[str, Any]:
            async with (
                AuthenticatedClient.from_api_key(base, ADMIN_KEY) as client,
                httpx.AsyncClient(base_url=base, headers={"authorization": AUTH}) as hand,
            ):

                async def by_hand() -> None:
                    (await hand.post("/phone_number/request/internal/", json=raw)).json()

                async def generated() -> None:
                    await endpoint.asyncio_detailed(client=client, body=body)

                timings: dict[str, list[float]] = {"httpx": [], "client": []}
                for round_number in range(settings.repetitions + 1):  # the first round warms up
                    for label, call in (("httpx", by_hand), ("client", generated)):
                        started = time.perf_counter()
                        for _ in range(calls):
                            await call()
                        if round_number:
                            timings[label].append((time.perf_counter() - started) / calls)
                return _ratio(timings)

        results["async"] = asyncio.run(async_pair())
    progress(f"  client/httpx per call: sync {results['sync']['ratio']:.3f}x, async {results['async']['ratio']:.3f}x")
    return results
