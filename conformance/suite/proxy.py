"""`close-conformance proxy`: a local reverse proxy that judges the traffic of users' own apps.

Point an app or a test suite at the proxy instead of the API. Each request is forwarded
unchanged (only hop-by-hop headers are dropped, as HTTP requires) and the proxy never adds
one of its own; each exchange is judged as it passes (in a thread of its own, after the
client has its answer), and violations are printed as they happen. On SIGINT or SIGTERM
it writes the report and exits 0 (conformant), 1 (violations) or 2 (nothing with the
endpoint passed). `refuse_invalid` answers a request the contract
forbids itself, with the contract's 400, and never forwards it: it cannot rent.
"""

from __future__ import annotations

import asyncio
import http.client
import queue
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from conformance import jsonbody
from conformance.mock.pipeline import receive_all, validate
from conformance.mock.replies import Refused
from conformance.mock.server import MockServer
from conformance.suite.exchange import CONNECT, DISCONNECT, PROTOCOL, TIMEOUT, Exchange, decoded
from conformance.suite.guard import HOP_BY_HOP
from conformance.suite.judge import Judge
from conformance.suite.traffic import exchange_of, redacted, traffic_report

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from conformance.contract import Contract
    from conformance.suite.findings import Report


Answer = tuple[int, list[tuple[str, str]], bytes]
JUDGE_DEFERRAL = 0.05  # seconds the judge waits for no request in flight before judging anyway


