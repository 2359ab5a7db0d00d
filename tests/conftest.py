"""Shared fixtures: the mock in-process (ASGI) and over real HTTP on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conformance import contract
from conformance.mock import build
from conformance.mock.app import MockApp
from conformance.mock.server import MockServer

ENDPOINT = contract.API_PREFIX + contract.OPERATION_PATH
ADMIN = ("mock_admin_key", "")
MEMBER = ("mock_member_key", "")


def assert_matches_contract(response: httpx.Response) -> None:
    """The answer is documented, JSON, and valid against its schema (and headers required)."""
    name = contract.response_schema_name(response.status_code)
    assert name is not None, f"undocumented status {response.status_code}: {response.text}"
    assert response.headers["content-type"] == "application/json"
    errors = [e.message for e in contract.validator(name).iter_errors(response.json())]
    assert not errors, f"{response.status_code} body breaks {name}: {errors}\n{response.text}"
    documented = contract.operation()["responses"][str(response.status_code)].get("headers", {})
    for header in documented:
        assert header.lower() in response.headers, f"{response.status_code} lacks {header}"


@pytest.fixture(autouse=True)
def _state_in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Full runs without --report-dir keep their ledgers in $XDG_STATE_HOME: a temporary one, never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.getbasetemp() / "state"))


@pytest.fixture
def app() -> MockApp:
    return build()


@pytest.fixture
def client(app: MockApp) -> Iterator[httpx.Client]:
    """A client talking to the mock in-process; every endpoint answer is checked against the contract."""

    def check(response: httpx.Response) -> None:
        if response.request.url.path == ENDPOINT and response.request.method == "POST":
            response.read()
            assert_matches_contract(response)

    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    import asyncio

    class SyncASGI(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            async def run() -> httpx.Response:
                response = await transport.handle_async_request(request)
                content = await response.aread()
                return httpx.Response(response.status_code, headers=response.headers, content=content)

            return asyncio.run(run())

    with httpx.Client(transport=SyncASGI(), base_url="http://mock", event_hooks={"response": [check]}) as c:
        yield c


def rent(
    client: httpx.Client, body: Any, auth: tuple[str | bytes, str | bytes] | None = ADMIN, **kwargs: Any
) -> httpx.Response:
    if auth is not None:
        kwargs["auth"] = auth
    return client.post(ENDPOINT, json=body, **kwargs)


@pytest.fixture
def served() -> Iterator[MockServer]:
    """The default mock over real HTTP on 127.0.0.1:<free port>."""
    with MockServer(build()) as mock:
        yield mock


@pytest.fixture(autouse=True)
def _no_real_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may pick up a developer's real Close credentials."""
    for name in ("CLOSE_API_KEY", "CLOSE_BEARER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
