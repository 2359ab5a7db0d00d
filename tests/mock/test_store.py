"""State is never lost or double-counted: concurrency, budgets, restarts, several workers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from conformance.mock import build
from conformance.mock.server import MockServer
from conformance.mock.store import MemoryStore, SqliteStore
from tests.conftest import ENDPOINT
from tests.mock.servers import mock_process, scenario_with_budget

US = {"country": "US", "sharing": "personal", "prefix": "650"}


async def hammer(origin: str, count: int, body: dict | None = None) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(base_url=origin, auth=("mock_admin_key", ""), limits=limits, timeout=60) as client:
        return await asyncio.gather(*(client.post(ENDPOINT, json=body or US) for _ in range(count)))


def check_exactly(responses: list[httpx.Response], origin: str, rented: int) -> None:
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == rented, statuses
    assert set(statuses) <= {201, 400}
    assert all(r.json()["status"] == "billing-error" for r in responses if r.status_code == 400)
    numbers = [r.json()["number"] for r in responses if r.status_code == 201]
    assert len(set(numbers)) == rented
    audit = httpx.get(origin + "/__mock__/accounts").json()
    assert audit["consistent"], audit
    assert audit["rentals"] == rented
    assert audit["organizations"]["orga_mockAdmin"]["spent"] == float(rented)


def test_200_concurrent_rentals_against_a_budget_for_50_rent_exactly_50(tmp_path: Path) -> None:
    with MockServer(build(scenario_with_budget(tmp_path, 50))) as mock:
        check_exactly(asyncio.run(hammer(mock.origin, 200)), mock.origin, 50)


def test_two_workers_sharing_state_rent_exactly_the_budget(tmp_path: Path) -> None:
    scenario = scenario_with_budget(tmp_path, 50)
    with mock_process("--workers", "2", "--state", str(tmp_path / "state.sqlite3"), "--scenario", str(scenario)) as (
        origin,
        _,
    ):
        check_exactly(asyncio.run(hammer(origin, 200)), origin, 50)


def test_a_restart_with_state_keeps_every_acknowledged_rental(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    with mock_process("--state", str(state), kill=True) as (origin, _):
        acknowledged = {r.json()["id"] for r in asyncio.run(hammer(origin, 30)) if r.status_code == 201}
    assert len(acknowledged) == 30
    with mock_process("--state", str(state)) as (origin, _):
        kept = {rental["id"] for rental in httpx.get(origin + "/__mock__/rentals").json()["rentals"]}
        assert kept == acknowledged
        more = asyncio.run(hammer(origin, 5))
        assert all(r.status_code == 201 for r in more)
        assert not {r.json()["number"] for r in more} & {
            x["number"] for x in httpx.get(origin + "/__mock__/rentals").json()["rentals"][:30]
        }


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
def test_both_stores_rent_the_same_numbers_in_the_same_order(tmp_path: Path, store_kind: str) -> None:
    from conformance.mock import scenario as scenarios
    from conformance.mock.app import MockApp

    store = MemoryStore() if store_kind == "memory" else SqliteStore(tmp_path / "s.sqlite3")
    app = MockApp(scenarios.load(), store)
    with MockServer(app) as mock:
        numbers = [
            r.json()["number"]
            for r in [httpx.post(mock.origin + ENDPOINT, json=US, auth=("mock_admin_key", "")) for _ in range(5)]
        ]
    assert numbers == ["+16502345678", "+16509999999", "+16507654320", "+16505308641", "+16502962962"]


def test_a_state_file_of_another_schema_version_is_refused_and_left_untouched(tmp_path: Path) -> None:
    import sqlite3

    from conformance.mock.store import SCHEMA_VERSION, StateError

    path = tmp_path / "old.sqlite3"
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    with pytest.raises(StateError, match="another version's"):
        SqliteStore(path)
    assert path.read_bytes() == before
