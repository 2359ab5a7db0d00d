"""The pytest plugin: the mock in your own test suite, as the `close_mock` fixture.

Installed with the package and registered through the `pytest11` entry point, so no conftest
is needed::

    def test_rents(close_mock):
        number = request_internal_phone_number.sync(client=close_mock.client(), body=PhoneNumberRequest(country="US"))
        assert close_mock.rentals[0].number == number.number

* One mock server per test session (per xdist worker), on a free loopback port; each test
  starts clean (rentals, budgets, inventory, queued odd answers, rate limits).
* `close_mock.next_answers("rate-limited", "drop", ...)` or `@pytest.mark.close_mock(answers=[...])`
  make the next requests get odd answers, for your retry and error handling.
* `@pytest.mark.close_mock(scenario="path.yaml", generation="seed")` serves another scenario or
  generation (one server per combination, started on first use).
* Calls to `api.close.com` fail with a clear message unless the test is marked
  `@pytest.mark.close_live(max_rentals=N)`; even then at most N rentals go out.

Options: `--close-mock-scenario PATH`, `--close-mock-generation today|seed` (defaults for every test).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance import contract
from conformance.mock.app import MockApp, build
from conformance.mock.script import KINDS, OddAnswer, ScriptError, odd_answer
from conformance.mock.server import MockServer

if TYPE_CHECKING:
    from collections.abc import Iterator

    from conformance.mock.model import Rental

LIVE_HOSTS = ("api.close.com", "app.close.com")
MARKERS = {
    "close_mock": "close_mock(scenario=None, generation=None, answers=()): the mock this test gets, "
    "and odd answers queued for its first requests",
    "close_live": "close_live(max_rentals=N): this test may call api.close.com, renting at most N numbers",
}


class LiveCallBlocked(ConnectionRefusedError):  # noqa: N818 - reads as what happened: LiveCallBlocked(...)
    """A test tried to reach the live Close API without `@pytest.mark.close_live`."""


@dataclass
class CloseMock:
    """What `close_mock` gives a test: the mock's address, credentials, ready clients and its rentals."""

    app: MockApp
    origin: str
    _ssl: ssl.SSLContext = field(repr=False)  # the session's: building one per client is slow; the mock is plain HTTP
    _clients: list[Any] = field(default_factory=list, repr=False)  # made for this test, closed after it
    _by_role: dict[str, Any] = field(default_factory=dict, repr=False)  # this test's client of each role

    @property
    def base_url(self) -> str:
        """The API base to give your code, ending in `/api/v1`."""
        return self.origin + contract.API_PREFIX

    @property
    def api_keys(self) -> dict[str, str]:
        """API keys by role (the scenario's `roles`), and by `user_...` id.

        `admin` may rent anything, `member` lacks "Manage Team Phone Numbers", `broke` has a
        nearly spent budget.
        """
        scenario = self.app.scenario
        by_role = {}
        for role in scenario.roles:
            with contextlib.suppress(KeyError):
                by_role[role] = scenario.api_key_of(role)
        return by_role | {user.id: key for key, user in scenario.api_keys.items()}

    @property
    def oauth_token(self) -> str | None:
        """An OAuth token of the scenario (the admin's in the default scenario)."""
        return next(iter(self.app.scenario.oauth_tokens), None)

    def api_key(self, role: str = "admin") -> str:
        """The API key of a role (see `api_keys`)."""
        keys = self.api_keys
        if role not in keys:
            raise KeyError(f"no {role!r} credential in this scenario; roles: {', '.join(keys)}")
        return keys[role]

    @property
    def rentals(self) -> list[Rental]:
        """What this test rented, oldest first."""
        return self.app.store.rentals()

    def reset(self) -> None:
        """Start afresh within a test: no rentals, no queued odd answers, full rate limits."""
        self.app.reset()

    def next_answers(self, *answers: str | Mapping[str, Any] | OddAnswer, **options: float) -> None:
        """Queue odd answers for the next requests to the endpoint, in order.

        Kinds: rate-limited, server-error, drop, slow, sold-out, has-voice-only,
        needs-more-info, billing-error. Each answer is a kind (`"drop"`), a dict as
        `POST /__mock__/script` takes them (`{"kind": "server-error", "status": 500}`) or an
        `OddAnswer`. Options: `reset` (seconds, rate-limited), `status` (server-error), `delay`
        (seconds, slow); keyword options apply to every kind or dict given, a dict's own win.
        A bad answer raises `ScriptError` and queues none of them.
        """
        queued = [_odd_answer(answer, options) for answer in answers]
        self.app.script.push(*queued)

    def client(self, role: str = "admin", **options: Any) -> Any:
        """The generated client (`close_phone_numbers_client`), authenticated as `role`.

        One per role for this test (the same object on every call without options); with options
        (`timeout=`, `retry=`, ...) a new one. Either may be used as a context manager, sync or
        async, and each is closed after the test, so no connection outlives the test's event loop.
        """
        try:
            import httpx
            from close_phone_numbers_client import AuthenticatedClient
        except ImportError:
            raise pytest.UsageError(
                "close_mock.client needs the generated client: pip install close-phone-numbers-client"
            ) from None
        plain = not options
        if plain and role in self._by_role:
            return self._by_role[role]
        options.setdefault("verify_ssl", self._ssl)
        # No idle connection is kept, so none is left behind when an async test's event loop ends
        # (a loopback connect per request costs about 0.1 ms).
        options.setdefault("httpx_args", {"limits": httpx.Limits(max_keepalive_connections=0)})
        made = AuthenticatedClient.from_api_key(self.base_url, self.api_key(role), **options)
        self._clients.append(made)
        if plain:
            self._by_role[role] = made
        return made

    def closeio(self, role: str = "admin") -> Any:
        """The official client (`closeio_api.API`), authenticated as `role`."""
        try:
            from closeio_api import API
        except ImportError:
            raise pytest.UsageError("close_mock.closeio needs the official client: pip install closeio") from None
        return API(self.base_url + "/", api_key=self.api_key(role))

    def _close(self) -> None:
        for made in self._clients:
            if made._client is not None:  # noqa: SLF001 - only what the test used: the generated client's own
                made._client.close()  # noqa: SLF001
            if made._async_client is not None and not made._async_client.is_closed and not _loop_running():  # noqa: SLF001
                # It keeps no idle connection (see `client`); closing marks it closed.
                with contextlib.suppress(Exception):
                    asyncio.run(made._async_client.aclose())  # noqa: SLF001


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _odd_answer(answer: object, options: dict[str, float]) -> OddAnswer:
    """One odd answer from a kind, a `POST /__mock__/script` dict or an `OddAnswer`."""
    if isinstance(answer, OddAnswer):
        return answer
    if isinstance(answer, str):
        return odd_answer(answer, **options)
    if isinstance(answer, Mapping):
        fields = dict(answer)
        kind = fields.pop("kind", None)
        if isinstance(kind, str) and all(isinstance(name, str) for name in fields):
            return odd_answer(kind, **(options | fields))
        raise ScriptError(
            f'an odd answer given as a dict needs "kind" (a string) and named options, '
            f'like {{"kind": "server-error", "status": 503}}; got {answer!r}'
        )
    raise ScriptError(
        f'an odd answer is a kind ("drop"), a dict ({{"kind": "server-error", "status": 503}}) '
        f"or an OddAnswer; got {answer!r}; kinds: {', '.join(KINDS)}"
    )


