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
* Beside pytest-httpx and respx: the clients it hands out always reach the mock (those never see
  that traffic), and the test's other httpx calls stay theirs (see "The mock's own traffic").

Options: `--close-mock-scenario PATH`, `--close-mock-generation today|seed` (defaults for every test).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import socket
import ssl
import threading
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpcore
import httpx
import pytest
from httpx._transports.default import map_httpcore_exceptions  # httpx's own (httpx is pinned exactly)

from conformance import contract
from conformance.mock.app import MockApp, build
from conformance.mock.script import KINDS, OddAnswer, ScriptError, odd_answer
from conformance.mock.server import MockServer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

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
        pytest-httpx and respx never see its requests to the mock (see "The mock's own traffic").
        """
        try:
            from close_phone_numbers_client import AuthenticatedClient
        except ImportError:
            raise pytest.UsageError(
                "close_mock.client needs the generated client: pip install close-phone-numbers-client"
            ) from None
        plain = not options
        if plain and role in self._by_role:
            return self._by_role[role]
        options.setdefault("verify_ssl", self._ssl)
        # Requests to the mock go by `_MockRoute`, past pytest-httpx and respx, unless the test gives
        # its own transport or mounts. The pool, for any other host, keeps no idle connection, so
        # none is left behind when an async test's event loop ends.
        options.setdefault("httpx_args", {"limits": httpx.Limits(max_keepalive_connections=0)})
        own_route = {"transport", "mounts"} & set(options["httpx_args"])
        made = (AuthenticatedClient if own_route else _client_class()).from_api_key(
            self.base_url, self.api_key(role), **options
        )
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


# -- the mock's own traffic, past other HTTP mockers ---------------------------------------------
#
# pytest-httpx and respx mock httpx by patching classes while a test runs:
#
#   pytest-httpx (httpx_mock)    httpx.HTTPTransport.handle_request, AsyncHTTPTransport.handle_async_request
#   respx, using="httpcore"      handle_request / handle_async_request of httpcore's ConnectionPool,
#     (respx's default)          HTTPConnection and HTTPProxy, sync and async
#   respx, using="httpx"         httpx.Client._transport_for_url, httpx.AsyncClient._transport_for_url
#
# A request through a patched attribute is theirs: they answer it or refuse it ("not mocked!",
# "No response can be found", which the generated client reports as TransportFailed), and their
# teardown checks count it. The clients `close_mock.client()` hands out send the requests for the
# mock's origin along a path through none of those attributes: the httpx client picks its
# transport by a function set on the instance (a patch of the class cannot reach it), and that
# transport (`_MockRoute`) is neither an HTTPTransport nor a pool: it opens one httpcore
# HTTP11Connection per request itself. So the mockers never see the mock's traffic, whatever
# their settings (what to mock, what to assert, base URLs, catch-all routes) and whenever they
# start (fixture, marker, decorator, context manager; before or after close_mock), since none of
# that changes which attributes they patch. The same client's requests to any other host, and
# every other httpx call of the test, go through the patched classes exactly as before.
# This plugin's live guard patches lower than all of them (httpcore's HTTP/1.1 and HTTP/2
# connections and network backends: see `_guard_live`), which the mock's traffic passes (a
# loopback address is never live). requests, which close_mock.closeio() uses, is patched by
# neither library.


class _Body(httpx.SyncByteStream):
    """An answer's body from a connection of its own, closed with it."""

    def __init__(self, answer: httpcore.Response, connection: httpcore.HTTP11Connection) -> None:
        self.answer, self.connection = answer, connection

    def __iter__(self) -> Iterator[bytes]:
        with map_httpcore_exceptions():
            yield from self.answer.iter_stream()

    def close(self) -> None:
        try:
            self.answer.close()
        finally:
            self.connection.close()


class _AsyncBody(httpx.AsyncByteStream):
    """The async twin of `_Body`."""

    def __init__(self, answer: httpcore.Response, connection: httpcore.AsyncHTTP11Connection) -> None:
        self.answer, self.connection = answer, connection

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with map_httpcore_exceptions():
            async for part in self.answer.aiter_stream():
                yield part

    async def aclose(self) -> None:
        try:
            await self.answer.aclose()
        finally:
            await self.connection.aclose()