class Proxy:
    """The proxy server, its judge and its ledger."""

    def __init__(
        self,
        upstream: str,
        contract: Contract,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        refuse_invalid: bool = False,
        timeout: float = 60.0,
        on_finding: Callable[[Exchange, str, str], None] | None = None,
    ) -> None:
        parts = urlsplit(upstream)
        self.upstream_origin = f"{parts.scheme}://{parts.netloc}"
        self.upstream_prefix = parts.path.rstrip("/")
        self.contract = contract
        self.refuse_invalid = refuse_invalid
        self.judge = Judge(contract)
        self.exchanges: list[Exchange] = []
        self.with_secrets: list[Exchange] = []
        self.lock = threading.Lock()
        self.on_finding = on_finding
        self.upstream = Upstream(parts.scheme, parts.hostname or "", parts.port, timeout)
        # Judging happens off the request path: the client gets its answer first. The judge also
        # waits (up to JUDGE_DEFERRAL) for a moment with no request in flight, since it shares the
        # interpreter lock with the relay: judging during a burst added about 0.4 ms at p50.
        self.pending: queue.Queue[Exchange | None] = queue.Queue()
        self.in_flight = 0
        self.idle = threading.Condition()
        self.judging = threading.Thread(target=self._judge_forever, name="conformance-judge", daemon=True)
        self.workers = ThreadPoolExecutor(max_workers=32, thread_name_prefix="conformance-proxy")
        self.server = MockServer(_asgi(self), host=host, port=port)  # uvicorn on our socket, in a thread

    @property
    def origin(self) -> str:
        """Where clients send their requests."""
        return self.server.origin

    def __enter__(self) -> Self:
        self.judging.start()
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(None, None, None)
        self.workers.shutdown(wait=True)
        self.upstream.close()
        self.pending.put(None)
        self.judging.join(timeout=60)

    def started(self) -> None:
        """A request came in (the front calls it before relaying)."""
        with self.idle:
            self.in_flight += 1

    def finished(self) -> None:
        """A request was answered."""
        with self.idle:
            self.in_flight -= 1
            if self.in_flight == 0:
                self.idle.notify_all()

    def _judge_forever(self) -> None:
        while (exchange := self.pending.get()) is not None:
            # At most JUDGE_DEFERRAL after the exchange began: under sustained load the judge
            # falls no further behind than that, and judges without pause once it has.
            wait = exchange.started + JUDGE_DEFERRAL - time.time()
            if wait > 0:
                with self.idle:
                    self.idle.wait_for(lambda: self.in_flight == 0, timeout=wait)
            try:
                for check, message in self.judge.judge(exchange):
                    if self.on_finding is not None:
                        self.on_finding(exchange, check, message)
            finally:
                self.pending.task_done()
        self.pending.task_done()

    def relay(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> tuple[Exchange, Answer]:
        """Forward one request unchanged (or refuse it), judge the exchange, record it; return the answer."""
        upstream_path = self.upstream_prefix + path
        with self.lock:
            number = len(self.exchanges) + 1
        exchange, secret = exchange_of(
            number, self.contract, method, self.upstream_origin + upstream_path,
            request_headers=headers, request_body=decoded(headers, body),  # judged as the server reads it
        )  # fmt: skip
        exchange.started = time.time()
        refused = self._refusal(exchange) if self.refuse_invalid else None
        if refused is not None:
            exchange.blocked = "refused by the proxy: the contract forbids this request (--refuse-invalid)"
            exchange.status, exchange.response_headers, exchange.response_body = answer = refused
        else:
            answer = self._forward(exchange, upstream_path, headers, body)
        with self.lock:
            self.exchanges.append(exchange)
            if secret:
                self.with_secrets.append(exchange)
        if refused is None:
            self.pending.put(exchange)
        return exchange, answer

    def _refusal(self, exchange: Exchange) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """The contract's 400 for a request to the endpoint whose body the contract forbids, else None."""
        if exchange.method != "POST" or not self.judge.is_endpoint(exchange) or exchange.allowed_body:
            return None
        try:
            validate(jsonbody.read_strict(exchange.body), self.contract)
            reply = None
        except jsonbody.NotJSON as error:
            from conformance.mock.replies import refusal

            reply = refusal(400, f"The request body is not valid JSON: {error}", errors=[str(error)]).reply
        except Refused as refusal_raised:
            reply = refusal_raised.reply
        if reply is None:
            return None
        return reply.status, [("content-type", "application/json")], reply.encode()

    def _forward(self, exchange: Exchange, path: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        """Send the request as it came; record the answer (decoded, secrets hidden) for the judge."""
        # Content-Encoding is end to end: a compressed body goes on compressed, and says so.
        outgoing = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP or k.lower() == "content-encoding"]
        began = time.monotonic()
        exchange.attempts = 1
        try:
            status, answer_headers, payload = self.upstream.send(exchange.method, path, outgoing, body)
        except (OSError, http.client.HTTPException) as error:
            exchange.error = f"{type(error).__name__}: {error}"[:300]
            exchange.failure = transport_failure_kind(error)
            exchange.elapsed = time.monotonic() - began
            message = f"Bad Gateway: the upstream did not answer ({type(error).__name__})".encode()
            return 502, [("content-type", "text/plain")], message
        exchange.elapsed = time.monotonic() - began
        exchange.status = status
        exchange.response_headers = redacted([(k, v) for k, v in answer_headers if k.lower() != "content-encoding"])[0]
        exchange.response_body = decoded(answer_headers, payload)
        kept = [(k, v) for k, v in answer_headers if k.lower() not in HOP_BY_HOP or k.lower() == "content-encoding"]
        return status, kept, payload

    def report(self) -> Report:
        """The report of everything that passed (CannotTest when nothing with the endpoint did)."""
        self.pending.join()  # every exchange judged
        with self.lock:
            exchanges, with_secrets = list(self.exchanges), list(self.with_secrets)
        target = self.upstream_origin + self.upstream_prefix
        return traffic_report(
            "proxy", target, self.contract, self.judge, exchanges, with_secrets=with_secrets,
            origin=self.upstream_origin,
        )  # fmt: skip


class Upstream:
    """Keep-alive connections to the upstream, reused across requests (http.client: little per-request cost)."""

    def __init__(self, scheme: str, host: str, port: int | None, timeout: float) -> None:
        self.scheme, self.host, self.port, self.timeout = scheme, host, port, timeout
        self.idle: queue.SimpleQueue[http.client.HTTPConnection] = queue.SimpleQueue()

    def _connection(self) -> http.client.HTTPConnection:
        try:
            return self.idle.get_nowait()
        except queue.Empty:
            kind = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            return kind(self.host, self.port, timeout=self.timeout)

    def send(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        """One request and its whole answer; a connection that failed is not reused."""
        connection = self._connection()
        try:
            connection.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            if body or method in ("POST", "PUT", "PATCH"):
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body or None)
            response = connection.getresponse()
            payload = response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            self.idle.put(connection)
        return response.status, response.getheaders(), payload

    def close(self) -> None:
        """Close every idle connection."""
        while True:
            try:
                self.idle.get_nowait().close()
            except queue.Empty:
                return


def transport_failure_kind(error: BaseException) -> str:
    """The kind of a failure to get an answer from the upstream (see `exchange.failure_kind`)."""
    if isinstance(error, ConnectionRefusedError | socket.gaierror):
        return CONNECT
    if isinstance(error, TimeoutError):
        return TIMEOUT
    if isinstance(error, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError):
        return DISCONNECT
    return PROTOCOL


def _asgi(proxy: Proxy) -> Callable[..., Awaitable[None]]:
    """The proxy's ASGI front (served by uvicorn): each request is relayed in a worker thread."""

    async def app(
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        proxy.started()
        try:
            await relay(scope, receive, send)
        finally:
            proxy.finished()

    async def relay(
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        body = await receive_all(receive)
        path = scope["raw_path"].decode("latin-1") + (
            f"?{scope['query_string'].decode('latin-1')}" if scope["query_string"] else ""
        )
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        loop = asyncio.get_running_loop()
        _exchange, (status, answer_headers, payload) = await loop.run_in_executor(
            proxy.workers, proxy.relay, scope["method"], path, headers, body
        )
        out = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer_headers
               if k.lower() not in ("content-length", "date", "server")]  # fmt: skip
        out.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": payload})

    return app
