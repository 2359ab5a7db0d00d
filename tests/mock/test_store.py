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

    from conformance.errors import StateError
    from conformance.mock.store import SCHEMA_VERSION

    path = tmp_path / "old.sqlite3"
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    with pytest.raises(StateError, match="another version's"):
        SqliteStore(path)
    assert path.read_bytes() == before


# -- releases: atomic in both stores, across threads and worker processes, kept across restarts ----


def _store(kind: str, tmp_path: Path):
    return MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "s.sqlite3")


def _rent_one(store, number: str = "+16505550100", rental_id: str = "phon_one"):
    from conformance.mock import scenario as scenarios
    from conformance.mock.model import Rental, Rented
    from conformance.mock.rules import Order, plan

    world = scenarios.load()
    admin = world.users["user_mockAdmin"]
    offers = plan(world, admin, Order.from_body({"country": "US", "prefix": "650"}))

    def make(block, candidate):
        return Rental(rental_id, candidate.e164, block.id, "orga_mockAdmin", admin.id, block.price_cents,
                      {"id": rental_id, "is_group_number": False, "participants": [admin.id]})  # fmt: skip

    outcome = store.rent(admin.organization, offers, make)
    assert isinstance(outcome, Rented)
    return world, outcome.rental


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
def test_release_marks_once_and_keeps_spent_and_used(tmp_path: Path, store_kind: str) -> None:
    store = _store(store_kind, tmp_path)
    world, rental = _rent_one(store)
    assert store.find("orga_mockAdmin", rental.id).held
    assert store.find("orga_mockBroke", rental.id) is None  # another organization's
    assert store.release("orga_mockBroke", rental.id, "2026-12-01T00:00:00+00:00") is None
    released = store.release("orga_mockAdmin", rental.id, "2026-12-01T00:00:00+00:00")
    assert released is not None
    assert released.released_at == "2026-12-01T00:00:00+00:00"
    assert store.release("orga_mockAdmin", rental.id, "2026-12-02T00:00:00+00:00") is None  # twice: once
    assert store.find("orga_mockAdmin", rental.id).released_at == "2026-12-01T00:00:00+00:00"
    assert store.release("orga_mockAdmin", "phon_unknown", "2026-12-01T00:00:00+00:00") is None
    audit = store.audit(world)
    assert audit["consistent"], audit
    assert (audit["rentals"], audit["held"], audit["released"]) == (1, 0, 1)
    assert audit["organizations"]["orga_mockAdmin"]["spent"] == rental.price_cents / 100
    assert audit["blocks"][rental.block_id]["rented"] == 1
    store.reset()
    assert store.rentals() == []
    assert store.releases() == {}


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
def test_concurrent_releases_of_one_number_release_it_exactly_once(tmp_path: Path, store_kind: str) -> None:
    import threading

    store = _store(store_kind, tmp_path)
    world, rental = _rent_one(store)
    start = threading.Barrier(16)
    won: list[object] = []

    def release() -> None:
        start.wait()
        won.append(store.release("orga_mockAdmin", rental.id, "2026-12-01T00:00:00+00:00"))

    threads = [threading.Thread(target=release) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result is not None for result in won) == 1
    assert store.releases() == {"orga_mockAdmin": 1}
    assert store.audit(world)["consistent"]


async def _release_all(origin: str, ids: list[str]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(ids))
    async with httpx.AsyncClient(base_url=origin, auth=("mock_admin_key", ""), limits=limits, timeout=60) as client:
        return await asyncio.gather(*(client.delete(f"/api/v1/phone_number/{number_id}/") for number_id in ids))


def test_50_concurrent_deletes_of_one_number_over_http_release_it_once() -> None:
    with MockServer(build()) as mock:
        number = httpx.post(mock.origin + ENDPOINT, json=US, auth=("mock_admin_key", "")).json()
        answers = asyncio.run(_release_all(mock.origin, [number["id"]] * 50))
        audit = httpx.get(mock.origin + "/__mock__/accounts").json()
    assert sorted(r.status_code for r in answers) == [200] + [404] * 49
    assert audit["consistent"]
    assert audit["released"] == 1


def test_two_workers_sharing_state_release_a_number_once(tmp_path: Path) -> None:
    with mock_process("--workers", "2", "--state", str(tmp_path / "state.sqlite3")) as (origin, _):
        rented = [r.json()["id"] for r in asyncio.run(hammer(origin, 10))]
        answers = asyncio.run(_release_all(origin, rented * 8))  # each number deleted 8 times at once
        audit = httpx.get(origin + "/__mock__/accounts").json()
        shown = httpx.get(origin + "/__mock__/rentals").json()
    assert [r.status_code for r in answers].count(200) == 10
    assert audit["consistent"], audit
    assert (audit["held"], audit["released"]) == (0, 10)
    assert shown["released"] == 10


def test_a_restart_with_state_keeps_releases(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    with mock_process("--state", str(state), kill=True) as (origin, _):
        first, second = (r.json()["id"] for r in asyncio.run(hammer(origin, 2)))
        assert httpx.delete(f"{origin}/api/v1/phone_number/{first}/", auth=("mock_admin_key", "")).status_code == 200
    with mock_process("--state", str(state)) as (origin, _):
        auth = ("mock_admin_key", "")
        assert httpx.get(f"{origin}/api/v1/phone_number/{first}/", auth=auth).status_code == 404
        assert httpx.get(f"{origin}/api/v1/phone_number/{second}/", auth=auth).status_code == 200
        audit = httpx.get(origin + "/__mock__/accounts").json()
    assert audit["consistent"]
    assert (audit["held"], audit["released"]) == (1, 1)


VERSION_1_SCHEMA = """
CREATE TABLE rentals (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, number TEXT NOT NULL UNIQUE,
    block_id TEXT NOT NULL, organization_id TEXT NOT NULL, user_id TEXT, price_cents INTEGER NOT NULL,
    resource BLOB NOT NULL);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO rentals (id, number, block_id, organization_id, user_id, price_cents, resource) VALUES
    ('phon_old', '+16502345678', 'US-0-local-650', 'orga_mockAdmin', 'user_mockAdmin', 100,
     '{"id": "phon_old", "is_group_number": false, "participants": ["user_mockAdmin"]}');
INSERT INTO counters VALUES ('spent orga_mockAdmin', 100), ('used US-0-local-650', 1),
    ('position US-0-local-650 650', 1);
PRAGMA user_version = 1;
"""


def test_a_version_1_state_file_is_migrated_without_losing_anything(tmp_path: Path) -> None:
    import sqlite3

    from conformance.mock import scenario as scenarios
    from conformance.mock.store import SCHEMA_VERSION

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(VERSION_1_SCHEMA)
    store = SqliteStore(path)
    [old] = store.rentals()
    assert (old.id, old.held) == ("phon_old", True)
    assert store.audit(scenarios.load())["consistent"]
    assert store.release("orga_mockAdmin", "phon_old", "2026-12-01T00:00:00+00:00") is not None
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    again = SqliteStore(path)
    kept = again.find("orga_mockAdmin", "phon_old")
    assert kept is not None
    assert kept.released_at == "2026-12-01T00:00:00+00:00"
    again.close()
