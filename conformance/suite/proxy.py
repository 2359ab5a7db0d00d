"""`close-conformance proxy`: a local reverse proxy that judges the traffic of users' own apps.

Point an app or a test suite at the proxy instead of the API, with or without the API's base
path (`http://127.0.0.1:PORT` or `http://127.0.0.1:PORT/api/v1`: both reach the upstream's
endpoint). Each request is forwarded unchanged (only hop-by-hop headers are dropped, as HTTP
requires) and the proxy never adds one of its own; each exchange is judged as it passes (in a
thread of its own, after the client has its answer), and violations are printed as they
happen. A failure to reach the upstream is answered 502 and recorded: it is the server's
failure. `refuse_invalid` answers a request the contract forbids itself, with the contract's
400, and never forwards it: it cannot rent.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Self
from urllib.parse import urlsplit

from conformance.serving import Server
from conformance.suite import checks, wire
from conformance.suite.conclusion import Evidence, Source
from conformance.suite.exchange import CONNECT, Exchange, decoded
from conformance.suite.judge import Judge
from conformance.suite.traffic import lifecycle_of, traffic_warnings

if TYPE_CHECKING:
    from collections.abc import Callable

    from conformance.contract import Contract

JUDGE_DEFERRAL = 0.05  # seconds the judge waits for no request in flight before judging anyway


class Proxy:
    """The proxy server, its judge and its record of exchanges."""

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
        self.judge = Judge(contract, base_path=self.upstream_prefix)
        self.exchanges: list[Exchange] = []
        self.lock = threading.Lock()
        self.on_finding = on_finding
        self.started_at = time.time()
        self.began = time.monotonic()
        self.pool = wire.Pool(self.upstream_origin, timeout)
        # Judging happens off the request path: the client gets its answer first. The judge also
        # waits (up to JUDGE_DEFERRAL) for a moment with no request in flight, since it shares the
        # interpreter lock with the relay: judging during a burst added about 0.4 ms at p50.
        self.pending: queue.Queue[Exchange | None] = queue.Queue()
        self.in_flight = 0
        self.idle = threading.Condition()
        self.judging = threading.Thread(target=self._judge_forever, name="conformance-judge", daemon=True)
        self.workers = ThreadPoolExecutor(max_workers=32, thread_name_prefix="conformance-proxy")
        front = wire.front(self.relay, self.workers, started=self._started, finished=self._finished)
        self.server = Server(front, host=host, port=port)

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
        self.pool.close()
        self.pending.put(None)
        self.judging.join(timeout=60)

    def _started(self) -> None:
        with self.idle:
            self.in_flight += 1

    def _finished(self) -> None:
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
                for finding in self.judge.judge(exchange):
                    if self.on_finding is not None:
                        self.on_finding(exchange, finding.key, finding.problem.message)
            finally:
                self.pending.task_done()
        self.pending.task_done()

    def upstream_path(self, path: str) -> str:
        """The path at the upstream: the app may have kept the API's base path in its base URL, or not."""
        prefix = self.upstream_prefix
        if prefix and (path == prefix or path.startswith((prefix + "/", prefix + "?"))):
            return path
        return prefix + path

    def relay(self, method: str, path: str, headers: wire.Headers, body: bytes) -> wire.Answer:
        """Forward one request unchanged (or refuse it); record the exchange for the judge; return the answer."""
        upstream_path = self.upstream_path(path)
        with self.lock:
            number = len(self.exchanges) + 1
        exchange, _secret = wire.exchange(
            number, self.contract, method, self.upstream_origin + upstream_path, headers=headers, body=body
        )
        exchange.started = time.time()
        refused = self._refusal(exchange) if self.refuse_invalid else None
        if refused is not None:
            return refused  # never forwarded, so not an exchange with the server
        answer = self._forward(exchange, upstream_path, headers, body)
        with self.lock:
            exchange.number = len(self.exchanges) + 1
            self.exchanges.append(exchange)
        self.pending.put(exchange)
        return answer

    def _refusal(self, exchange: Exchange) -> wire.Answer | None:
        """The contract's 400 for a rental request the contract forbids, else None."""
        match = self.contract.match(exchange.method, exchange.path)
        if match is None or match.operation is None or match.operation.id != self.contract.rental.id:
            return None
        _body, faults = checks.request_faults(self.contract, exchange)
        if not faults:
            return None
        named = {fault.field: fault.what for fault in faults if fault.field}
        general = [fault.what for fault in faults if not fault.field]
        reason = "; ".join(fault.what for fault in faults)
        body: dict[str, object] = {
            "status": "error",
            "error": f"Invalid request (refused by the proxy): {reason}"[:1000],
        }
        body |= {"errors": general, "field-errors": named}
        status = 415 if all(fault.kind == "content-type" for fault in faults) else 400
        return status, [("content-type", "application/json")], json.dumps(body).encode()

    def _forward(self, exchange: Exchange, path: str, headers: wire.Headers, body: bytes) -> wire.Answer:
        """Send the request as it came; record the answer (decoded, secrets hidden) for the judge."""
        outgoing = wire.end_to_end(headers)
        began = time.monotonic()
        try:
            (status, answer_headers, payload), _ = self.pool.send(exchange.method, path, outgoing, body)
        except wire.TransportFailure as failure:
            exchange.error, exchange.failure = str(failure)[:300], failure.kind
            exchange.elapsed = time.monotonic() - began
            what = "could not connect to the upstream" if failure.kind == CONNECT else "the upstream did not answer"
            return 502, [("content-type", "text/plain")], f"Bad Gateway: {what} ({failure})".encode()
        exchange.elapsed = time.monotonic() - began
        exchange.status = status
        exchange.response_headers = wire.redacted(wire.recorded(answer_headers))[0]
        exchange.response_body = decoded(answer_headers, payload)
        return status, answer_headers, payload

    def evidence(self) -> Evidence:
        """Everything that passed, judged (every exchange judged before this returns)."""
        self.pending.join()
        with self.lock:
            exchanges = list(self.exchanges)
        source = Source(
            "proxy", self.upstream_origin + self.upstream_prefix, self.upstream_origin, self.contract, "proxied"
        )
        evidence = Evidence(source, exchanges, self.judge.verdicts, started=self.started_at)
        evidence.duration = time.monotonic() - self.began
        evidence.lifecycle = lifecycle_of(self.judge)
        evidence.warnings = traffic_warnings(self.judge, exchanges)
        return evidence