class _MockRoute(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """HTTP/1.1 to the mock, one connection per request, past the classes HTTP mockers patch.

    It keeps no connection (a loopback connect costs about 0.1 ms), so nothing outlives an
    async test's event loop and one route serves every client.
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        origin, core, timeout = self._on_the_wire(request)
        with map_httpcore_exceptions():
            stream = httpcore.SyncBackend().connect_tcp(origin.host.decode("ascii"), origin.port, timeout=timeout)
            connection = httpcore.HTTP11Connection(origin=origin, stream=stream)
            try:
                answer = connection.handle_request(core)
            except BaseException:
                connection.close()
                raise
        body = _Body(answer, connection)
        return httpx.Response(answer.status, headers=answer.headers, stream=body, extensions=answer.extensions)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin, core, timeout = self._on_the_wire(request)
        with map_httpcore_exceptions():
            stream = await httpcore.AnyIOBackend().connect_tcp(
                origin.host.decode("ascii"), origin.port, timeout=timeout
            )
            connection = httpcore.AsyncHTTP11Connection(origin=origin, stream=stream)
            try:
                answer = await connection.handle_async_request(core)
            except BaseException:
                await connection.aclose()
                raise
        body = _AsyncBody(answer, connection)
        return httpx.Response(answer.status, headers=answer.headers, stream=body, extensions=answer.extensions)

    @staticmethod
    def _on_the_wire(request: httpx.Request) -> tuple[httpcore.Origin, httpcore.Request, float | None]:
        """The origin to connect to, the request as httpcore sends it, and the connect timeout."""
        url = request.url
        origin = httpcore.Origin(url.raw_scheme, url.raw_host, url.port or 80)
        target = httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path)
        core = httpcore.Request(
            request.method, target, headers=request.headers.raw, content=request.stream, extensions=request.extensions
        )
        timeout: float | None = request.extensions.get("timeout", {}).get("connect")
        return origin, core, timeout


_ROUTE = _MockRoute()


def _pin(client: httpx.Client | httpx.AsyncClient, base_url: str) -> None:
    """Send the client's requests for the mock's origin by `_ROUTE`, the others as its class says."""
    mock = httpx.URL(base_url)
    origin = (mock.scheme, mock.host, mock.port)

    def transport_for_url(url: httpx.URL) -> Any:
        if (url.scheme, url.host, url.port) == origin:
            return _ROUTE
        return type(client)._transport_for_url(client, url)  # type: ignore[arg-type]  # noqa: SLF001 - the class's, patched or not

    vars(client)["_transport_for_url"] = transport_for_url


@functools.cache
def _client_class() -> type[Any]:
    """The generated `AuthenticatedClient`, its httpx clients pinned to the mock (made on first use)."""
    from close_phone_numbers_client import AuthenticatedClient

    class CloseMockClient(AuthenticatedClient):
        """The generated `AuthenticatedClient`; its httpx clients reach the mock past other HTTP mockers."""

        __slots__ = ()

        def get_httpx_client(self) -> httpx.Client:
            fresh = self._client is None
            made = super().get_httpx_client()
            if fresh:
                _pin(made, self._base_url)
            return made

        def get_async_httpx_client(self) -> httpx.AsyncClient:
            fresh = self._async_client is None
            made = super().get_async_httpx_client()
            if fresh:
                _pin(made, self._base_url)
            return made

    return CloseMockClient


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
def _close_live_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Block api.close.com unless the test opts in with `close_live(max_rentals=N)`, cap its rentals, release them."""
    marker = request.node.get_closest_marker("close_live")
    if marker is None:
        refusal = (
            f"{request.node.nodeid} tried to reach api.close.com, the live Close API, where renting costs money. "
            "Use the close_mock fixture, or mark the test @pytest.mark.close_live(max_rentals=N)."
        )
        _guard_live(monkeypatch, None, refusal)
        yield
        return
    cap = marker.kwargs.get("max_rentals")
    if not isinstance(cap, int) or isinstance(cap, bool) or cap < 0:
        raise pytest.UsageError("close_live needs max_rentals=N (N >= 0): renting costs money")
    guard = _guard_live(
        monkeypatch, cap, f"close_live(max_rentals={cap}): the cap is reached; this request was not sent"
    )
    yield
    # Whatever the test did, passed or failed: every number it rented bills monthly until released.
    failed = guard.release()
    if failed:
        warnings.warn(
            f"{request.node.nodeid} rented numbers that could not be released: {', '.join(failed)}; release them "
            "in Close (DELETE /phone_number/{id}/), each bills its monthly price until then",
            pytest.PytestWarning,
            stacklevel=1,
        )


class _LiveGuard:
    """Stops requests to the live API: all of them (`cap` None) or rentals past `cap`; keeps what was rented."""

    def __init__(self, cap: int | None, refusal: str) -> None:
        self.cap = cap
        self.refusal = refusal
        self.rented = 0
        self.held: list[
            tuple[str, str, str | None]
        ] = []  # (URL of the number, its id, the Authorization that rented it)

    def keep(self, origin: str, path: str, authorization: str | None, body: bytes) -> None:
        """Note the number a live rental answered, to release it when the test ends."""
        try:
            number_id = json.loads(body).get("id")
        except (ValueError, AttributeError):
            return
        if isinstance(number_id, str) and number_id:
            base = path.split(contract.OPERATION_PATH, 1)[0]
            self.held.append((f"{origin}{base}/phone_number/{number_id}/", number_id, authorization))

    def kept(self, request: httpcore.Request, response: httpcore.Response, body: bytes) -> httpcore.Response:
        """Keep the number an httpx rental answered; the answer, its body read."""
        url = request.url
        origin = f"{url.scheme.decode()}://{url.host.decode()}" + (f":{url.port}" if url.port else "")
        authorization = next((v.decode("latin-1") for k, v in request.headers if k.lower() == b"authorization"), None)
        self.keep(origin, url.target.decode("latin-1").split("?", 1)[0], authorization, body)
        return httpcore.Response(
            response.status, headers=response.headers, content=body, extensions=response.extensions
        )

    def release(self) -> list[str]:
        """Release every number the test rented, with the credentials that rented it; what could not be."""
        import httpx

        failed = []
        for url, number_id, authorization in self.held:
            headers = {"authorization": authorization} if authorization else {}
            try:
                status = httpx.delete(url, headers=headers, timeout=30).status_code
            except httpx.HTTPError as error:
                failed.append(f"{number_id} ({type(error).__name__})")
                continue
            if not (200 <= status < 300 or status == 404):
                failed.append(f"{number_id} (answered {status})")
        self.held.clear()
        return failed

    def is_rental(self, host: str, method: str, path: str) -> bool:
        return _is_live(host) and method.upper() == "POST" and contract.OPERATION_PATH in path

    def check(self, host: str, method: str, path: str) -> None:
        """Raise LiveCallBlocked before a request that must not go out."""
        if _is_live(host) and (self.cap is None or (self.is_rental(host, method, path) and self.rented >= self.cap)):
            raise LiveCallBlocked(self.refusal)

    def count(self, host: str, method: str, path: str, status: int) -> bool:
        """Count a rental the live API answered; whether it was one."""
        if self.is_rental(host, method, path) and 200 <= status < 300:
            self.rented += 1
            return True
        return False


def _destination(request: httpcore.Request) -> tuple[str, str, str]:
    """Host, method and path of a request on the wire, also through a proxy (absolute or CONNECT target)."""
    method = request.method.decode("ascii", "replace")
    target = request.url.target.decode("ascii", "replace")
    if method == "CONNECT":  # a tunnel to host:port
        return target.rsplit(":", 1)[0], method, ""
    if "://" in target:  # a forward proxy's request names the whole URL
        url = urlsplit(target)
        return url.hostname or "", method, url.path
    return request.url.host.decode("ascii", "replace"), method, target


def _guard_live(monkeypatch: pytest.MonkeyPatch, cap: int | None, refusal: str) -> _LiveGuard:
    """Install the guard on httpx (at httpcore's connections), requests, and host name resolution.

    httpx and requests are checked before they send (so the error is `LiveCallBlocked`
    itself); any other client is stopped when it resolves the host name. For httpx the guard
    sits where a request leaves the process, below every attribute pytest-httpx and respx patch
    (see "The mock's own traffic"): a request one of them answers never reaches it, so a test
    may mock api.close.com with them, and one they let through is stopped, whichever started first.
    """
    guard = _LiveGuard(cap, refusal)
    if cap is None:
        _guard_resolution(monkeypatch, refusal)
        _guard_connects(monkeypatch, refusal)

    def sync(self: Any, request: httpcore.Request, *, original: Any) -> httpcore.Response:
        where = _destination(request)
        guard.check(*where)
        response: httpcore.Response = original(self, request)
        if guard.count(*where, response.status):
            return guard.kept(request, response, response.read())
        return response

    async def asynchronous(self: Any, request: httpcore.Request, *, original: Any) -> httpcore.Response:
        where = _destination(request)
        guard.check(*where)
        response: httpcore.Response = await original(self, request)
        if guard.count(*where, response.status):
            return guard.kept(request, response, await response.aread())
        return response

    # HTTP2Connection is a stand-in without `h2` installed, with no method to guard.
    for sync_class in (httpcore.HTTP11Connection, httpcore.HTTP2Connection):
        if hasattr(sync_class, "handle_request"):
            wrapper = functools.partialmethod(sync, original=sync_class.handle_request)
            monkeypatch.setattr(sync_class, "handle_request", wrapper)
    for async_class in (httpcore.AsyncHTTP11Connection, httpcore.AsyncHTTP2Connection):
        if hasattr(async_class, "handle_async_request"):
            wrapper = functools.partialmethod(asynchronous, original=async_class.handle_async_request)
            monkeypatch.setattr(async_class, "handle_async_request", wrapper)
    _guard_requests(monkeypatch, guard)
    return guard


def _guard_resolution(monkeypatch: pytest.MonkeyPatch, refusal: str) -> None:
    """Refuse to resolve the live API's names (any client but httpx and requests is stopped there)."""
    real_getaddrinfo = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if _is_live(host):
            raise LiveCallBlocked(refusal)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def _guard_connects(monkeypatch: pytest.MonkeyPatch, refusal: str) -> None:
    """Refuse httpcore's connections to the live API, before the name is resolved.

    (Resolution would refuse it too, but inside httpcore, which would report an httpx.ConnectError.)
    """

    def sync(self: Any, host: str, *args: Any, original: Any, **kwargs: Any) -> Any:
        if _is_live(host):
            raise LiveCallBlocked(refusal)
        return original(self, host, *args, **kwargs)

    async def asynchronous(self: Any, host: str, *args: Any, original: Any, **kwargs: Any) -> Any:
        if _is_live(host):
            raise LiveCallBlocked(refusal)
        return await original(self, host, *args, **kwargs)

    backends = (
        (httpcore.SyncBackend, sync),
        (httpcore.AnyIOBackend, asynchronous),
        (httpcore.TrioBackend, asynchronous),
    )
    for backend, wrapper in backends:
        original = getattr(backend, "connect_tcp", None)  # TrioBackend is a stand-in without trio
        if original is not None:
            monkeypatch.setattr(backend, "connect_tcp", functools.partialmethod(wrapper, original=original))


def _guard_requests(monkeypatch: pytest.MonkeyPatch, guard: _LiveGuard) -> None:
    """The guard on requests' HTTPAdapter, if requests is installed."""
    try:
        import requests.adapters
    except ImportError:
        return
    original_send = requests.adapters.HTTPAdapter.send

    def send(self: Any, prepared: Any, *args: Any, **kwargs: Any) -> Any:
        url = urlsplit(str(prepared.url))
        where = (url.hostname or "", str(prepared.method), url.path)
        guard.check(*where)
        response = original_send(self, prepared, *args, **kwargs)
        guard.count(*where, response.status_code)
        if guard.is_rental(*where) and 200 <= response.status_code < 300:
            guard.keep(
                f"{url.scheme}://{url.netloc}", url.path, prepared.headers.get("authorization"), response.content
            )
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)


__all__ = ["KINDS", "CloseMock", "LiveCallBlocked", "close_mock", "close_mock_servers"]
