"""Load and crashes: nothing lost, nothing rented twice, books balanced, memory steady."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx

from tests.conftest import ENDPOINT
from tests.mock.servers import free_port, mock_process

RENTAL = {"country": "US", "sharing": "personal", "prefix": "65"}
REFUSALS = [
    {"country": "GB", "sharing": "personal", "prefix": "20"},  # has-voice-only
    {"country": "us", "sharing": "personal"},  # validation
    {"country": "DE", "sharing": "personal", "with_sms": False},  # needs-more-info
    {"country": "US", "sharing": "personal", "prefix": "999"},  # 404
]
CLIENTS, REQUESTS_PER_CLIENT = 40, 50


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def client_run(origin: str, index: int, results: list[tuple[int, dict]]) -> None:
    async with httpx.AsyncClient(base_url=origin, auth=("mock_admin_key", ""), timeout=60) as client:
        for n in range(REQUESTS_PER_CLIENT):
            body = RENTAL if (index + n) % 2 == 0 else REFUSALS[(index + n) % len(REFUSALS)]
            response = await client.post(ENDPOINT, json=body)
            results.append((response.status_code, response.json()))


def test_many_concurrent_clients_lose_nothing_and_keep_memory_steady(tmp_path: Path) -> None:
    with mock_process("--state", str(tmp_path / "load.sqlite3")) as (origin, running):
        pid = running.process.pid
        results: list[tuple[int, dict]] = []

        async def load(rounds: int) -> None:
            for _ in range(rounds):
                await asyncio.gather(*(client_run(origin, i, results) for i in range(CLIENTS)))

        asyncio.run(load(1))  # warm up: imports, caches, connection pools
        baseline = rss_kib(pid)
        asyncio.run(load(2))
        after = rss_kib(pid)
        audit = httpx.get(origin + "/__mock__/accounts").json()
        rentals = httpx.get(origin + "/__mock__/rentals").json()["rentals"]
    statuses = [status for status, _ in results]
    assert len(results) == 3 * CLIENTS * REQUESTS_PER_CLIENT
    assert 500 not in statuses
    assert set(statuses) <= {201, 400, 404}
    acknowledged = {body["id"] for status, body in results if status == 201}
    assert len(acknowledged) == statuses.count(201) == 3 * CLIENTS * REQUESTS_PER_CLIENT // 2
    assert {rental["id"] for rental in rentals} == acknowledged
    assert len({rental["number"] for rental in rentals}) == len(rentals)
    assert audit["consistent"]
    assert audit["organizations"]["orga_mockAdmin"]["spent"] == float(len(acknowledged))
    # State lives in SQLite, so 4,000 more requests (2,000 rentals) must not grow the process much.
    assert after - baseline < 20 * 1024, (baseline, after)


def test_sigkill_in_the_middle_of_a_load_loses_no_acknowledged_rental(tmp_path: Path) -> None:
    state = tmp_path / "crash.sqlite3"
    port = free_port()
    acknowledged: set[str] = set()
    failures = 0
    with mock_process("--state", str(state), port=port, kill=True) as (origin, running):

        async def hammer() -> None:
            nonlocal failures
            async with httpx.AsyncClient(base_url=origin, auth=("mock_admin_key", ""), timeout=10) as client:

                async def one() -> None:
                    nonlocal failures
                    while True:
                        try:
                            response = await client.post(ENDPOINT, json=RENTAL)
                        except httpx.TransportError:
                            failures += 1
                            return
                        if response.status_code == 201:
                            acknowledged.add(response.json()["id"])

                async def killer() -> None:
                    while len(acknowledged) < 300:  # noqa: ASYNC110 - polling a count, not waiting for an event
                        await asyncio.sleep(0.01)
                    running.process.send_signal(signal.SIGKILL)

                await asyncio.wait_for(asyncio.gather(killer(), *(one() for _ in range(20))), timeout=120)

        asyncio.run(hammer())
    assert failures == 20  # every client saw the server die mid-load
    started = time.monotonic()
    # A restart on a new port: what must survive is the state file, not the address.
    with mock_process("--state", str(state), port=free_port()) as (origin, _):
        kept = {rental["id"] for rental in httpx.get(origin + "/__mock__/rentals").json()["rentals"]}
        audit = httpx.get(origin + "/__mock__/accounts").json()
        after_restart = httpx.post(origin + ENDPOINT, json=RENTAL, auth=("mock_admin_key", ""))
    assert time.monotonic() - started < 60
    assert acknowledged <= kept, f"lost {len(acknowledged - kept)} acknowledged rentals"
    assert audit["consistent"], audit  # no half-written rental: counters match the rentals
    assert after_restart.status_code == 201