# -- hooks and fixtures ---------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--close-mock-scenario` and `--close-mock-generation`."""
    group = parser.getgroup("close-mock", "Close phone number mock")
    group.addoption(
        "--close-mock-scenario", metavar="PATH", help="scenario file for the close_mock fixture (default: packaged)"
    )
    group.addoption(
        "--close-mock-generation",
        choices=contract.GENERATIONS,
        help="endpoint generation the close_mock fixture emulates (default: the scenario's, else today)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers, so `--strict-markers` accepts them."""
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


class _Servers:
    """The session's mock servers, one per (scenario, generation), started on first use."""

    def __init__(self) -> None:
        self.running: dict[tuple[str | None, str | None], tuple[MockServer, MockApp]] = {}
        self.lock = threading.Lock()
        self.ssl = ssl.create_default_context()

    def get(self, scenario: str | None, generation: str | None) -> tuple[MockServer, MockApp]:
        key = (scenario, generation)
        with self.lock:
            if key not in self.running:
                try:
                    app = build(scenario, generation=generation)
                except (ValueError, OSError) as error:
                    raise pytest.UsageError(f"close_mock: {error}") from None
                server = MockServer(app)
                server.__enter__()
                self.running[key] = (server, app)
            return self.running[key]

    def stop(self) -> None:
        for server, _app in self.running.values():
            server.__exit__(None, None, None)
        self.running.clear()


@pytest.fixture(scope="session")
def close_mock_servers() -> Iterator[_Servers]:
    """The session's mock servers (one per xdist worker, since each worker is its own session)."""
    servers = _Servers()
    yield servers
    servers.stop()


@pytest.fixture
def close_mock(request: pytest.FixtureRequest, close_mock_servers: _Servers) -> Iterator[CloseMock]:
    """The mock, clean for this test: see the module docstring."""
    marker = request.node.get_closest_marker("close_mock")
    settings: dict[str, Any] = dict(marker.kwargs) if marker else {}
    unknown = set(settings) - {"scenario", "generation", "answers"}
    if unknown:
        raise pytest.UsageError(f"close_mock marker: unknown argument(s) {', '.join(sorted(unknown))}")
    scenario = settings.get("scenario") or request.config.getoption("--close-mock-scenario")
    if scenario is not None:
        scenario = str(Path(scenario).resolve())
    generation = settings.get("generation") or request.config.getoption("--close-mock-generation")
    server, app = close_mock_servers.get(scenario, generation)
    app.reset()
    mock = CloseMock(app, server.origin, close_mock_servers.ssl)
    try:
        mock.next_answers(*settings.get("answers", ()))
    except ScriptError as error:
        raise pytest.UsageError(f"close_mock marker: {error}") from None
    yield mock
    mock._close()  # noqa: SLF001 - the fixture owns the clients it made


# -- live calls -----------------------------------------------------------------------------------


def _is_live(host: object) -> bool:
    name = host.decode() if isinstance(host, bytes) else str(host)
    return name.lower().rstrip(".") in LIVE_HOSTS


@pytest.fixture(autouse=True)
def _close_live_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Block api.close.com unless the test opts in with `close_live(max_rentals=N)`, and cap its rentals."""
    marker = request.node.get_closest_marker("close_live")
    if marker is None:
        refusal = (
            f"{request.node.nodeid} tried to reach api.close.com, the live Close API, where renting costs money. "
            "Use the close_mock fixture, or mark the test @pytest.mark.close_live(max_rentals=N)."
        )
        _guard_live(monkeypatch, None, refusal)
        return
    cap = marker.kwargs.get("max_rentals")
    if not isinstance(cap, int) or isinstance(cap, bool) or cap < 0:
        raise pytest.UsageError("close_live needs max_rentals=N (N >= 0): renting costs money")
    _guard_live(monkeypatch, cap, f"close_live(max_rentals={cap}): the cap is reached; this request was not sent")


class _LiveGuard:
    """Stops requests to the live API: all of them (`cap` None) or rentals past `cap`."""

    def __init__(self, cap: int | None, refusal: str) -> None:
        self.cap = cap
        self.refusal = refusal
        self.rented = 0

    @staticmethod
    def live(url: str) -> bool:
        return _is_live(url.split("//", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0])

    def is_rental(self, url: str, method: str) -> bool:
        return self.live(url) and method.upper() == "POST" and contract.OPERATION_PATH in url

    def check(self, url: str, method: str) -> None:
        """Raise LiveCallBlocked before a request that must not go out."""
        if self.live(url) and (self.cap is None or (self.is_rental(url, method) and self.rented >= self.cap)):
            raise LiveCallBlocked(self.refusal)

    def count(self, url: str, method: str, status: int) -> None:
        """Count a rental the live API answered."""
        if self.is_rental(url, method) and 200 <= status < 300:
            self.rented += 1


def _guard_live(monkeypatch: pytest.MonkeyPatch, cap: int | None, refusal: str) -> None:
    """Install the guard on httpx, requests, and host name resolution.

    httpx and requests are checked before they send (so the error is `LiveCallBlocked`
    itself); any other client is stopped when it resolves the host name.
    """
    import httpx

    guard = _LiveGuard(cap, refusal)
    if cap is None:
        real_getaddrinfo = socket.getaddrinfo

        def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
            if _is_live(host):
                raise LiveCallBlocked(refusal)
            return real_getaddrinfo(host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", resolve)
    original_sync = httpx.HTTPTransport.handle_request
    original_async = httpx.AsyncHTTPTransport.handle_async_request

    def sync(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        guard.check(str(request.url), request.method)
        response = original_sync(self, request)
        guard.count(str(request.url), request.method, response.status_code)
        return response

    async def asynchronous(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        guard.check(str(request.url), request.method)
        response = await original_async(self, request)
        guard.count(str(request.url), request.method, response.status_code)
        return response

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", sync)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", asynchronous)
    try:
        import requests.adapters
    except ImportError:
        return
    original_send = requests.adapters.HTTPAdapter.send

    def send(self: Any, prepared: Any, *args: Any, **kwargs: Any) -> Any:
        guard.check(str(prepared.url), str(prepared.method))
        response = original_send(self, prepared, *args, **kwargs)
        guard.count(str(prepared.url), str(prepared.method), response.status_code)
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)


__all__ = ["KINDS", "CloseMock", "LiveCallBlocked", "close_mock", "close_mock_servers"]
