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

import contextlib
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import httpx

from conformance import jsonbody
from conformance.mock.pipeline import validate
from conformance.mock.replies import Refused
from conformance.suite.exchange import Exchange, failure_kind
from conformance.suite.guard import HOP_BY_HOP, read_body
from conformance.suite.judge import Judge
from conformance.suite.traffic import exchange_of, redacted, traffic_report

if TYPE_CHECKING:
    from collections.abc import Callable

    from conformance.contract import Contract
    from conformance.suite.findings import Report


Answer = tuple[int, list[tuple[str, str]], bytes]


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
        self.client = httpx.Client(
            base_url=self.upstream_origin,
            timeout=timeout,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        )
        # Judging happens off the request path: the client gets its answer first.
        self.pending: queue.Queue[Exchange | None] = queue.Queue()
        self.judging = threading.Thread(target=self._judge_forever, name="conformance-judge", daemon=True)
        self.server = ThreadingHTTPServer((host, port), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="conformance-proxy", daemon=True)

    @property
    def origin(self) -> str:
        """Where clients send their requests."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Self:
        self.judging.start()
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.client.close()
        self.pending.put(None)
        self.judging.join(timeout=60)

    def _judge_forever(self) -> None:
        while (exchange := self.pending.get()) is not None:
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
            request_headers=headers, request_body=body,
        )  # fmt: skip
        exchange.started = time.time()
        refused = self._refusal(exchange) if self.refuse_invalid else None
        if refused is not None:
            exchange.blocked = "refused by the proxy: the contract forbids this request (--refuse-invalid)"
            exchange.status, exchange.response_headers, exchange.response_body = answer = refused
        else:
            answer = self._forward(exchange, upstream_path, headers)
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

    def _forward(self, exchange: Exchange, path: str, headers: list[tuple[str, str]]) -> Answer:
        """Send the request as it came; record the answer with its secrets (cookies) hidden."""
        outgoing = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]
        began = time.monotonic()
        exchange.attempts = 1
        try:
            response = self.client.request(exchange.method, path, headers=outgoing, content=exchange.body)
        except (httpx.HTTPError, ValueError, UnicodeError) as error:
            exchange.error = f"{type(error).__name__}: {error}"[:300]
            exchange.failure = failure_kind(error)
            exchange.elapsed = time.monotonic() - began
            message = f"Bad Gateway: the upstream did not answer ({type(error).__name__})".encode()
            return 502, [("content-type", "text/plain")], message
        exchange.elapsed = time.monotonic() - began
        answer_headers = [(k, v) for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP]
        exchange.status = response.status_code
        exchange.response_headers = redacted(answer_headers)[0]
        exchange.response_body = response.content
        return response.status_code, answer_headers, response.content

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


def _handler_for(proxy: Proxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _relay(self) -> None:
            try:
                body = read_body(
                    self.rfile, self.headers.get("transfer-encoding", ""), self.headers.get("content-length")
                )
            except ValueError:
                self.send_error(400, "malformed chunked body")
                return
            _exchange, (status, headers, payload) = proxy.relay(
                self.command, self.path, list(self.headers.items()), body
            )
            with contextlib.suppress(OSError):
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("content-length", "date", "server"):
                        self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            """Violations are printed by the proxy itself; no access log (it would show paths with secrets)."""

        def __getattr__(self, name: str) -> Any:
            if name.startswith("do_"):
                return self._relay
            raise AttributeError(name)

    return Handler
